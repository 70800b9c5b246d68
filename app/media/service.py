"""The library's questions and the asset-level changes: listing with filters and keyset
pagination, the detail of one asset, the campaigns that use it, its title, description and alt
text, deleting it, sending a failed upload again."""

from __future__ import annotations

import re
import shutil
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from functools import partial

import sqlalchemy as sa
from flask import abort, current_app
from flask_babel import format_decimal, lazy_gettext as _l, to_utc
from sqlalchemy.orm import selectinload

from app import audit
from app.dates import DATE_ERROR, format_date, parse_date
from app.extensions import db
from app.media.links import signed_media_url
from app.media.tags import normalize
from app.models import Campaign, ContentObject, MediaAsset, MediaKind, ObjectStatus, Platform, Role, Tag, User
from app.storage import StorageUnavailable, get_storage, media_root, transfers, version_cache
from app.tasks import by_name, call_after_commit, send_after_commit
from app.search import fits, schedule_media_sync

discard_media = by_name("discard_media")

PAGE_SIZE = 24
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class InUse(Exception):
    pass


class CannotRetry(Exception):
    """The asset has no failed upload to send again; the message says why, for the user."""


class FieldError(Exception):
    """A title, description or alt text refused; the message says why, for the user."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Field:
    """One of the asset's words, edited inline on its page and saved on its own."""

    name: str
    label: str
    hint: str
    multiline: bool
    max_length: int
    required: bool = False


# X takes alt texts of 1,000 characters at most (POST /2/media/metadata, `alt_text.text`,
# docs.x.com "Create Media metadata"), the shortest limit of the networks that take one.
FIELDS = {
    f.name: f
    for f in (
        Field(
            "title",
            _l("Title"),
            _l("How the file is named in the library and in search results."),
            False,
            200,
            required=True,
        ),
        Field("description", _l("Description"), _l("Notes for the team: where, who, rights, credits."), True, 5000),
        Field(
            "alt_text",
            _l("Alt text"),
            _l("What the image shows, for people who cannot see it. Sent to the networks that take it."),
            True,
            1000,
        ),
    )
}


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _networks(values: list[str]) -> tuple[str, ...]:
    """Known network names, each once, in the order of app/networks.py's rules."""
    return tuple(p.value for p in fits.NETWORKS if p.value in values)


@dataclass(frozen=True)
class Filters:
    """What the library and the picker can be narrowed by; unreadable values are ignored, and a
    date that is not one is kept as typed (`unread`) so the field shows it with its error.

    `fits`: networks every file must fit (the library's checkboxes and chips). The picker of a
    post form also gets the post's target networks (`for`) and keeps only the files that fit
    every one of them unless told otherwise (`anyfit`), app/search/fits.py."""

    kind: str = ""
    tag: str = ""
    uploader: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    fits: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    anyfit: bool = False
    unread: tuple[tuple[str, str], ...] = ()  # (date filter name, text typed) not understood

    @classmethod
    def from_args(cls, args, prefix: str = "") -> "Filters":
        """`prefix` keeps the picker's filter fields apart from those of the form it sits in.
        Dates come day-first as typed (14/07/2027) or ISO as links carry them (2027-07-14)."""
        kind = args.get(prefix + "kind", "")
        typed = {name: args.get(prefix + name, "").strip()[:20] for name in ("date_from", "date_to")}
        days = {name: parse_date(text) if text else None for name, text in typed.items()}
        # The picker's "fits every target" box: a hidden `anyfit=1` that the box, ticked, overrides with 0.
        anyfit = args.getlist(prefix + "anyfit")
        return cls(
            kind=kind if kind in {k.value for k in MediaKind} else "",
            tag=" ".join(args.get(prefix + "tag", "").split())[:80],
            uploader=_int(args.get(prefix + "uploader")),
            **days,
            fits=_networks(args.getlist(prefix + "fits")),
            targets=_networks(args.getlist(prefix + "for")),
            anyfit="1" in anyfit and "0" not in anyfit,
            unread=tuple((name, text) for name, text in typed.items() if text and days[name] is None),
        )

    def query_args(self, prefix: str = "") -> dict:
        """The filters as a link carries them: dates in ISO; what was not understood left out."""
        names = {"targets": "for"}
        return {
            prefix + names.get(k, k): (
                v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple) else "1" if v is True else v
            )
            for k, v in asdict(self).items()
            if v and k != "unread"
        }

    @property
    def required_fits(self) -> tuple[str, ...]:
        """The networks every file shown must fit: those asked, and the targets unless `anyfit`."""
        return tuple(dict.fromkeys(self.fits + (() if self.anyfit else self.targets)))

    def date_text(self, name: str) -> str:
        """What a date field shows: the day, day first, else the text typed that is not a date."""
        return format_date(getattr(self, name)) or dict(self.unread).get(name, "")

    def date_error(self, name: str) -> str | None:
        return str(DATE_ERROR) if name in dict(self.unread) else None

    @property
    def active(self) -> bool:
        """A filter of the library's is on (the picker's target networks are the host's, not one)."""
        return bool(replace(self, targets=(), anyfit=False).query_args())


@dataclass
class Page:
    items: list[MediaAsset]
    next_cursor: str | None


def _local_midnight_utc(day: date) -> datetime:
    return to_utc(datetime.combine(day, time.min)).replace(tzinfo=timezone.utc)


def _filtered(filters: Filters) -> sa.Select:
    query = sa.select(MediaAsset).options(selectinload(MediaAsset.tags))
    if filters.kind:
        query = query.where(MediaAsset.kind == MediaKind(filters.kind))
    if filters.tag:
        query = query.where(MediaAsset.tags.any(Tag.normalized == normalize(filters.tag)))
    if filters.uploader:
        query = query.where(MediaAsset.uploaded_by_id == filters.uploader)
    if filters.date_from:
        query = query.where(MediaAsset.created_at >= _local_midnight_utc(filters.date_from))
    if filters.date_to:
        query = query.where(MediaAsset.created_at < _local_midnight_utc(filters.date_to + timedelta(days=1)))
    for network in filters.required_fits:
        query = query.where(
            fits.condition(Platform(network), MediaAsset.kind, MediaAsset.size_bytes, MediaAsset.duration_s)
        )
    return query


def encode_cursor(asset: MediaAsset) -> str:
    return f"{(asset.created_at - EPOCH) // timedelta(microseconds=1)}-{asset.id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    micros, _, asset_id = (cursor or "").partition("-")
    if not (micros.isdigit() and asset_id.isdigit()):
        return None
    return EPOCH + timedelta(microseconds=int(micros)), int(asset_id)


def library_page(filters: Filters, cursor: str | None = None, limit: int = PAGE_SIZE) -> Page:
    """Newest first; the cursor is the (created_at, id) of the last asset already shown."""
    query = _filtered(filters).order_by(MediaAsset.created_at.desc(), MediaAsset.id.desc())
    after = decode_cursor(cursor)
    if after:
        query = query.where(sa.tuple_(MediaAsset.created_at, MediaAsset.id) < sa.tuple_(*after))
    rows = list(db.session.scalars(query.limit(limit + 1)))
    return Page(rows[:limit], encode_cursor(rows[limit - 1]) if len(rows) > limit else None)


def uploaders() -> list[User]:
    ids = sa.select(MediaAsset.uploaded_by_id).where(MediaAsset.uploaded_by_id.is_not(None)).distinct()
    return list(db.session.scalars(sa.select(User).where(User.id.in_(ids)).order_by(User.name)))


def get_asset(asset_id: int, *, lock: bool = False) -> MediaAsset:
    asset = db.session.get(MediaAsset, asset_id, with_for_update=lock or None)
    if asset is None:
        abort(404)
    return asset


def get_readable(asset_id: int, user) -> MediaAsset:
    """The asset `user` may open, or 404. Editors open any; approvers those that a post they
    may read uses (in review or decided, reviews.may_read): an asset used only by drafts, or
    by nothing, answers them as a missing id does."""
    asset = get_asset(asset_id)
    if not user.has_role(Role.EDITOR) and not db.session.scalar(sa.select(_submitted_uses(asset.id).exists())):
        abort(404)
    return asset


def _submitted_uses(asset_id: int) -> sa.Select:
    from app.versions import posts_using

    return sa.select(ContentObject.campaign_id).where(
        ContentObject.id.in_(posts_using(asset_id)), ContentObject.status != ObjectStatus.DRAFT
    )


def assets_in_order(ids: list[int]) -> list[MediaAsset]:
    """The assets named by `ids`, in that order, unknown ids dropped."""
    found = {a.id: a for a in db.session.scalars(sa.select(MediaAsset).where(MediaAsset.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def change_selection(
    ids: list[int], *, add: int | None = None, remove: int | None = None, up: int | None = None, down: int | None = None
) -> list[int]:
    """The picker's ordered selection after one click (each id once, order kept)."""
    ids = list(dict.fromkeys(ids))
    if add is not None and add not in ids:
        ids.append(add)
    if remove in ids:
        ids.remove(remove)
    for moved, step in ((up, -1), (down, 1)):
        if moved in ids and 0 <= ids.index(moved) + step < len(ids):
            i = ids.index(moved)
            ids[i], ids[i + step] = ids[i + step], ids[i]
    return ids


def campaigns_using(asset: MediaAsset, *, submitted_only: bool = False) -> list[Campaign]:
    """The campaigns whose posts use `asset`; `submitted_only`: through posts past the draft
    (what an approver sees of them)."""
    from app.versions import posts_using

    objects = (
        _submitted_uses(asset.id)
        if submitted_only
        else sa.select(ContentObject.campaign_id).where(ContentObject.id.in_(posts_using(asset.id)))
    )
    return list(db.session.scalars(sa.select(Campaign).where(Campaign.id.in_(objects)).order_by(Campaign.name)))


def detail(asset: MediaAsset, *, editor: bool = True) -> dict:
    """The asset page's content; a reader who is not an editor (an approver) gets no public
    link and only the campaigns of the posts submitted to them."""
    campaigns, storage_failure = campaigns_using(asset, submitted_only=not editor), transfers.storage_failure(asset)
    shared = editor and (asset.storage_item_id or transfers.pending(asset))
    return {
        "asset": asset,
        "fields": field_rows(asset),
        "campaigns": campaigns,
        "can_delete": editor and not campaigns,
        "storage_failure": storage_failure,
        "versions": _versions(asset),
        "uploading": transfers.pending(asset) and not storage_failure,
        "public_link": signed_media_url(asset) if shared else None,
        "link_hours": format_decimal(current_app.config["MEDIA_LINK_MAX_AGE"] / 3600, format="#,##0.#"),
    }


def _versions(asset: MediaAsset) -> list:
    """The stored versions, newest first; empty while the first one is still uploading, and
    when the backend cannot be reached (the page still shows, without them)."""
    if asset.storage_item_id is None:
        return []
    storage = get_storage(asset.storage_backend)
    try:
        if not storage.deferred:  # a folder listing: nothing to save
            return storage.versions(asset.storage_item_id)
        return version_cache.versions(asset.id, asset.storage_version, partial(storage.versions, asset.storage_item_id))
    except StorageUnavailable:
        return []


def clean_title(filename: str) -> str:
    """A file's name as a title: no extension, separators as spaces ("IMG_2041-final.jpg" ->
    "IMG 2041 final")."""
    stem = filename.rpartition(".")[0] if "." in filename.strip(".") else filename
    words = " ".join(re.sub(r"[_.\-+]+", " ", stem).split())
    return (words or filename)[: FIELDS["title"].max_length]


def name_upload(asset: MediaAsset) -> None:
    """A new upload is titled after its file's name, cleaned (the caller commits)."""
    asset.title = clean_title(asset.filename)


def field_rows(
    asset: MediaAsset, *, values: dict | None = None, errors: dict | None = None, saved: str | None = None
) -> list[dict]:
    """The page's editable fields with their value (what was typed, after a refusal), error and
    whether it was just saved."""
    values, errors = values or {}, errors or {}
    return [
        {
            "field": f,
            "value": values.get(f.name, getattr(asset, f.name)),
            "error": errors.get(f.name),
            "saved": saved == f.name,
        }
        for f in FIELDS.values()
    ]


def update_field(asset: MediaAsset, name: str, value: str, user) -> bool:
    """Set one of the asset's words (the caller commits); whether it changed."""
    field = FIELDS.get(name)
    if field is None:
        abort(404)
    value = value.strip() if field.multiline else " ".join(value.split())
    if field.required and not value:
        raise FieldError(_l("The title cannot be empty."))
    if len(value) > field.max_length:
        raise FieldError(_l("At most %(n)d characters.", n=field.max_length))
    if getattr(asset, name) == value:
        return False
    audit.record(f"media.{name}_changed", asset, actor=user, data={"from": getattr(asset, name), "to": value})
    setattr(asset, name, value)
    schedule_media_sync(db.session(), [asset.id])
    return True


def missing_alt_text(assets: list[MediaAsset]) -> list[MediaAsset]:
    """The images among `assets` without an alt text, when the setting requires one (else none)."""
    if not current_app.config.get("MEDIA_ALT_TEXT_REQUIRED"):
        return []
    return [a for a in assets if a.kind is MediaKind.IMAGE and not (a.alt_text or "").strip()]


def alt_text_problems(assets: list[MediaAsset]) -> list:
    """A post's images without alt text, as problems that keep it from review (one per image)."""
    from app.networks import Problem

    return [
        Problem(
            "alt_text_missing",
            str(
                _l(
                    "“%(title)s” has no alt text: add one on its page in the media "
                    "library before sending the post to review.",
                    title=asset.title,
                )
            ),
        )
        for asset in missing_alt_text(assets)
    ]


def retry_storing(asset: MediaAsset, user) -> None:
    """Send the asset's failed upload again (the caller locked its row and commits)."""
    if transfers.storage_failure(asset) is None:
        raise CannotRetry(_l("This file is not waiting to be stored again."))
    if not transfers.retry(asset):
        raise CannotRetry(_l("No copy of the file is left waiting to be stored: upload it again."))
    audit.record("media.storage_retried", asset, actor=user, data={"version": asset.version})


def delete_asset(asset: MediaAsset, user) -> None:
    """Remove the asset, its stored versions and previews; refused while a campaign uses it.
    Files go only once the deletion is committed, so a rollback never leaves a row without
    its files: local ones right after the commit, a remote backend's object (and a staged
    file) through an actor. A removal that never happens is left to the orphan sweeper."""
    if campaigns_using(asset):
        raise InUse()
    audit.record("media.deleted", asset, actor=user, data={"filename": asset.filename, "sha256": asset.sha256})
    storage = get_storage(asset.storage_backend)
    if storage.deferred:
        send_after_commit(db.session(), discard_media, asset.id, asset.storage_backend.value, asset.storage_item_id)
    elif asset.storage_item_id:
        call_after_commit(db.session(), storage.delete, asset.storage_item_id)
    call_after_commit(
        db.session(), partial(shutil.rmtree, ignore_errors=True), media_root() / "derived" / str(asset.id)
    )
    schedule_media_sync(db.session(), [asset.id])  # the index drops ids the database no longer has
    db.session.delete(asset)
