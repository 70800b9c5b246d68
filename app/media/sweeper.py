"""Finding and removing the media files nothing references any more.

Every way a file reaches `MEDIA_ROOT` is a file first and a committed row second, so a request
or a worker that dies in between leaves a file behind: a dead upload's `tmp/upload-*` (or a
download's `tmp/download-*`), a staged file whose transfer row was rolled back (or an older
version's, taken over by a newer one and never stored), an object folder whose asset row never
committed, a `derived/<id>` folder whose removal after a deletion never happened, the file of a
rendition whose row went with its asset (or was forgotten for an older version of it). The same goes
for SharePoint: a file committed in Graph whose asset row was rolled back or deleted meanwhile,
or a rendition's file (in the folder's `renditions` subfolder) whose row went with its asset.

Orphans are judged by what the database says *now* plus their age: only files older than
`MEDIA_ORPHAN_MIN_AGE_S` (the newest mtime inside a folder) are touched, so a request or an
upload still running is never cut short. A staging file with a transfer row, an object folder
or a derived folder an asset references are kept whatever their age.

SharePoint items of the library folder are reported, and deleted only when asked (`flask media
sweep --sharepoint-delete`): people may keep their own files in that folder, and deleting from a
team's SharePoint unasked is too dangerous. An item whose name a pending transfer will adopt
(app/storage/sharepoint.py) is not an orphan. The `renditions` subfolder holds only what the CMS
derived (every replaced version leaves its renditions there): its orphans are deleted by the
`sweep_sharepoint_renditions` actor, which the scheduler's sweep sends on the `graph` queue with
the local sweep when the backend is SharePoint. Graph is never called from a request.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import MediaAsset
from app.models.media import MediaTransfer
from app.storage import media_root

LOCAL_KINDS = ("tmp", "staging", "objects", "derived")
SHAREPOINT = "sharepoint"
TEMPORARY_PREFIXES = ("upload-", "download-")


@dataclass
class Tally:
    count: int = 0
    bytes: int = 0


@dataclass
class Report:
    """What was removed (or, in a dry run, would be), per kind; the SharePoint orphans found."""

    dry_run: bool
    kinds: dict[str, Tally] = field(default_factory=lambda: {kind: Tally() for kind in LOCAL_KINDS})
    sharepoint_items: list[dict] = field(default_factory=list)
    sharepoint_deleted: bool = False

    def add(self, kind: str, size: int) -> None:
        tally = self.kinds.setdefault(kind, Tally())
        tally.count, tally.bytes = tally.count + 1, tally.bytes + size


@dataclass(frozen=True)
class Orphan:
    kind: str
    path: Path
    size: int


def _min_age() -> float:
    return current_app.config["MEDIA_ORPHAN_MIN_AGE_S"]


def _changed_at(path: Path, stat) -> float:
    """When the file last changed. A reader's hard link to a staged file (`*.reading`,
    app/storage/transfers.py) shares that file's old mtime: the link's creation shows in the
    ctime only, so a reader busy right now is not taken for a leftover."""
    return max(stat.st_mtime, stat.st_ctime) if path.name.endswith(".reading") else stat.st_mtime


def _age_and_size(path: Path) -> tuple[float, int]:
    """Seconds since anything in `path` last changed (a folder: its newest file), and its bytes."""
    if path.is_dir():
        stats = [(p, p.stat()) for p in path.rglob("*") if p.is_file()]
        newest = max([path.stat().st_mtime] + [_changed_at(p, s) for p, s in stats])
        return time.time() - newest, sum(s.st_size for _, s in stats)
    stat = path.stat()
    return time.time() - _changed_at(path, stat), stat.st_size


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _candidates(root: Path) -> Iterator[tuple[str, Path]]:
    """Every entry the sweeper may judge, by kind; what it does not recognise is not its own."""
    for path in _entries(root / "tmp"):
        if path.is_file() and path.name.startswith(TEMPORARY_PREFIXES):
            yield "tmp", path
    for path in _entries(root / "staging"):
        if path.is_file():
            yield "staging", path
    for path in _entries(root / "objects"):
        if path.is_dir():
            yield "objects", path
    for path in _entries(root / "derived"):
        if path.is_dir() and path.name.isdigit():
            yield "derived", path


def _referenced(root: Path) -> dict[str, set[str]]:
    """The names each kind must keep, as the database says now."""
    staged = db.session.scalars(sa.select(MediaTransfer.staging_path))
    refs = db.session.scalars(sa.select(MediaAsset.storage_item_id).where(MediaAsset.storage_item_id.is_not(None)))
    ids = db.session.scalars(sa.select(MediaAsset.id))
    return {
        "tmp": set(),
        "staging": {(root / p).name for p in staged},
        "objects": set(refs) | _rendition_refs(),
        "derived": {str(i) for i in ids},
    }


def local_orphans() -> list[Orphan]:
    root, min_age = media_root(), _min_age()
    found = list(_candidates(root))  # listed before the database is read: a file and its row
    keep = _referenced(root)  # committed meanwhile are seen together
    db.session.rollback()  # hold no transaction while the files go
    orphans = []
    for kind, path in found:
        if path.name in keep[kind]:
            continue
        try:
            age, size = _age_and_size(path)
        except FileNotFoundError:  # removed meanwhile (an upload finishing, a reader done)
            continue
        if age >= min_age:
            orphans.append(Orphan(kind, path, size))
    return orphans


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _rendition_refs() -> set[str]:
    """The stored files of renditions (app/renditions): kept while their row exists."""
    from app.models import Rendition

    return set(db.session.scalars(sa.select(Rendition.storage_item_id).where(Rendition.storage_item_id.is_not(None))))


def forget_superseded_renditions() -> int:
    """Rows of renditions made for an older version of their asset, untouched for the minimum
    age (a replaced file sends its posts back to review: nothing sends them any more). Their
    files become orphans, removed by the next sweep once old enough."""
    from app.models import Rendition

    cutoff = datetime.now(timezone.utc) - timedelta(seconds=_min_age())
    gone = db.session.execute(
        sa.delete(Rendition).where(
            Rendition.asset_id == MediaAsset.id,
            Rendition.asset_version < MediaAsset.version,
            Rendition.updated_at < cutoff,
        )
    ).rowcount
    db.session.commit()
    return gone


def sweep_local(*, dry_run: bool = False) -> Report:
    """Remove the local orphans old enough (none in a dry run); what was removed, per kind."""
    report = Report(dry_run=dry_run)
    if not dry_run:
        forget_superseded_renditions()
    for orphan in local_orphans():
        if not dry_run:
            _remove(orphan.path)
        report.add(orphan.kind, orphan.size)
    return report


# -- SharePoint ------------------------------------------------------------------------------


def _modified(item: dict) -> datetime:
    return datetime.fromisoformat(item["lastModifiedDateTime"].replace("Z", "+00:00"))


def sharepoint_orphans(client, *, renditions_only: bool = False) -> list[dict]:
    """Files of our folder and of its `renditions` subfolder (app/storage/sharepoint.py), or of
    that subfolder only, that no asset or rendition references and no pending transfer will
    adopt, older than the minimum age (other subfolders are never ours)."""
    from app.storage.sharepoint import derived_client

    listed = derived_client(client).children() + ([] if renditions_only else client.children())
    items = [item for item in listed if "file" in item]
    refs = set(db.session.scalars(sa.select(MediaAsset.storage_item_id).where(MediaAsset.storage_item_id.is_not(None))))
    refs |= _rendition_refs()
    adoptable = {name.casefold() for name in db.session.scalars(sa.select(MediaTransfer.item_name))}
    db.session.rollback()
    now = datetime.now(timezone.utc)
    return [
        item
        for item in items
        if item["id"] not in refs
        and item["name"].casefold() not in adoptable
        and (now - _modified(item)).total_seconds() >= _min_age()
    ]


def sweep_sharepoint(client, report: Report, *, delete: bool = False, renditions_only: bool = False) -> Report:
    """Report the SharePoint orphans; delete them only when `delete` (and not a dry run)."""
    from app.integrations.graph import GraphNotFound

    report.kinds[SHAREPOINT] = Tally()
    report.sharepoint_items = sharepoint_orphans(client, renditions_only=renditions_only)
    report.sharepoint_deleted = delete and not report.dry_run
    for item in report.sharepoint_items:
        if report.sharepoint_deleted:
            try:
                client.delete(item["id"])
            except GraphNotFound:
                pass  # gone meanwhile
        report.add(SHAREPOINT, item.get("size", 0))
    return report
