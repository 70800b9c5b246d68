"""``root/delta``: the drive's change feed, paged with ``nextLink`` and resumed with ``deltaLink``.

A token records a window of the drive's change log (``since``, ``upto``) and the emulator run
it came from: a token from another run, like a token SharePoint has forgotten, answers
410 Gone with a ``Location`` that restarts the enumeration. The fault knob forces that 410.
"""

from __future__ import annotations

import base64
import binascii

from flask import request

from .addressing import Target
from .representations import item_json, tombstone_json
from .state import GraphEmulator, current_emulator
from .tree import Item
from .wire import GraphError, json_response

MAX_PAGE_SIZE = 1000


def delta(target: Target):
    emulator = current_emulator()
    token = request.args.get("token")
    page_size = _page_size(emulator)
    with emulator.lock:
        head = emulator.drive.seq
        if token == "latest":
            return json_response({"value": [], "@odata.deltaLink": _link(emulator, head)})
        if token is None:
            since, upto, initial = 0, head, True
        else:
            since, upto, initial = _decode(emulator, token)
            resync_code = emulator.faults.take_delta_resync()
            if resync_code:
                raise _resync(emulator, resync_code)
            upto = upto or head  # a deltaLink token is open-ended: everything up to now
        changes = emulator.drive.changes(since, upto, with_deletions=not initial)
        page = changes[:page_size]
        body = {
            "value": [
                item_json(emulator, entry) if isinstance(entry, Item) else tombstone_json(emulator, entry)
                for entry in page
            ]
        }
        if len(changes) > page_size:
            body["@odata.nextLink"] = _link(emulator, page[-1].seq, upto, initial)
        else:
            body["@odata.deltaLink"] = _link(emulator, upto)
        return json_response(body)


def _page_size(emulator: GraphEmulator) -> int:
    top = request.args.get("$top")
    if top is None:
        return emulator.config.delta_page_size
    if not top.isdigit() or not 0 < int(top) <= MAX_PAGE_SIZE:
        raise GraphError(400, f"Invalid $top value: {top!r}.", inner_code="invalidQueryOption")
    return int(top)


def _delta_url(emulator: GraphEmulator) -> str:
    return f"{request.host_url}v1.0/drives/{emulator.config.drive_id}/root/delta"


def _link(emulator: GraphEmulator, since: int, upto: int = 0, initial: bool = False) -> str:
    """``upto`` 0 makes a deltaLink (open-ended); otherwise a nextLink within one round."""
    raw = f"{emulator.instance}.{since}.{upto}.{int(initial)}".encode()
    return f"{_delta_url(emulator)}?token={base64.urlsafe_b64encode(raw).decode().rstrip('=')}"


def _decode(emulator: GraphEmulator, token: str) -> tuple[int, int, bool]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        instance, since, upto, initial = raw.split(".")
        window = int(since), int(upto), initial == "1"
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise GraphError(400, "Provided sync token is malformed.", inner_code="invalidParameterFormat")
    if instance != emulator.instance:
        raise _resync(emulator, "resyncChangesApplyDifferences")
    return window


def _resync(emulator: GraphEmulator, code: str) -> GraphError:
    return GraphError(
        410,
        "Resync required. The delta token is no longer valid; restart the enumeration from the Location header.",
        code=code,
        inner_code="resyncRequired",
        headers={"Location": _delta_url(emulator)},
    )
