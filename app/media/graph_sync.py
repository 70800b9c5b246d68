"""Changes made to our files in SharePoint itself, found by reading the library's delta feed.

People may replace or delete a file directly in the SharePoint library. What was approved is
what gets published, so the CMS must notice: a periodic run (the `graph_delta` scheduler job,
then the `sync_library_changes` actor) reads Graph's change feed from where the last run
stopped and, for every changed item that is the file of one of our assets:

- a newer current version than `asset.storage_version` is recorded like a replacement through
  the CMS: version + 1, the new size and sha256 (hashed from the downloaded bytes), processing
  again, the search index told, an audit event `media.version_found`, and the approved posts
  using the file sent back to review. Bytes that another asset already holds (sha256 is
  unique), or that are not of the asset's kind, cannot be recorded: the asset becomes failed
  with the reason instead, and its posts go back to review all the same;
- a deleted item fails the asset (`media.deleted_in_storage`): a publication would fail on its
  media anyway, this says why beforehand.

Our own uploads are left alone: while a `media_transfers` row exists the version is ours and in
flight, and once it is committed its version equals `storage_version`, so it compares equal.

The first run takes `token=latest` as its baseline: nothing that happened before is imported.
The cursor row (`storage_cursors`) is locked with SKIP LOCKED while a page is read and applied,
and saved with that page's changes in one commit, so a crash resumes at the page it was on and
a second run at the same time finds the row taken and does nothing. When Graph has forgotten
the token (410), the enumeration restarts from the link it gives, and every item is compared
again: that is safe, as an unchanged item compares equal.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from app import audit
from app.extensions import db
from app.integrations.graph import GraphResync
from app.media.sniff import SNIFF_BYTES, FileType, Refused, sniff
from app.models import MediaAsset, MediaStatus, StorageBackend, StorageCursor
from app.search import schedule_media_sync
from app.storage import StorageError, StorageUnavailable, get_storage
from app.tasks import by_name, send_after_commit

process_media = by_name("process_media")

log = logging.getLogger(__name__)

DELETED = "The file was deleted from SharePoint."
REVIEW_REASON = "new version found in SharePoint"


@dataclass(frozen=True)
class Found:
    """A version made outside the CMS, as downloaded."""

    item_id: str
    version: str
    size: int
    sha256: str
    head: bytes


def sync() -> int:
    """Read the library's changes since the last run; the number of pages read, a 410 counting
    as one (0 when the backend is not SharePoint or another run holds the feed).
    `StorageUnavailable` and `GraphError` propagate with nothing of the failed page recorded."""
    if current_app.config["STORAGE_BACKEND"] != StorageBackend.SHAREPOINT.value:
        return 0
    storage = get_storage(StorageBackend.SHAREPOINT)
    name = f"graph-delta:{storage.client.settings.drive_id}"
    _ensure_cursor(name)
    pages, expected = 0, None
    try:
        while True:
            cursor = _lock(name)
            if cursor is None or (pages and cursor.cursor != expected):
                db.session.rollback()  # another run holds the feed, or went on from our page
                return pages
            try:
                page = storage.client.delta(cursor.cursor)
            except GraphResync as exc:
                if exc.location == cursor.cursor:
                    raise  # even a fresh enumeration is refused: let it show, do not loop
                log.warning("Graph forgot the delta token (%s): enumerating the library again", exc.code)
                cursor.cursor = expected = exc.location
                db.session.commit()
                pages += 1
                continue
            _apply(storage, page.items)
            cursor.cursor = expected = page.next_link or page.delta_link
            db.session.commit()
            pages += 1
            if page.next_link is None:
                return pages
    except BaseException:
        db.session.rollback()
        raise


def _ensure_cursor(name: str) -> None:
    """The row exists before anyone locks it (a lock cannot be taken on a row not yet there)."""
    db.session.execute(insert(StorageCursor).values(name=name).on_conflict_do_nothing())
    db.session.commit()


def _lock(name: str) -> StorageCursor | None:
    return db.session.scalar(
        sa.select(StorageCursor)
        .where(StorageCursor.name == name)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def _apply(storage, items: list[dict]) -> None:
    """The page's changes to our assets, in the caller's transaction."""
    latest = {item["id"]: item for item in items if "id" in item}  # an item listed twice: its last state
    if not latest:
        return
    assets = db.session.scalars(
        sa.select(MediaAsset)
        .where(MediaAsset.storage_backend == StorageBackend.SHAREPOINT, MediaAsset.storage_item_id.in_(list(latest)))
        .order_by(MediaAsset.id)
    ).all()
    for asset in assets:
        item = latest[asset.storage_item_id]
        if "deleted" in item:
            _deleted(asset.id, item["id"])
        elif "file" in item:
            found = _new_version(storage, asset)
            if found is not None:
                _record(asset.id, found)


def _new_version(storage, asset: MediaAsset) -> Found | None:
    """The item's current version when it is not the one the asset records, downloaded and
    hashed; None when there is nothing to record (unchanged, ours in flight, or gone)."""
    if asset.transfer is not None:
        return None  # our upload is in flight: its version becomes `storage_version` when it ends
    ref = asset.storage_item_id
    try:
        current = storage.versions(ref)[0]
        if current.id == asset.storage_version:
            return None
        digest, size, head = hashlib.sha256(), 0, b""
        for chunk in storage.read(ref, current.id):
            digest.update(chunk)
            size += len(chunk)
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
    except StorageUnavailable:
        raise
    except StorageError as exc:  # deleted or changed again meanwhile: the feed will say so
        log.warning("asset %s: the changed SharePoint item %s could not be read: %s", asset.id, ref, exc)
        return None
    return Found(ref, current.id, size, digest.hexdigest(), head)


def _locked(asset_id: int, item_id: str) -> MediaAsset | None:
    """The asset, locked and read afresh, if it still stands on that item with no upload of
    ours on the way (one may have started while we downloaded)."""
    asset = db.session.get(MediaAsset, asset_id, with_for_update=True, populate_existing=True)
    if asset is None or asset.storage_item_id != item_id or asset.transfer is not None:
        return None
    return asset


def _record(asset_id: int, found: Found) -> None:
    asset = _locked(asset_id, found.item_id)
    if asset is None or asset.storage_version == found.version:
        return
    found_type = _sniffed(found.head)
    data = {"storage_version": found.version, "size": found.size, "sha256": found.sha256}
    if found_type is None or found_type.kind is not asset.kind:
        refusal = (
            f"The new version {found.version} in SharePoint is not a file of the kind this asset holds "
            f"({asset.kind.value}): replace it in SharePoint or through the media library."
        )
    elif _holder(found.sha256, asset.id) is not None or not _take(asset, found, found_type):
        refusal = (
            f"The new version {found.version} in SharePoint has the same bytes as another file of the "
            f"library (“{_holder(found.sha256, asset.id)}”), which keeps each file once."
        )
    else:
        refusal = None
        data["version"] = asset.version
        schedule_media_sync(db.session(), [asset.id])
        send_after_commit(db.session(), process_media, asset.id)
    if refusal is not None:
        if asset.status is MediaStatus.FAILED and asset.failure_reason == refusal:
            return  # seen by an earlier run (an enumeration after a 410 lists every item again)
        asset.status, asset.failure_reason = MediaStatus.FAILED, refusal
        data["refused"] = refusal
    audit.record("media.version_found", asset, actor=None, data=data)
    from app.reviews.service import objects_using_media, reopen_after_change

    reopen_after_change(objects_using_media(asset.id), by=None, reason=REVIEW_REASON)


def _sniffed(head: bytes) -> FileType | None:
    try:
        return sniff(head)
    except Refused:
        return None


def _holder(sha256: str, asset_id: int) -> str | None:
    """The title of the other asset holding these bytes, if any."""
    return db.session.scalar(sa.select(MediaAsset.title).where(MediaAsset.sha256 == sha256, MediaAsset.id != asset_id))


def _take(asset: MediaAsset, found: Found, found_type: FileType) -> bool:
    """Record the version (False when its bytes were taken by another asset at this moment)."""
    try:
        with db.session.begin_nested():
            asset.version, asset.storage_version = asset.version + 1, found.version
            asset.size_bytes, asset.sha256, asset.mime = found.size, found.sha256, found_type.mime
            asset.status, asset.failure_reason = MediaStatus.PROCESSING, None
            db.session.flush()
        return True
    except IntegrityError:
        return False


def _deleted(asset_id: int, item_id: str) -> None:
    asset = _locked(asset_id, item_id)
    if asset is None or (asset.status is MediaStatus.FAILED and asset.failure_reason == DELETED):
        return
    asset.status, asset.failure_reason = MediaStatus.FAILED, DELETED
    audit.record("media.deleted_in_storage", asset, actor=None, data={"item_id": item_id})
