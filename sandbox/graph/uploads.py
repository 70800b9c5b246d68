"""Upload sessions over HTTP: ``createUploadSession`` and the pre-authenticated ``uploadUrl``.

Stricter than SharePoint on purpose, so that a client proven here is safe there: fragments
must arrive strictly in order (416 ``invalidRange`` otherwise), every fragment but the last is
a multiple of 320 KiB (else 400), each is under 60 MiB, the total never changes
(``fragmentLengthMismatch``), and any ``Authorization`` header on the upload URL is a 401.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, request

from .addressing import Target, destination
from .blobs import IncompleteBody, copy_exactly
from .representations import item_json
from .sessions import UploadSession
from .state import GraphEmulator, current_emulator
from .tree import validate_conflict_behavior
from .wire import GraphError, iso_millis, json_response, read_json_body

CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")

bp = Blueprint("uploads", __name__)


def create_upload_session(target: Target):
    emulator = current_emulator()
    item_props, defer_commit, declared_size = _session_request(read_json_body())
    behavior = validate_conflict_behavior(item_props.get("@microsoft.graph.conflictBehavior", "fail"))
    if_match = request.headers.get("If-Match")
    with emulator.lock:
        item, parent, name = destination(emulator, target)
        if item is not None:
            emulator.drive.check_if_match(item, if_match)
            name = item.name
        else:
            if item_props.get("name") not in (None, name):
                raise GraphError(400, "The name in the request body must match the name in the path.")
            emulator.drive.check_if_match(emulator.drive.child(parent, name), if_match)
        if declared_size is not None:
            emulator.drive.ensure_quota(declared_size)
        session = emulator.uploads.open(
            name=name,
            parent_id=parent.id if parent else None,
            item_id=item.id if item else None,
            conflict=behavior,
            defer_commit=defer_commit,
            if_match=if_match,
            description=item_props.get("description"),
            declared_size=declared_size,
        )
    return json_response(
        {
            "uploadUrl": f"{emulator.content_base()}_upload/{session.id}",
            "expirationDateTime": iso_millis(session.expires_at),
            "nextExpectedRanges": ["0-"],
        }
    )


def _session_request(body: dict) -> tuple[dict, bool, int | None]:
    """``item`` (an object), ``deferCommit`` (a boolean) and ``item.fileSize`` (bytes)."""
    item_props = body.get("item") or {}
    defer_commit = body.get("deferCommit", False)
    declared_size = item_props.get("fileSize") if isinstance(item_props, dict) else None
    size_ok = declared_size is None or (type(declared_size) is int and declared_size >= 0)
    if not isinstance(item_props, dict) or not isinstance(defer_commit, bool) or not size_ok:
        raise GraphError(
            400,
            "Invalid createUploadSession body: 'item' must be an object, "
            "'deferCommit' a boolean and 'item.fileSize' a size in bytes.",
        )
    return item_props, defer_commit, declared_size


@bp.before_request
def refuse_bearer_tokens():
    """The upload URL is pre-authenticated; a bearer token sent here is a client bug."""
    if "Authorization" in request.headers:
        raise GraphError(401, "Do not send an Authorization header to the upload URL.", code="unauthenticated")


@bp.get("/_upload/<session_id>")
def session_status(session_id: str):
    session = current_emulator().uploads.live(session_id)
    return _status(session, 200)


@bp.delete("/_upload/<session_id>")
def cancel_session(session_id: str):
    uploads = current_emulator().uploads
    uploads.discard(uploads.live(session_id))
    return Response(status=204)


@bp.put("/_upload/<session_id>")
def put_fragment(session_id: str):
    emulator = current_emulator()
    session = emulator.uploads.live(session_id)
    start, end, total = _fragment_range(emulator)
    with session.lock:
        emulator.uploads.ensure_live(session)
        _check_order(session, start, total)
        is_last = end + 1 == total
        granularity = emulator.config.fragment_granularity
        if not is_last and (end - start + 1) % granularity:
            raise GraphError(
                400,
                f"Every fragment but the last must be a multiple of "
                f"{granularity} bytes (320 KiB); got {end - start + 1}.",
            )
        injected = emulator.faults.take_fragment_fault()
        if injected:
            emulator.counters.fault_served(injected)
            raise GraphError(injected, "Injected failure: the fragment was not stored.")
        _append(emulator, session, start, end, total)
        if not is_last or session.defer_commit:
            return _status(session, 202)
        return _commit(emulator, session)


@bp.post("/_upload/<session_id>")
def commit_session(session_id: str):
    """The explicit commit of a ``deferCommit`` session: an empty POST once all bytes are in."""
    emulator = current_emulator()
    session = emulator.uploads.live(session_id)
    if not session.defer_commit:
        raise GraphError(400, "This upload session commits on its last fragment; it was not created with deferCommit.")
    if request.content_length:
        raise GraphError(400, "The commit request must have an empty body.")
    with session.lock:
        emulator.uploads.ensure_live(session)
        if not session.complete:
            raise GraphError(400, "The upload session is missing bytes.", inner_code="uploadSessionIncomplete")
        return _commit(emulator, session)


def _fragment_range(emulator: GraphEmulator) -> tuple[int, int, int]:
    match = CONTENT_RANGE.fullmatch(request.headers.get("Content-Range", ""))
    if not match:
        raise GraphError(400, "A Content-Range header 'bytes {start}-{end}/{total}' is required.")
    start, end, total = map(int, match.groups())
    length = request.content_length
    if length is None:
        raise GraphError(411, "A Content-Length header is required.")
    if start > end or end >= total:
        raise GraphError(400, f"Invalid Content-Range 'bytes {start}-{end}/{total}'.")
    if length != end - start + 1:
        raise GraphError(400, "Content-Length does not match the Content-Range.")
    if length >= emulator.config.fragment_max_bytes:
        raise GraphError(
            413,
            f"Each fragment must be under {emulator.config.fragment_max_bytes} bytes (60 MiB).",
            inner_code="maxFragmentLengthExceeded",
        )
    return start, end, total


def _check_order(session: UploadSession, start: int, total: int) -> None:
    expected_total = session.total if session.total is not None else session.declared_size
    if expected_total is not None and total != expected_total:
        raise GraphError(
            400,
            f"Declared total size {total} differs from the session's {expected_total}.",
            inner_code="fragmentLengthMismatch",
        )
    if start < session.received or session.complete:
        raise GraphError(
            416,
            f"The fragment overlaps bytes already received (next expected: {session.received}).",
            inner_code="fragmentOverlap",
        )
    if start > session.received:
        raise GraphError(
            416, f"Fragments must arrive in order (next expected: {session.received}).", inner_code="fragmentOutOfOrder"
        )


def _append(emulator: GraphEmulator, session: UploadSession, start: int, end: int, total: int) -> None:
    """Stream the fragment onto the session file; a short body leaves the session unchanged."""
    hasher = session.hasher.copy()
    with session.path.open("r+b") as out:
        out.seek(start)
        try:
            copy_exactly(request.stream, out, end - start + 1, hasher)
        except IncompleteBody as error:
            out.truncate(start)
            raise GraphError(400, str(error))
    emulator.uploads.ensure_live(session)  # it may have expired while the bytes streamed
    session.total, session.received, session.hasher = total, end + 1, hasher
    emulator.uploads.extend(session)
    emulator.counters.add("fragments_received")
    emulator.counters.add("fragment_bytes_received", end - start + 1)


def _commit(emulator: GraphEmulator, session: UploadSession):
    """Create or update the file. A clash answers here, as in production, and the session
    stays (with all its bytes) until it expires, so a deferred commit can be retried."""
    with emulator.lock:
        drive = emulator.drive
        if session.item_id is not None:
            item = drive.get(session.item_id)
            drive.check_replace(item, session.if_match, session.total)
        else:
            parent = drive.get(session.parent_id)
            drive.check_new_content(parent, session.name, session.conflict, session.if_match, session.total)
        blob = emulator.blobs.adopt(emulator.blobs.new_key(), session.path, session.total, session.hasher)
        emulator.uploads.forget(session)
        if session.item_id is not None:
            drive.add_version(item, blob)
            created = False
        else:
            item, created = drive.store_content(
                parent, session.name, session.conflict, session.if_match, blob, session.description
            )
        emulator.counters.add("files_committed")
        return json_response(item_json(emulator, item), 201 if created else 200)


def _status(session: UploadSession, status: int):
    return json_response(
        {"expirationDateTime": iso_millis(session.expires_at), "nextExpectedRanges": session.next_expected_ranges()},
        status,
    )
