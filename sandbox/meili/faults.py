"""Fault knobs: make the emulator slow or broken on purpose, from Python or over HTTP.

They exist for the CMS's failover tests: a search that must give up after its
budget (``delay_ms``), a server answering 5xx (``fail_requests``), indexing that
lags or fails (``slow_tasks``, ``pause_tasks``, ``fail_next_tasks``). Every knob
is also settable with ``PATCH /_emulator/faults`` using the camelCase names of
:meth:`FaultKnobs.view`.
"""

from __future__ import annotations

import threading

from .errors import MeiliError

KNOBS = {
    # camelCase name: (attribute, type)
    "errorStatus": ("error_status", int),
    "errorCount": ("error_count", int),
    "errorAlways": ("error_always", bool),
    "errorPathPrefix": ("error_path_prefix", str),
    "delayMs": ("delay_ms", int),
    "delayPathPrefix": ("delay_path_prefix", str),
    "taskDelayMs": ("task_delay_ms", int),
    "taskProcessingMs": ("task_processing_ms", int),
    "tasksPaused": ("tasks_paused", bool),
    "failNextTasks": ("tasks_to_fail", int),
    "taskErrorCode": ("task_error_code", str),
}


class FaultKnobs:
    """Thread-safe fault settings; ``clear()`` returns to a healthy server."""

    def __init__(self, default_task_delay_ms: int) -> None:
        self._lock = threading.Lock()
        self._default_task_delay_ms = default_task_delay_ms
        self.on_change = lambda: None  # the task queue re-checks its schedule
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.error_status = 503
            self.error_count = 0  # the next N requests fail...
            self.error_always = False  # ...or every request until cleared
            self.error_path_prefix = None
            self.delay_ms = 0
            self.delay_path_prefix = None
            self.task_delay_ms = self._default_task_delay_ms
            self.task_processing_ms = 0
            self.tasks_paused = False
            self.tasks_to_fail = 0
            self.task_error_code = "internal"
        self.on_change()

    def fail_requests(self, count: int | None = 1, *, status: int = 503, path_prefix: str | None = None) -> None:
        """Answer ``status`` to the next ``count`` requests, or to all of them if None."""
        self.update(errorStatus=status, errorCount=count or 0, errorAlways=count is None, errorPathPrefix=path_prefix)

    def delay_responses(self, ms: int, *, path_prefix: str | None = None) -> None:
        self.update(delayMs=ms, delayPathPrefix=path_prefix)

    def slow_tasks(self, *, delay_ms: int | None = None, processing_ms: int | None = None) -> None:
        """Keep tasks ``enqueued`` for ``delay_ms`` and ``processing`` for ``processing_ms``."""
        changes = {"taskDelayMs": delay_ms, "taskProcessingMs": processing_ms}
        self.update(**{name: value for name, value in changes.items() if value is not None})

    def pause_tasks(self) -> None:
        self.update(tasksPaused=True)

    def resume_tasks(self) -> None:
        self.update(tasksPaused=False)

    def fail_next_tasks(self, count: int = 1, *, code: str = "internal") -> None:
        self.update(failNextTasks=count, taskErrorCode=code)

    def update(self, **changes) -> None:
        """Set knobs by their camelCase names; the whole change is validated first."""
        validated = {}
        for name, value in changes.items():
            if name not in KNOBS:
                raise MeiliError(
                    400,
                    "bad_request",
                    f"Unknown fault knob `{name}`: expected one of {', '.join(f'`{k}`' for k in KNOBS)}",
                )
            attribute, kind = KNOBS[name]
            nullable = name.endswith("PathPrefix")
            if (value is None and not nullable) or (
                value is not None
                and (
                    not isinstance(value, kind)
                    or (kind is int and isinstance(value, bool))
                    or (kind is int and value < 0)
                )
            ):
                raise MeiliError(
                    400,
                    "bad_request",
                    f"Fault knob `{name}` must be a {'non-negative integer' if kind is int else kind.__name__}.",
                )
            if name == "errorStatus" and not 500 <= value <= 599:
                raise MeiliError(400, "bad_request", "Fault knob `errorStatus` must be a 5xx.")
            validated[attribute] = value
        with self._lock:
            for attribute, value in validated.items():
                setattr(self, attribute, value)
        self.on_change()

    def view(self) -> dict:
        with self._lock:
            return {name: getattr(self, attribute) for name, (attribute, _) in KNOBS.items()}

    def take_request_error(self, path: str) -> int | None:
        """The status to answer this request with, consuming one counted failure."""
        with self._lock:
            if self.error_path_prefix and not path.startswith(self.error_path_prefix):
                return None
            if self.error_always:
                return self.error_status
            if self.error_count > 0:
                self.error_count -= 1
                return self.error_status
            return None

    def response_delay(self, path: str) -> float:
        with self._lock:
            if self.delay_path_prefix and not path.startswith(self.delay_path_prefix):
                return 0.0
            return self.delay_ms / 1000

    def take_task_failure(self) -> str | None:
        """The error code the task being started must fail with, if any."""
        with self._lock:
            if self.tasks_to_fail > 0:
                self.tasks_to_fail -= 1
                return self.task_error_code
            return None
