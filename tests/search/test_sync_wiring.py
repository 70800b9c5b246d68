"""The media library tells the search index what changed (Meilisearch only: PostgreSQL's own
triggers keep its index current). Checked on the real broker: the sync message leaves after
the upload's commit with the new asset's id."""
import json

import redis

from app.search import tasks
from tests.media_support import editor, image, media_root, upload  # noqa: F401  (fixtures)


def _sync_messages(app) -> list[dict]:
    broker = app.extensions["dramatiq"]
    queue = tasks.SYNC_ACTORS["media"].bound.queue_name
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    return [json.loads(raw) for raw in client.hvals(f"{broker.namespace}:{queue}.msgs")]


def test_an_upload_schedules_its_sync_after_commit(app, client, editor, media_root, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "MEILI_URL", "http://127.0.0.1:9")  # configured; not called here
    asset_id = upload(client, image("PNG", color=(1, 2, 3)), "sync.png").get_json()["id"]
    messages = _sync_messages(app)
    assert any(asset_id in m["args"][0] for m in messages), messages
    app.extensions["dramatiq"].flush_all()


def test_without_meilisearch_nothing_is_scheduled(app, client, editor, media_root):  # noqa: F811
    app.extensions["dramatiq"].flush_all()
    upload(client, image("PNG", color=(3, 2, 1)), "nosync.png")
    assert _sync_messages(app) == []
