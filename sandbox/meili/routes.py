"""The Meilisearch routes the CMS uses: indexes, documents, settings.

Every write is validated now and applied later by a task: the view answers 202
with the summarized task and hands the queue a closure that does the change.
Search, tasks and health are in :mod:`routes_read`.
"""

from __future__ import annotations

import json

from flask import Blueprint, request

from . import settings as index_settings
from .errors import MeiliError, index_not_found, invalid_type, unknown_field
from .filter_eval import check_filter, matching_ids, parse_filter
from .formatting import select
from .state import invalid_document_id
from .web import check_query, document_payload, emulator, json_body, query_int, valid_uid

bp = Blueprint("meilisearch_writes", __name__)


def _accepted(index_uid: str | None, task_type: str, details: dict, operation, counts: tuple[str, ...] = ()):
    task = emulator().tasks.enqueue(index_uid, task_type, details, operation, counts)
    return task.summary(), 202


@bp.post("/indexes")
def create_index():
    body = json_body()
    if not isinstance(body, dict):
        raise invalid_type("bad_request", "", "an object", body)
    for name in body:
        if name not in ("uid", "primaryKey"):
            raise unknown_field("bad_request", name, ["uid", "primaryKey"])
    if "uid" not in body:
        raise MeiliError(400, "missing_index_uid", "Missing field `uid`")
    uid, primary_key = body["uid"], body.get("primaryKey")
    if not isinstance(uid, str):
        raise invalid_type("invalid_index_uid", ".uid", "a string", uid)
    if primary_key is not None and not isinstance(primary_key, str):
        raise invalid_type("invalid_index_primary_key", ".primaryKey", "a string", primary_key)
    valid_uid(uid)
    store = emulator().store

    def create(now_ns: int) -> dict:
        if uid in store.indexes:
            raise MeiliError(409, "index_already_exists", f"Index `{uid}` already exists.")
        store.get_or_create(uid, now_ns).primary_key = primary_key
        return {}

    return _accepted(uid, "indexCreation", {"primaryKey": primary_key}, create)


@bp.get("/indexes")
def list_indexes():
    check_query(["offset", "limit"])
    offset = query_int("offset", "invalid_index_offset", 0)
    limit = query_int("limit", "invalid_index_limit", 20)
    store = emulator().store
    with store.lock:
        indexes = [store.indexes[uid].view() for uid in sorted(store.indexes)]
    return {"results": indexes[offset : offset + limit], "offset": offset, "limit": limit, "total": len(indexes)}


@bp.get("/indexes/<uid>")
def get_index(uid: str):
    store = emulator().store
    with store.lock:
        return store.get(valid_uid(uid)).view()


@bp.delete("/indexes/<uid>")
def delete_index(uid: str):
    store = emulator().store

    def delete(now_ns: int) -> dict:
        removed = store.indexes.pop(uid, None)
        if removed is None:
            raise index_not_found(uid)
        return {"deletedDocuments": len(removed.documents)}

    return _accepted(valid_uid(uid), "indexDeletion", {"deletedDocuments": None}, delete, ("deletedDocuments",))


@bp.post("/indexes/<uid>/documents")
def add_or_replace_documents(uid: str):
    return _write_documents(uid, merge=False)


@bp.put("/indexes/<uid>/documents")
def add_or_update_documents(uid: str):
    return _write_documents(uid, merge=True)


def _write_documents(uid: str, merge: bool):
    check_query(["primaryKey"], inert=("csvDelimiter", "customMetadata", "skipCreation"))
    valid_uid(uid)
    documents = document_payload()
    primary_key = request.args.get("primaryKey") or None
    store = emulator().store

    def write(now_ns: int) -> dict:
        index = store.get_or_create(uid, now_ns)
        indexed = index.add_documents(documents, primary_key, merge)
        index.updated_ns = now_ns
        return {"indexedDocuments": indexed}

    return _accepted(
        uid,
        "documentAdditionOrUpdate",
        {"receivedDocuments": len(documents), "indexedDocuments": None},
        write,
        ("indexedDocuments",),
    )


@bp.get("/indexes/<uid>/documents/<document_id>")
def get_document(uid: str, document_id: str):
    store = emulator().store
    with store.lock:
        entry = store.get(valid_uid(uid)).documents.get(document_id)
        if entry is None:
            raise MeiliError(404, "document_not_found", f"Document `{document_id}` not found.")
        return entry.body


@bp.post("/indexes/<uid>/documents/fetch")
def fetch_documents(uid: str):
    """A page of stored documents (``Index.get_documents``), optionally filtered."""
    body = json_body()
    if not isinstance(body, dict):
        raise invalid_type("bad_request", "", "an object", body)
    accepted = ["offset", "limit", "fields", "filter"]
    for name, value in body.items():
        if name not in accepted:
            if name in ("ids", "sort", "retrieveVectors") and value in (None, False):
                continue
            raise unknown_field("bad_request", name, accepted)
    offset, limit = body.get("offset", 0), body.get("limit", 20)
    for name, value in (("offset", offset), ("limit", limit)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise invalid_type(f"invalid_document_{name}", f".{name}", "a positive integer", value)
    fields = body.get("fields") or ["*"]
    tree = parse_filter(body.get("filter"), "invalid_document_filter")
    store = emulator().store
    with store.lock:
        index = store.get(valid_uid(uid))
        if tree is not None:
            check_filter(tree, index, "invalid_document_filter")
            selected = matching_ids(tree, index)
        else:
            selected = index.documents.keys()
        entries = [entry for key, entry in index.documents.items() if key in selected]
        page = [select(entry.body, fields) for entry in entries[offset : offset + limit]]
    return {"results": page, "offset": offset, "limit": limit, "total": len(entries)}


@bp.delete("/indexes/<uid>/documents/<document_id>")
def delete_document(uid: str, document_id: str):
    return _delete_documents(uid, doc_ids=[document_id])


@bp.delete("/indexes/<uid>/documents")
def delete_all_documents(uid: str):
    return _delete_documents(uid)


@bp.post("/indexes/<uid>/documents/delete-batch")
def delete_document_batch(uid: str):
    ids = json_body()
    if not isinstance(ids, list):
        raise invalid_type("bad_request", "", "an array", ids)
    for doc_id in ids:
        if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)):
            raise invalid_document_id(doc_id)
    return _delete_documents(uid, doc_ids=[str(doc_id) for doc_id in ids])


@bp.post("/indexes/<uid>/documents/delete")
def delete_documents_by_filter(uid: str):
    body = json_body()
    if not isinstance(body, dict):
        raise invalid_type("bad_request", "", "an object", body)
    if "filter" not in body:
        raise MeiliError(400, "missing_document_filter", "Missing field `filter`")
    tree = parse_filter(body["filter"], "invalid_document_filter")
    if tree is None:
        raise MeiliError(400, "invalid_document_filter", "Sending an empty filter is forbidden.")
    return _delete_documents(uid, expression=body["filter"], tree=tree)


def _delete_documents(uid: str, doc_ids: list[str] | None = None, expression=None, tree=None):
    """Delete by ids, by a parsed filter, or (neither given) every document."""
    valid_uid(uid)
    store = emulator().store

    def delete(now_ns: int) -> dict:
        index = store.get(uid)
        if tree is not None:
            check_filter(tree, index, "invalid_document_filter")
            targets = matching_ids(tree, index)
        else:
            targets = list(index.documents) if doc_ids is None else doc_ids
        deleted = index.delete_documents(targets)
        index.updated_ns = now_ns
        return {"deletedDocuments": deleted}

    details = {
        "providedIds": len(doc_ids or ()),
        "deletedDocuments": None,
        "originalFilter": None if tree is None else json.dumps(expression, ensure_ascii=False),
    }
    return _accepted(uid, "documentDeletion", details, delete, ("deletedDocuments",))


def _current_settings(uid: str) -> dict:
    store = emulator().store
    with store.lock:
        return index_settings.full_view(store.get(valid_uid(uid)).settings)


@bp.get("/indexes/<uid>/settings")
def get_settings(uid: str):
    return _current_settings(uid)


@bp.patch("/indexes/<uid>/settings")
def update_settings(uid: str):
    return _update_settings(uid, index_settings.parse_patch(json_body()))


@bp.delete("/indexes/<uid>/settings")
def reset_settings(uid: str):
    return _update_settings(uid, index_settings.reset_patch())


@bp.route("/indexes/<uid>/settings/<name>", methods=["GET", "PUT", "PATCH", "DELETE"])
def one_setting(uid: str, name: str):
    key = index_settings.SUBROUTES.get(name)
    if key is None:
        return "", 404
    if request.method == "GET":
        value = _current_settings(uid)[key]  # may be a list or null: not a Flask return value
        return json.dumps(value), 200, {"Content-Type": "application/json"}
    if request.method == "DELETE":
        return _update_settings(uid, {key: None})
    expected_method = "PATCH" if key in index_settings.PATCHED_SUBROUTES else "PUT"
    if request.method != expected_method:
        return "", 405
    return _update_settings(uid, {key: index_settings.parse_one(key, json_body(), "")})


def _update_settings(uid: str, patch: dict):
    valid_uid(uid)
    store = emulator().store

    def update(now_ns: int) -> dict:
        index = store.get_or_create(uid, now_ns)
        index.settings = index_settings.apply_patch(index.settings, patch)
        index.updated_ns = now_ns
        return {}

    return _accepted(uid, "settingsUpdate", dict(patch), update)
