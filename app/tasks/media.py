"""Media library actors: thin wrappers around app.media services, safe to run twice."""
from __future__ import annotations

from app.tasks import actor


@actor(max_retries=5, min_backoff=2_000, time_limit=15 * 60_000)
def process_media(asset_id: int) -> None:
    """Metadata and previews of the asset's current version (a no-op once it has settled)."""
    from app.extensions import db
    from app.media import processing

    processing.process(asset_id)
    db.session.commit()
