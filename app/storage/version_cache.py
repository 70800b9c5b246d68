"""The version list of an asset stored remotely, kept a short while in Redis.

The detail page lists an asset's versions on every view, and every 2 s while a replacement
uploads: for SharePoint each listing is a Graph call. The list changes when this app stores a
version (`forget` then) or when someone adds one in SharePoint's own interface (hence the short
lifetime). A cached list whose current version is not the one the database records is stale
(a view that read Graph just before a store finished may cache the old list after the store's
`forget`) and is read again.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Callable

from app.extensions import redis_store
from app.storage import StoredVersion

TTL_S = 60


def _key(asset_id: int) -> str:
    return redis_store.key(f"media:versions:{asset_id}")


def versions(asset_id: int, current: str | None, load: Callable[[], list[StoredVersion]]) -> list[StoredVersion]:
    """The cached list of the asset whose current stored version is `current`, else `load()`'s."""
    cached = redis_store.client.get(_key(asset_id))
    if cached is not None:
        found = [
            StoredVersion(**{**v, "modified_at": datetime.fromisoformat(v["modified_at"])}) for v in json.loads(cached)
        ]
        if found and found[0].id == current:
            return found
    found = load()
    redis_store.client.set(
        _key(asset_id), json.dumps([{**vars(v), "modified_at": v.modified_at.isoformat()} for v in found]), ex=TTL_S
    )
    return found


def forget(asset_id: int) -> None:
    redis_store.client.delete(_key(asset_id))
