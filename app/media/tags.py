"""Tags: one per normalised name, added and removed on assets one by one or in bulk, renamed
and merged by admins. Every change writes an audit event.

Normalisation folds case (Unicode case folding) and collapses spaces but keeps accents, so
"Été 2026", "été  2026" and "ÉTÉ 2026" are one tag while "Ete 2026" stays another: in French an
accent can change the word. The name as first typed is kept for display.
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l, ngettext
from sqlalchemy.dialects.postgresql import insert

from app import audit
from app.extensions import db
from app.models import MediaAsset, Tag, media_tags
from app.search import schedule_media_sync

MAX_LENGTH = 80


class TagError(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def display_name(raw: str) -> str:
    return " ".join(unicodedata.normalize("NFC", raw).split())


def normalize(raw: str) -> str:
    return display_name(raw).casefold()


def _checked(raw: str) -> str:
    name = display_name(raw)
    if not name:
        raise TagError(_l("Type a tag."))
    if len(normalize(name)) > MAX_LENGTH or len(name) > MAX_LENGTH:  # folding may lengthen: ß -> ss
        raise TagError(_l("A tag has at most %(max)d characters.", max=MAX_LENGTH))
    return name


def get_or_create(raw: str) -> Tag:
    name = _checked(raw)
    db.session.execute(
        insert(Tag).values(name=name, normalized=normalize(name)).on_conflict_do_nothing(index_elements=["normalized"])
    )
    return db.session.scalar(sa.select(Tag).where(Tag.normalized == normalize(name)))


def suggestions(prefix: str, limit: int = 20) -> list[Tag]:
    query = sa.select(Tag).order_by(Tag.normalized).limit(limit)
    if prefix.strip():
        pattern = normalize(prefix).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(Tag.normalized.like(pattern, escape="\\"))
    return list(db.session.scalars(query))


def all_with_counts() -> list[tuple[Tag, int]]:
    count = sa.func.count(media_tags.c.media_asset_id)
    return list(
        db.session.execute(
            sa.select(Tag, count)
            .outerjoin(media_tags, media_tags.c.tag_id == Tag.id)
            .group_by(Tag.id)
            .order_by(Tag.normalized)
        )
    )


def get(tag_id: int) -> Tag | None:
    return db.session.get(Tag, tag_id)


def tag_assets(assets: list[MediaAsset], raw: str, user) -> tuple[Tag, list[MediaAsset]]:
    """Add the tag to each asset; returns it and the assets that did not have it yet."""
    tag = get_or_create(raw)
    added = []
    for asset in assets:
        inserted = db.session.execute(
            insert(media_tags)
            .values(media_asset_id=asset.id, tag_id=tag.id)
            .on_conflict_do_nothing()
            .returning(media_tags.c.tag_id)
        ).first()
        if inserted:
            added.append(asset)
            audit.record("media.tagged", asset, actor=user, data={"tag": tag.name, "tag_id": tag.id})
    _refresh(assets)
    return tag, added


def untag_assets(assets: list[MediaAsset], tag: Tag, user) -> list[MediaAsset]:
    removed = []
    for asset in assets:
        deleted = db.session.execute(
            sa.delete(media_tags)
            .where(media_tags.c.media_asset_id == asset.id, media_tags.c.tag_id == tag.id)
            .returning(media_tags.c.tag_id)
        ).first()
        if deleted:
            removed.append(asset)
            audit.record("media.untagged", asset, actor=user, data={"tag": tag.name, "tag_id": tag.id})
    _refresh(assets)
    return removed


def find(raw: str) -> Tag | None:
    return db.session.scalar(sa.select(Tag).where(Tag.normalized == normalize(raw)))


def _refresh(assets: list[MediaAsset]) -> None:
    for asset in assets:
        db.session.expire(asset, ["tags"])
    schedule_media_sync(db.session(), [asset.id for asset in assets])


def _sync_tagged(tag: Tag) -> None:
    """Every asset carrying `tag` is re-indexed (its name or identity changed)."""
    ids = db.session.scalars(sa.select(media_tags.c.media_asset_id).where(media_tags.c.tag_id == tag.id))
    schedule_media_sync(db.session(), list(ids))


def rename(tag: Tag, raw: str, user) -> Tag:
    """Rename; a name that normalises to another tag's merges this one into it."""
    name = _checked(raw)
    other = find(name)
    if other is not None and other.id != tag.id:
        return merge(tag, other, user)
    audit.record("tag.renamed", tag, actor=user, data={"from": tag.name, "to": name})
    tag.name, tag.normalized = name, normalize(name)
    _sync_tagged(tag)
    return tag


def merge(source: Tag, target: Tag, user) -> Tag:
    """Move every asset of `source` to `target` (once each) and delete `source`."""
    if source.id == target.id:
        raise TagError(_l("A tag cannot be merged into itself."))
    moved = sa.select(media_tags.c.media_asset_id, sa.literal(target.id)).where(media_tags.c.tag_id == source.id)
    db.session.execute(insert(media_tags).from_select(["media_asset_id", "tag_id"], moved).on_conflict_do_nothing())
    audit.record("tag.merged", target, actor=user, data={"from": source.name, "from_id": source.id})
    _sync_tagged(target)
    db.session.delete(source)
    db.session.flush()
    db.session.expire_all()
    return target


def bulk(assets: list[MediaAsset], raw: str, action: str, user) -> str:
    """Tag or untag the selected assets in one action; returns what to tell the user."""
    if not assets:
        raise TagError(_l("Select at least one file."))
    if action == "remove":
        tag = find(raw)
        if tag is None:
            raise TagError(_l("No tag is named “%(name)s”.", name=display_name(raw)))
        done = untag_assets(assets, tag, user)
        return ngettext(
            "Tag “%(tag)s” removed from %(num)d file.",
            "Tag “%(tag)s” removed from %(num)d files.",
            len(done),
            tag=tag.name,
        )
    tag, done = tag_assets(assets, raw, user)
    return ngettext(
        "Tag “%(tag)s” added to %(num)d file.", "Tag “%(tag)s” added to %(num)d files.", len(done), tag=tag.name
    )
