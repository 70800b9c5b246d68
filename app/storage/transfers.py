"""Versions on their way to a deferred (remote) backend: staged by the request, sent by an actor.

The upload request moves the received file to `MEDIA_ROOT/staging/<asset id>-v<version>` and
records a `MediaTransfer`; `store_media` uploads from there. Graph calls take minutes for a
large video and may fail half-way, so nothing of this runs in a request, and the upload
session (URL, expiry, next byte) is committed after every chunk: a retried or redelivered
message resumes the session where it stopped instead of sending the bytes again.

Until the version is stored, the staging file is its only copy: processing reads it
(`current_file`), the public links serve it (`open_staged`), and it is removed only after the
stored version is committed. A permanent refusal marks the asset failed with the reason and
keeps the file and the row, so sending `store_media` again resumes (`retry`: the detail page's
"Retry storing"). The asset becomes ready once both its previews are made and its bytes are
stored, whichever comes last.

The progress commits here are on purpose: progress must outlive the worker that made it.
"""

from __future__ import annotations

import os
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa

from app.extensions import db
from app.integrations.graph import UploadSession
from app.models import MediaAsset, MediaStatus, StorageBackend
from app.models.base import utcnow
from app.models.media import MediaTransfer
from app.search import schedule_media_sync
from app.storage import StorageError, StorageUnavailable, get_storage, media_root, version_cache
from app.tasks import by_name, call_after_commit, send_after_commit

process_media, store_media = by_name("process_media"), by_name("store_media")

STORE_FAILED = "Storing the file in SharePoint failed"  # how every storage failure reason starts
STAGED = "staged-"  # the link version of a staged file: `staged-<asset version>`
LEASE = timedelta(minutes=5)  # renewed with every chunk; a dead worker's claim lapses
_UNSAFE = re.compile(r'["*:<>?/\\|#%]')  # characters SharePoint refuses in file names


class TransferBusy(StorageUnavailable):
    """Another delivery of the message holds the transfer: retry once its lease lapses."""


class Superseded(Exception):
    """A newer version (or a deletion) took the transfer over while these bytes went up."""


@dataclass(frozen=True)
class Claim:
    asset_id: int
    version: int
    path: Path
    item_name: str
    ref: str | None
    backend: StorageBackend
    session: UploadSession | None


def staging_path(asset_id: int, version: int) -> Path:
    return media_root() / "staging" / f"{asset_id}-v{version}"


def stage(asset: MediaAsset, source: Path) -> None:
    """Keep `source` as the asset's current version until `store_media` (sent after commit)
    has stored it. A transfer still pending for an older version is taken over: that version
    never reaches the backend."""
    target = staging_path(asset.id, asset.version)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    transfer = asset.transfer or MediaTransfer(asset=asset)
    db.session.add(transfer)
    transfer.version, transfer.staging_path = asset.version, str(target.relative_to(media_root()))
    transfer.item_name = _UNSAFE.sub("_", f"{asset.id}-{asset.filename}")
    transfer.size_bytes, transfer.next_offset = asset.size_bytes, 0
    transfer.upload_url = transfer.upload_expires_at = transfer.last_error = transfer.claimed_until = None
    transfer.attempts = 0
    send_after_commit(db.session(), store_media, asset.id)
    call_after_commit(db.session(), version_cache.forget, asset.id)


def store(asset_id: int) -> None:
    """Upload the asset's pending version, resuming a recorded session; safe to run twice.
    Raises `StorageUnavailable` when a retry may succeed (the actor's retry resumes)."""
    claim = _claim(asset_id)
    if claim is None:
        return  # stored already, or the asset is gone
    storage = get_storage(claim.backend)
    try:
        uploaded = storage.upload(
            claim.path,
            name=claim.item_name,
            ref=claim.ref,
            resume=claim.session,
            on_progress=partial(_record_progress, claim),
        )
        share_url = storage.share_link(uploaded.version.ref)
    except Superseded:
        return
    except StorageUnavailable as exc:
        _settle(claim, f"SharePoint did not answer; retrying: {exc}", failed=False)
        raise
    except (StorageError, FileNotFoundError) as exc:
        _settle(claim, f"{STORE_FAILED}: {exc}", failed=True)
        return
    except BaseException as exc:  # a bug or a lost database: free the claim for the retry
        _settle(claim, f"{type(exc).__name__}: {exc}", failed=False)
        raise
    if not _finish(claim, uploaded, share_url):
        storage.delete(uploaded.version.ref)  # the asset was deleted while its bytes went up
    _remove_staged(claim.asset_id, up_to=claim.version)


def give_up(asset_id: int) -> None:
    """Every retry failed: the asset is failed with the last reason; the file stays staged."""
    transfer = _locked_transfer(asset_id)
    if transfer is not None:
        reason = transfer.last_error or "no answer from SharePoint"
        _mark_failed(transfer, f"{STORE_FAILED} after every retry: {reason}")
    db.session.commit()


def storage_failure(asset: MediaAsset) -> str | None:
    """Why the asset's bytes could not be stored (the reason after our own preamble), or None
    when the asset did not fail storing (a processing failure, or no failure at all)."""
    reason = asset.failure_reason or ""
    if asset.status is not MediaStatus.FAILED or not reason.startswith(STORE_FAILED):
        return None
    return reason[len(STORE_FAILED) :].lstrip(": ") or reason


def retry(asset: MediaAsset) -> bool:
    """Send a failed upload again (the caller holds the asset's row lock and commits): the
    asset is processing again, `store_media` resumes the recorded session where it stopped, and
    processing, skipped while the asset was failed, runs too. False when no staged file is left."""
    transfer = asset.transfer
    if transfer is None or not (media_root() / transfer.staging_path).is_file():
        return False
    asset.status, asset.failure_reason = MediaStatus.PROCESSING, None
    if not _processed(asset):
        send_after_commit(db.session(), process_media, asset.id)
    send_after_commit(db.session(), store_media, asset.id)
    schedule_media_sync(db.session(), [asset.id])
    return True


def _locked_transfer(asset_id: int) -> MediaTransfer | None:
    return db.session.scalar(
        sa.select(MediaTransfer)
        .where(MediaTransfer.asset_id == asset_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _claim(asset_id: int) -> Claim | None:
    transfer = _locked_transfer(asset_id)
    if transfer is None:
        db.session.rollback()
        return None
    now = utcnow()
    if transfer.claimed_until is not None and transfer.claimed_until > now:
        db.session.rollback()
        raise TransferBusy(f"asset {asset_id} is being uploaded by another worker")
    asset = transfer.asset
    session = (
        UploadSession(transfer.upload_url, transfer.upload_expires_at, transfer.next_offset)
        if transfer.upload_url
        else None
    )
    claim = Claim(
        asset_id,
        transfer.version,
        media_root() / transfer.staging_path,
        transfer.item_name,
        asset.storage_item_id,
        asset.storage_backend,
        session,
    )
    transfer.claimed_until, transfer.attempts = now + LEASE, transfer.attempts + 1
    db.session.commit()
    return claim


def _record_progress(claim: Claim, session: UploadSession) -> None:
    transfer = _locked_transfer(claim.asset_id)
    if transfer is None or transfer.version != claim.version:
        db.session.rollback()
        raise Superseded()
    transfer.upload_url, transfer.upload_expires_at = session.url, session.expires_at
    transfer.next_offset, transfer.claimed_until = session.next_offset, utcnow() + LEASE
    db.session.commit()


def _settle(claim: Claim, reason: str, *, failed: bool) -> None:
    """Record why this attempt stopped and free the claim; `failed`: no retry will fix it."""
    db.session.rollback()
    transfer = _locked_transfer(claim.asset_id)
    if transfer is not None and transfer.version == claim.version:
        transfer.last_error, transfer.claimed_until = reason[:2000], None
        if failed:
            _mark_failed(transfer, reason)
    db.session.commit()


def _mark_failed(transfer: MediaTransfer, reason: str) -> None:
    transfer.last_error = transfer.asset.failure_reason = reason[:2000]
    transfer.claimed_until, transfer.asset.status = None, MediaStatus.FAILED


def _finish(claim: Claim, uploaded, share_url: str | None) -> bool:
    """Record the stored version; False when the asset no longer exists."""
    asset = db.session.get(MediaAsset, claim.asset_id, with_for_update=True, populate_existing=True)
    if asset is None:
        db.session.commit()
        return False
    transfer = asset.transfer
    asset.storage_item_id = uploaded.version.ref  # a newer pending version goes to the same item
    if transfer is not None and transfer.version == claim.version:
        asset.storage_version, asset.web_url, asset.share_url = uploaded.version.id, uploaded.web_url, share_url
        if asset.status is MediaStatus.FAILED and asset.failure_reason == transfer.last_error:
            asset.status, asset.failure_reason = MediaStatus.PROCESSING, None  # our failure, now cured
            if not _processed(asset):  # processing skipped the asset while it was failed
                send_after_commit(db.session(), process_media, asset.id)
        if asset.status is MediaStatus.PROCESSING and _processed(asset):
            asset.status = MediaStatus.READY
        db.session.delete(transfer)
        schedule_media_sync(db.session(), [asset.id])
    db.session.commit()
    version_cache.forget(claim.asset_id)
    return True


def _processed(asset: MediaAsset) -> bool:
    """Processing has made the previews of the current version (named `v<version>-...`)."""
    return asset.thumb_path is not None and Path(asset.thumb_path).name.startswith(f"v{asset.version}-")


def _remove_staged(asset_id: int, *, up_to: int | None = None) -> None:
    """Staged files of the asset (of versions up to `up_to`): call only after the commit that
    makes them useless."""
    for path in staging_path(asset_id, 0).parent.glob(f"{asset_id}-v*"):
        number = path.name.rpartition("-v")[2]
        if number.isdigit() and (up_to is None or int(number) <= up_to):
            path.unlink(missing_ok=True)


def discard(asset_id: int, backend: StorageBackend, ref: str | None) -> None:
    """After an asset's deletion is committed: its staged files and its stored object."""
    _remove_staged(asset_id)
    if ref:
        get_storage(backend).delete(ref)


# -- Reading a version while it may still be staged --------------------------------------------


def pending(asset: MediaAsset) -> bool:
    """The asset's current version is not in its backend yet."""
    return asset.transfer is not None


def link_version(asset: MediaAsset) -> str | None:
    """The version a signed link names: the stored one, or the staged file's while it waits."""
    return f"{STAGED}{asset.version}" if pending(asset) else asset.storage_version


def open_staged(asset: MediaAsset, version: str) -> BinaryIO | None:
    """The open staged file when `version` names one that is still waiting (opened here, so a
    removal by the finished upload cannot cut a response short)."""
    transfer = asset.transfer
    if transfer is None or version != f"{STAGED}{transfer.version}":
        return None
    try:
        return (media_root() / transfer.staging_path).open("rb")
    except FileNotFoundError:
        return None


def stored_version(asset: MediaAsset, version: str | None) -> str | None:
    """The backend's version for `version`: a staged version that has been stored since is
    the current one; a staged version taken over by a newer file no longer exists."""
    if version is None or not version.startswith(STAGED):
        return version
    if version == f"{STAGED}{asset.version}" and not pending(asset):
        return asset.storage_version
    return None


@contextmanager
def current_file(asset_id: int, version: int, backend: StorageBackend):
    """The bytes of the asset's version `version` as a local file: the staged file while it
    waits, else the backend's copy. The staged file is hard-linked first, so the upload
    finishing meanwhile cannot remove it under the reader's feet."""
    staged = staging_path(asset_id, version)
    link = staged.with_name(f"{staged.name}.{uuid.uuid4().hex}.reading")
    try:
        os.link(staged, link)
    except FileNotFoundError:  # never staged, or stored since: the database says where it is now
        row = db.session.execute(
            sa.select(MediaAsset.storage_item_id, MediaAsset.storage_version, MediaAsset.version).where(
                MediaAsset.id == asset_id
            )
        ).one_or_none()
        db.session.rollback()  # hold no transaction while the caller decodes
        if row is None or row.version != version or row.storage_item_id is None:
            raise StorageError("the file was replaced or deleted meanwhile")
        with get_storage(backend).local_file(row.storage_item_id, row.storage_version) as path:
            yield path
        return
    try:
        yield link
    finally:
        link.unlink(missing_ok=True)
