"""Media library actors: thin wrappers around app.media and app.storage services, safe to run twice.

The SharePoint actors (store, discard, change feed: Graph calls that may take minutes) have a
queue of their own, `graph`, so a slow or throttled Graph never holds up media processing and
renditions on `default` (docs/operations.md §1)."""

from __future__ import annotations

from app.tasks import actor


@actor(max_retries=5, min_backoff=2_000, time_limit=15 * 60_000)
def process_media(asset_id: int) -> None:
    """Metadata and previews of the asset's current version (a no-op once it has settled)."""
    from app.extensions import db
    from app.media import processing

    processing.process(asset_id)
    db.session.commit()


@actor(queue_name="graph")
def store_media_gave_up(message: dict, retry_info: dict) -> None:
    """Dramatiq's word that `store_media` exhausted its retries: the asset becomes failed."""
    from app.storage import transfers

    transfers.give_up(message["args"][0])


# A 2 GiB video at a few MiB/s takes minutes: the time limit is generous, and each retry
# resumes the upload session where the previous attempt stopped.
@actor(
    queue_name="graph",
    max_retries=8,
    min_backoff=5_000,
    max_backoff=10 * 60_000,
    time_limit=2 * 3600_000,
    on_retry_exhausted="store_media_gave_up",
)
def store_media(asset_id: int) -> None:
    """Upload the asset's staged version to its remote backend (SharePoint), resumably."""
    from app.storage import transfers

    transfers.store(asset_id)


@actor(queue_name="graph", max_retries=8, min_backoff=5_000)
def discard_media(asset_id: int, backend: str, ref: str | None) -> None:
    """After an asset's deletion: its staged files and its object in the remote backend."""
    from app.models import StorageBackend
    from app.storage import transfers

    transfers.discard(asset_id, StorageBackend(backend), ref)


@actor(max_retries=0, time_limit=30 * 60_000)
def sweep_orphans() -> None:
    """Remove the local media files nothing references (app/media/sweeper.py); the scheduler
    sends it every `MEDIA_SWEEP_INTERVAL_S`, so a failed run is simply the next one's work."""
    import logging

    from app.media import sweeper

    report = sweeper.sweep_local()
    logging.getLogger(__name__).info(
        "media orphans removed: %s",
        {kind: (tally.count, tally.bytes) for kind, tally in report.kinds.items() if tally.count},
    )


@actor(queue_name="graph", max_retries=0, time_limit=30 * 60_000)
def sweep_sharepoint_renditions() -> None:
    """Delete the orphans of the SharePoint `renditions` subfolder, which holds only what the CMS
    derived (app/media/sweeper.py); sent with `sweep_orphans` when the backend is SharePoint, so
    a failed run (Graph unavailable) is the next one's work."""
    import logging

    from app.media import sweeper
    from app.models import StorageBackend
    from app.storage import get_storage

    report = sweeper.sweep_sharepoint(
        get_storage(StorageBackend.SHAREPOINT).client, sweeper.Report(dry_run=False), delete=True, renditions_only=True
    )
    tally = report.kinds[sweeper.SHAREPOINT]
    logging.getLogger(__name__).info("SharePoint rendition orphans deleted: %d (%d bytes)", tally.count, tally.bytes)


# Sent by the `graph_delta` scheduler job every minute or so: the next message is the retry,
# and a message arriving while another run reads the feed finds it locked and returns.
@actor(queue_name="graph", max_retries=0, time_limit=60 * 60_000)
def sync_library_changes() -> None:
    """Record the files changed or deleted in the SharePoint library outside the CMS."""
    from app.media import graph_sync

    graph_sync.sync()
