"""Fault knobs and counters, shared by the Python API and the ``/_emulator`` endpoints.

Faults are deterministic ("the next 3 requests", "the 2nd fragment from now") rather than
random, so a test can assert exactly how the client reacted to each one.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass

RESYNC_CODES = ("resyncChangesApplyDifferences", "resyncChangesUploadDifferences")


@dataclass
class RequestFault:
    """The next ``remaining`` requests whose path starts with ``path_prefix`` answer ``status``."""

    status: int
    remaining: int
    retry_after: int | None
    path_prefix: str


@dataclass
class FragmentFault:
    """The ``countdown``-th valid upload fragment from now answers ``status``; nothing is stored."""

    status: int
    countdown: int


@dataclass
class Delay:
    seconds: float
    path_prefix: str


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._requests: list[RequestFault] = []
            self._fragment: FragmentFault | None = None
            self._delay: Delay | None = None
            self._delta_resyncs: list[str] = []

    def fail_requests(
        self, status: int = 429, *, count: int = 1, retry_after: int | None = None, path_prefix: str = "/v1.0/"
    ) -> None:
        """Queue ``count`` failures; several calls queue one after another."""
        if count < 1 or not 400 <= status <= 599:
            raise ValueError("count must be >= 1 and status a 4xx or 5xx")
        with self._lock:
            self._requests.append(RequestFault(status, count, retry_after, path_prefix))

    def fail_fragment(self, nth: int = 1, *, status: int = 500) -> None:
        if nth < 1 or not 500 <= status <= 599:
            raise ValueError("nth must be >= 1 and status a 5xx")
        with self._lock:
            self._fragment = FragmentFault(status, nth)

    def delay(self, seconds: float, *, path_prefix: str = "/v1.0/") -> None:
        """Hold every matching request ``seconds`` before answering (0 turns it off)."""
        with self._lock:
            self._delay = Delay(seconds, path_prefix) if seconds > 0 else None

    def force_delta_resync(self, *, count: int = 1, code: str = RESYNC_CODES[0]) -> None:
        """The next ``count`` delta calls carrying a token answer 410 Gone with ``code``."""
        if code not in RESYNC_CODES:
            raise ValueError(f"code must be one of {RESYNC_CODES}")
        with self._lock:
            self._delta_resyncs += [code] * count

    # -- consumed by the request pipeline ----------------------------------------------------
    def take_request_fault(self, path: str) -> RequestFault | None:
        with self._lock:
            for fault in self._requests:
                if path.startswith(fault.path_prefix):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._requests.remove(fault)
                    return fault
        return None

    def take_fragment_fault(self) -> int | None:
        with self._lock:
            if self._fragment is None:
                return None
            self._fragment.countdown -= 1
            if self._fragment.countdown:
                return None
            status, self._fragment = self._fragment.status, None
            return status

    def delay_for(self, path: str) -> float:
        with self._lock:
            delay = self._delay
        return delay.seconds if delay and path.startswith(delay.path_prefix) else 0.0

    def take_delta_resync(self) -> str | None:
        with self._lock:
            return self._delta_resyncs.pop(0) if self._delta_resyncs else None

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "requests": [asdict(fault) for fault in self._requests],
                "fragment": asdict(self._fragment) if self._fragment else None,
                "delay": asdict(self._delay) if self._delay else None,
                "delta_resyncs": list(self._delta_resyncs),
            }


class Counters:
    """Figures for tests and benchmarks: requests per route, fragments and bytes received."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests: Counter[str] = Counter()
            self._faults: Counter[int] = Counter()
            self._figures: Counter[str] = Counter()

    def request(self, label: str) -> None:
        with self._lock:
            self._requests[label] += 1

    def fault_served(self, status: int) -> None:
        with self._lock:
            self._faults[status] += 1

    def add(self, figure: str, amount: int = 1) -> None:
        with self._lock:
            self._figures[figure] += amount

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "requests": dict(self._requests),
                "faults_served": {str(status): n for status, n in self._faults.items()},
                **{name: self._figures[name] for name in FIGURES},
            }


# Named figures, always present in a snapshot (0 until something happens).
FIGURES = (
    "tokens_issued",
    "fragments_received",
    "fragment_bytes_received",
    "simple_upload_bytes_received",
    "files_committed",
    "download_redirects",
)
