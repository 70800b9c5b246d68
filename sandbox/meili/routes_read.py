"""The read routes: health, search, and the task list the client polls."""

from __future__ import annotations

from flask import Blueprint, request

from .errors import MeiliError, not_emulated
from .search import parse_search_request, search
from .tasks import TASK_STATUSES, TASK_TYPES
from .web import check_query, emulator, json_body, query_int, query_list, valid_uid

bp = Blueprint("meilisearch_reads", __name__)
TASK_QUERY = ["limit", "from", "reverse", "uids", "types", "statuses", "indexUids"]
TASK_QUERY_NOT_EMULATED = (
    "batchUids",
    "canceledBy",
    "afterEnqueuedAt",
    "beforeEnqueuedAt",
    "afterStartedAt",
    "beforeStartedAt",
    "afterFinishedAt",
    "beforeFinishedAt",
)


@bp.get("/health")
def health():
    return {"status": "available"}


@bp.post("/indexes/<uid>/search")
def search_index(uid: str):
    search_request = parse_search_request(json_body())
    store = emulator().store
    with store.lock:
        return search(store.get(valid_uid(uid)), search_request)


@bp.get("/indexes/<uid>/search")
def search_index_by_get(uid: str):
    raise not_emulated("search with GET (the Python client uses POST)")


@bp.get("/indexes/<uid>/stats")
def index_stats(uid: str):
    """Document count and field distribution, e.g. for a re-index job to compare with the DB."""
    current = emulator()
    with current.store.lock:
        index = current.store.get(valid_uid(uid))
        distribution: dict[str, int] = {}
        for entry in index.documents.values():
            for path in entry.paths:
                distribution[path] = distribution.get(path, 0) + 1
        indexing = bool(
            current.tasks.select(lambda task: task.index_uid == uid and task.status in ("enqueued", "processing"))
        )
        return {"numberOfDocuments": len(index.documents), "isIndexing": indexing, "fieldDistribution": distribution}


@bp.get("/tasks/<uid>")
def get_task(uid: str):
    if not uid.isdigit():
        raise MeiliError(
            400, "invalid_task_uids", f"Task uid `{uid}` is invalid. It should only contain numeric characters."
        )
    task = emulator().tasks.get(int(uid))
    if task is None:
        raise MeiliError(404, "task_not_found", f"Task `{uid}` not found.")
    return task.view()


@bp.get("/tasks")
def list_tasks():
    check_query(TASK_QUERY, TASK_QUERY_NOT_EMULATED)
    limit = query_int("limit", "invalid_task_limit", 20)
    start = query_int("from", "invalid_task_from", -1)
    reverse = request.args.get("reverse", "false")
    if reverse not in ("true", "false"):
        raise MeiliError(
            400,
            "invalid_task_reverse",
            f"Invalid value in parameter `reverse`: could not parse `{reverse}` as a boolean",
        )
    uids = _task_uids(query_list("uids"))
    statuses = _checked(query_list("statuses"), TASK_STATUSES, "statuses", "task status")
    types = _checked(query_list("types"), TASK_TYPES, "types", "task type")
    index_uids = query_list("indexUids")
    for index_uid in index_uids or ():
        valid_uid(index_uid, "invalid_task_index_uids")

    def accept(task) -> bool:
        return (
            (uids is None or task.uid in uids)
            and (statuses is None or task.status in statuses)
            and (types is None or task.type in types)
            and (index_uids is None or task.index_uid in index_uids)
        )

    matching = emulator().tasks.select(accept)
    total = len(matching)
    if reverse == "true":
        matching.reverse()
    if start >= 0:
        matching = [task for task in matching if (task.uid >= start if reverse == "true" else task.uid <= start)]
    page = matching[:limit]
    return {
        "results": [task.view() for task in page],
        "total": total,
        "limit": limit,
        "from": page[0].uid if page else None,
        "next": matching[limit].uid if len(matching) > limit else None,
    }


def _task_uids(values: list[str] | None) -> set[int] | None:
    if values is None:
        return None
    for value in values:
        if not value.isdigit():
            raise MeiliError(
                400,
                "invalid_task_uids",
                f"Invalid value in parameter `uids`: could not parse `{value}` as a positive integer",
            )
    return {int(value) for value in values}


def _checked(values: list[str] | None, accepted: list[str], parameter: str, what: str):
    for value in values or ():
        if value not in accepted:
            listed = ", ".join(f"`{name}`" for name in accepted)
            raise MeiliError(
                400,
                f"invalid_task_{parameter}",
                f"Invalid value in parameter `{parameter}`: `{value}` is not a valid "
                f"{what}. Available {parameter} are {listed}.",
            )
    return values
