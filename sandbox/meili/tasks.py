"""The asynchronous task queue: every write is answered 202 and applied later.

One worker thread takes tasks in enqueue order, each once it has waited the
configured delay, so client code must really poll ``GET /tasks/{uid}``. A task
applies its change and becomes ``succeeded`` while holding the store lock, so a
search can never see a change whose task is not yet ``succeeded``. Failures only
ever show up in ``task.error``: the HTTP answer was already 202.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

from .clock import iso_duration, rfc3339
from .errors import MeiliError, error_body
from .faults import FaultKnobs
from .state import Store

TASK_STATUSES = ["enqueued", "processing", "succeeded", "failed", "canceled"]
TASK_TYPES = [
    "documentAdditionOrUpdate",
    "documentEdition",
    "documentDeletion",
    "settingsUpdate",
    "indexCreation",
    "indexDeletion",
    "indexUpdate",
    "indexSwap",
    "taskCancelation",
    "taskDeletion",
    "dumpCreation",
    "snapshotCreation",
    "export",
    "upgradeDatabase",
    "indexCompaction",
    "networkTopologyChange",
]


@dataclass(eq=False)
class Task:
    uid: int
    index_uid: str | None
    type: str
    details: dict
    operation: Callable[[int], dict]  # applies the change, returns final details
    counts: tuple[str, ...]  # details that read 0 when the task fails
    enqueued_ns: int
    enqueued_at: float  # monotonic, for the processing delay
    status: str = "enqueued"
    error: dict | None = None
    started_ns: int | None = None
    finished_ns: int | None = None

    def summary(self) -> dict:
        """The 202 body of every write."""
        return {
            "taskUid": self.uid,
            "indexUid": self.index_uid,
            "status": self.status,
            "type": self.type,
            "enqueuedAt": rfc3339(self.enqueued_ns),
        }

    def view(self) -> dict:
        finished = self.finished_ns is not None
        return {
            "uid": self.uid,
            "indexUid": self.index_uid,
            "status": self.status,
            "type": self.type,
            "canceledBy": None,
            "details": self.details,
            "error": self.error,
            "duration": iso_duration(self.finished_ns - self.started_ns) if finished else None,
            "enqueuedAt": rfc3339(self.enqueued_ns),
            "startedAt": rfc3339(self.started_ns) if self.started_ns else None,
            "finishedAt": rfc3339(self.finished_ns) if finished else None,
        }


class TaskQueue:
    def __init__(self, store: Store, faults: FaultKnobs) -> None:
        self._store = store
        self._faults = faults
        self._changed = threading.Condition()
        self._tasks: dict[int, Task] = {}
        self._pending: deque[Task] = deque()
        self._next_uid = 0
        self._stopping = False
        self._thread = threading.Thread(target=self._work, name="meili-emulator-tasks", daemon=True)
        faults.on_change = self.wake

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._thread.join(timeout=5)

    def wake(self) -> None:
        """Re-check the schedule (a fault knob changed)."""
        with self._changed:
            self._changed.notify_all()

    def reset(self) -> None:
        """Forget every task; uids start again at 0, as on a fresh server."""
        with self._store.lock, self._changed:
            self._tasks.clear()
            self._pending.clear()
            self._next_uid = 0

    def enqueue(
        self,
        index_uid: str | None,
        task_type: str,
        details: dict,
        operation: Callable[[int], dict],
        counts: tuple[str, ...] = (),
    ) -> Task:
        with self._changed:
            task = Task(
                self._next_uid, index_uid, task_type, details, operation, counts, time.time_ns(), time.monotonic()
            )
            self._next_uid += 1
            self._tasks[task.uid] = task
            self._pending.append(task)
            self._changed.notify_all()
            return task

    def get(self, uid: int) -> Task | None:
        with self._changed:
            return self._tasks.get(uid)

    def select(self, accept: Callable[[Task], bool]) -> list[Task]:
        """Tasks passing ``accept``, newest first."""
        with self._changed:
            return [task for task in reversed(self._tasks.values()) if accept(task)]

    def counts_by_status(self) -> dict[str, int]:
        with self._changed:
            counts = dict.fromkeys(TASK_STATUSES, 0)
            for task in self._tasks.values():
                counts[task.status] += 1
            return counts

    def _work(self) -> None:
        while (task := self._next_due()) is not None:
            self._process(task)

    def _next_due(self) -> Task | None:
        with self._changed:
            while not self._stopping:
                if self._pending and not self._faults.tasks_paused:
                    task = self._pending[0]
                    wait = task.enqueued_at + self._faults.task_delay_ms / 1000 - time.monotonic()
                    if wait <= 0:
                        self._pending.popleft()
                        task.status, task.started_ns = "processing", time.time_ns()
                        return task
                    self._changed.wait(wait)
                else:
                    self._changed.wait()
            return None

    def _process(self, task: Task) -> None:
        started = time.monotonic()
        with self._changed:  # re-read the knob on each wake, so lowering it ends the wait
            while not self._stopping:
                remaining = started + self._faults.task_processing_ms / 1000 - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
        injected_code = self._faults.take_task_failure()
        with self._store.lock:
            if self.get(task.uid) is not task:
                return  # the emulator was reset meanwhile: this task no longer exists
            try:
                if injected_code:
                    raise MeiliError(500, injected_code, "Emulated fault: the task failed.", "internal")
                details, error = {**task.details, **task.operation(time.time_ns())}, None
            except MeiliError as failure:
                details = {**task.details, **dict.fromkeys(task.counts, 0)}
                error = error_body(failure.code, failure.message, failure.error_type)
            except Exception as bug:  # an emulator bug must fail the task, not kill the worker
                details = {**task.details, **dict.fromkeys(task.counts, 0)}
                error = error_body("internal", f"Emulator error: {bug!r}", "internal")
            with self._changed:
                task.details, task.error = details, error
                task.status = "failed" if error else "succeeded"
                task.finished_ns = time.time_ns()
