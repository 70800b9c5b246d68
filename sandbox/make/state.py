"""The emulator's mutable state: one JSON document behind one lock, optionally kept on disk.

Everything that a restart must not lose lives here (hooks with their queues, scenarios with
their blueprints, the data store, posts, and the logs the inspection endpoints report), so
``make run`` can restart the emulator without orphaning the CMS's scenarios. The document is
rewritten atomically after every change; it is small in the uses this sandbox has.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from contextlib import contextmanager
from datetime import datetime, timezone

STATE_VERSION = 2


def fresh_state() -> dict:
    """An empty document. Map keys are strings because the document round-trips through JSON."""
    return {
        "version": STATE_VERSION,
        "next_id": {"hook": 4701, "scenario": 925, "execution": 1, "post": 1},
        "hooks": {},  # str(id) -> hook record, with its FIFO "queue" of payloads
        "scenarios": {},  # str(id) -> scenario record, with its parsed "blueprint"
        "installed_apps": [],  # apps installed by a confirmed=true create/clone/patch
        "datastore": {},  # Make's Data Store: key -> the record datastore:AddRecord wrote
        "network": {},  # what the networks took: idempotency_key -> {"id", "url"}
        "posts": [],  # one entry per post actually made on a (pretend) network
        "deliveries": [],  # one entry per webhook POST accepted
        "executions": [],  # one entry per scenario run
        "callbacks": [],  # one entry per HTTP request an http:MakeRequest module sent
    }


def utc_now_iso() -> str:
    """Make's timestamp form: ``2025-01-01T10:00:00.000Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class State:
    """Thread-safe access to the document: ``read()`` to look, ``change()`` to modify and save.

    Callers validate before they mutate, so a change block that raises leaves nothing half-done
    worth saving.
    """

    def __init__(self, path: str | None):
        self._path = path
        self._lock = threading.RLock()
        self._data = self._load() or fresh_state()

    @contextmanager
    def read(self):
        with self._lock:
            yield self._data

    @contextmanager
    def change(self):
        with self._lock:
            yield self._data
            self._save()

    def replace(self, data: dict) -> None:
        with self._lock:
            self._data = data
            self._save()

    def allocate_id(self, data: dict, kind: str) -> int:
        """The next integer id of ``kind``; call inside ``change()``."""
        value = data["next_id"][kind]
        data["next_id"][kind] = value + 1
        return value

    def _load(self) -> dict | None:
        if not self._path or not os.path.exists(self._path):
            return None
        with open(self._path, encoding="utf-8") as handle:
            data = json.load(handle)
        if data.get("version") == 1:
            data = _from_version_1(data)
        if data.get("version") != STATE_VERSION:
            raise ValueError(
                f"{self._path}: state version {data.get('version')!r}, "
                f"expected {STATE_VERSION}; delete the file to start afresh"
            )
        return data

    def _save(self) -> None:
        if not self._path:
            return
        directory = os.path.dirname(os.path.abspath(self._path))
        os.makedirs(directory, exist_ok=True)
        # Write a sibling then rename, so a crash never leaves a truncated state file.
        fd, tmp_path = tempfile.mkstemp(prefix=".make-emulator-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self._data, handle, separators=(",", ":"))
            os.replace(tmp_path, self._path)
        except BaseException:
            os.unlink(tmp_path)
            raise


def _from_version_1(data: dict) -> dict:
    """Version 1 kept one map for both the Data Store and the networks' posts, written by the
    network module itself; version 2 keeps the records the blueprint's AddRecord writes."""
    posted = data.pop("datastore", {})
    data.update(
        version=2,
        network=posted,
        datastore={key: {"external_id": post["id"], "external_url": post["url"]} for key, post in posted.items()},
    )
    return data
