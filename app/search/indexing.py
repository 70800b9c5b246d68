"""Meilisearch documents built from the database, the source of truth.

`sync` (the actors), `reindex` and `drift` (the `flask search` commands) all build
documents with `documents()`, so what the index holds is exactly what the database says.
Upserts replace whole documents by primary key and deletes are by id: both are safe to run
twice. Two syncs of the same rows racing in two workers could land out of order; `flask
search check` reports such stale documents and `flask search reindex` repairs them.
"""

from __future__ import annotations

import hashlib
import json
import threading
import warnings
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from meilisearch.errors import MeilisearchApiError

from app.extensions import db
from app.search import fits, meili

BATCH_SIZE = 500
TABLES = {"media": "media_assets", "objects": "content_objects"}

MEDIA_SQL = sa.text("""
SELECT d.id, d.title, d.filename, d.description, d.alt_text, d.kind, d.status, d.uploaded_by_id,
       d.created_at, d.mime, d.size_bytes, d.width, d.height, d.duration_s, d.frame_rate,
       ARRAY(SELECT t.name FROM media_tags mt JOIN tags t ON t.id = mt.tag_id
              WHERE mt.media_asset_id = d.id ORDER BY t.name) AS tags
FROM media_assets d WHERE d.id = ANY(:ids) ORDER BY d.id""")

OBJECTS_SQL = sa.text("""
SELECT d.id, d.title, d.message, d.campaign_id, c.name AS campaign_name, d.status,
       d.author_id, d.scheduled_at, d.updated_at,
       ARRAY(SELECT DISTINCT a.platform FROM object_targets ot
               JOIN campaign_scenarios cs ON cs.id = ot.campaign_scenario_id
               JOIN social_accounts a ON a.id = cs.social_account_id
              WHERE ot.object_id = d.id ORDER BY 1) AS platforms
FROM content_objects d JOIN campaigns c ON c.id = d.campaign_id
WHERE d.id = ANY(:ids) ORDER BY d.id""")


def _epoch(moment) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def documents(index: str, ids) -> list[dict]:
    """The documents of these ids that still exist, one query."""
    if index == "media":
        zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
        return [
            {
                "id": r.id,
                "title": r.title,
                "filename": r.filename,
                "description": r.description,
                "alt_text": r.alt_text,
                "tags": list(r.tags),
                "kind": r.kind,
                "status": r.status,
                "uploader_id": r.uploaded_by_id,
                "created_at": _epoch(r.created_at),
                "created_month": r.created_at.astimezone(zone).strftime("%Y-%m"),
                **fits.verdicts(
                    fits.facts(r.kind, r.mime, r.size_bytes, r.width, r.height, r.duration_s, r.frame_rate)
                ),
            }
            for r in db.session.execute(MEDIA_SQL, {"ids": list(ids)})
        ]
    return [
        {
            "id": r.id,
            "title": r.title,
            "message": r.message,
            "campaign_id": r.campaign_id,
            "campaign_name": r.campaign_name,
            "status": r.status,
            "author_id": r.author_id,
            "platforms": list(r.platforms),
            "scheduled_at": _epoch(r.scheduled_at),
            "updated_at": _epoch(r.updated_at),
        }
        for r in db.session.execute(OBJECTS_SQL, {"ids": list(ids)})
    ]


_ready_lock = threading.Lock()
_ready: set[tuple] = set()


def _ensure_once(admin) -> None:
    """Apply the settings once per process before the first write (the worker's start)."""
    key = (current_app.config["MEILI_URL"], current_app.config["MEILI_INDEX_PREFIX"])
    with _ready_lock:
        if key not in _ready:
            meili.ensure_indexes(admin)
            _ready.add(key)


def _delete(admin, uid: str, ids: list[int]) -> int:
    # POST /documents/delete-batch (docs/external-apis.md §3.2); the client marks its `ids` form deprecated.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return admin.index(uid).delete_documents(ids=ids).task_uid


def sync(index: str, ids) -> None:
    """Make the index agree with the database for these ids (upsert or delete), in batches,
    and wait until Meilisearch has applied it (a failed task raises TaskFailed)."""
    admin = meili.client()
    _ensure_once(admin)
    uid = meili.index_uid(index)
    ids = sorted(set(map(int, ids)))
    tasks = []
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        docs = documents(index, batch)
        if docs:
            tasks.append(admin.index(uid).add_documents(docs, primary_key="id").task_uid)
        gone = sorted(set(batch) - {doc["id"] for doc in docs})
        if gone:
            tasks.append(_delete(admin, uid, gone))
    for task_uid in tasks:
        meili.wait(admin, task_uid)


def count(index: str) -> int:
    return db.session.scalar(sa.text(f"SELECT count(*) FROM {TABLES[index]}"))


def database_batches(index: str, size: int = BATCH_SIZE):
    """Every id of the table, ascending, `size` at a time (keyset pagination)."""
    last = 0
    while True:
        ids = list(
            db.session.scalars(
                sa.text(f"SELECT id FROM {TABLES[index]} WHERE id > :last ORDER BY id LIMIT :n"),
                {"last": last, "n": size},
            )
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def index_documents(admin, index: str, fields: list[str] | None = None, size: int = 1000):
    """Every document the index holds, as dicts (none when the index does not exist)."""
    offset = 0
    while True:
        parameters = {"offset": offset, "limit": size}
        if fields:
            parameters["fields"] = fields
        try:
            page = admin.index(meili.index_uid(index)).get_documents(parameters)
        except MeilisearchApiError as exc:
            if exc.code == "index_not_found":
                return
            raise
        yield from (dict(document) for document in page.results)
        offset += size
        if offset >= page.total:
            return


def reindex(index: str, batch_size: int = BATCH_SIZE, progress=None) -> tuple[int, int]:
    """Rebuild the index from the database while it keeps serving: upsert every row, then
    delete the documents of rows that no longer exist. Returns (indexed, removed)."""
    admin = meili.client()
    meili.ensure_indexes(admin)
    uid = meili.index_uid(index)
    tasks, indexed, present = [], 0, set()
    for ids in database_batches(index, batch_size):
        docs = documents(index, ids)
        tasks.append(admin.index(uid).add_documents(docs, primary_key="id").task_uid)
        indexed += len(docs)
        present.update(ids)
        if progress:
            progress(len(ids))
    extra = sorted({int(doc["id"]) for doc in index_documents(admin, index, ["id"])} - present)
    tasks += [_delete(admin, uid, extra[i : i + batch_size]) for i in range(0, len(extra), batch_size)]
    for task_uid in tasks:
        meili.wait(admin, task_uid)
    return indexed, len(extra)


@dataclass
class Drift:
    missing: list[int]  # rows with no document
    stale: list[int]  # documents that differ from their row
    extra: list[int]  # documents of rows that no longer exist

    @property
    def clean(self) -> bool:
        return not (self.missing or self.stale or self.extra)


def _digest(document: dict) -> str:
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha1(canonical.encode()).hexdigest()


def drift(index: str) -> Drift:
    """Compare every row with its document (digests only, so memory stays small)."""
    expected = {doc["id"]: _digest(doc) for ids in database_batches(index, 1000) for doc in documents(index, ids)}
    actual = {int(doc["id"]): _digest(doc) for doc in index_documents(meili.client(), index)}
    return Drift(
        missing=sorted(expected.keys() - actual.keys()),
        stale=sorted(i for i in expected.keys() & actual.keys() if expected[i] != actual[i]),
        extra=sorted(actual.keys() - expected.keys()),
    )
