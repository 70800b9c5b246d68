"""The emulator object the routes share: config, state, knobs, limiters, RNG and the runner."""

from __future__ import annotations

import random
import threading
import time
from collections import deque

from flask import current_app

from .config import Knobs, MakeEmulatorConfig
from .runner import Runner
from .state import State, fresh_state

EXTENSION_KEY = "make_emulator"


def current() -> "Emulator":
    """The emulator of the app handling this request."""
    return current_app.extensions[EXTENSION_KEY]


class Emulator:
    """One emulated Make organisation. Seed data comes from the config and is read-only."""

    def __init__(self, config: MakeEmulatorConfig):
        self.config = config
        self.state = State(config.state_path)
        self.organizations = {org["id"]: org for org in config.organizations}
        self.teams = {team["id"]: team for team in config.teams}
        self.connections = {conn["id"]: conn for conn in config.connections}
        self._lock = threading.Lock()  # knobs, RNG and rate windows
        self._knobs = config.knobs
        self._rng = random.Random(config.seed)
        self._api_calls: deque[float] = deque()
        self._validate_calls: deque[float] = deque()
        self._hook_calls: dict[int, deque[float]] = {}
        self._revalidate()
        self.runner = Runner(self)
        self.runner.recover()

    def _revalidate(self) -> None:
        """Scenarios kept from an earlier run whose blueprint the catalogue now refuses are
        invalid and stopped, as a scenario created from it today would be."""
        from .validation import validate

        with self.state.change() as data:
            for scenario in data["scenarios"].values():
                if not scenario["isinvalid"] and validate(scenario["blueprint"]):
                    scenario.update(isinvalid=True, isActive=False, islinked=False)

    # -- knobs -------------------------------------------------------------------------------
    @property
    def knobs(self) -> Knobs:
        return self._knobs

    def set_knobs(self, changes: dict) -> Knobs:
        """Apply validated knob changes (``ValueError`` lists the bad ones)."""
        with self._lock:
            self._knobs = self._knobs.updated(changes)
            return self._knobs

    def take_fault(self, prefix: str) -> int | None:
        """Consume one forced failure of ``api`` or ``hook`` calls, if any is armed."""
        with self._lock:
            status = getattr(self._knobs, f"{prefix}_fail_status")
            count = getattr(self._knobs, f"{prefix}_fail_count")
            if status is None or count <= 0:
                return None
            self._knobs = self._knobs.updated({f"{prefix}_fail_count": count - 1})
            return status

    # -- rate limits -------------------------------------------------------------------------
    def allow_api_call(self) -> bool:
        """Count one API call against the per-minute limit (sliding window)."""
        limit = self._knobs.rate_limit_per_minute
        with self._lock:
            return limit is None or _admit(self._api_calls, limit, 60.0)

    def allow_validate_call(self) -> bool:
        """Count one call of the public validation endpoint against its per-minute limit."""
        limit = self._knobs.validate_rate_limit_per_minute
        with self._lock:
            return limit is None or _admit(self._validate_calls, limit, 60.0)

    def allow_hook_call(self, hook_id: int) -> bool:
        """Count one webhook POST against the per-hook limit (300 per 10 s by default)."""
        with self._lock:
            window = self._hook_calls.setdefault(hook_id, deque())
            return _admit(window, self.config.hook_rate_limit_per_10s, 10.0)

    # -- randomness --------------------------------------------------------------------------
    def random(self) -> float:
        with self._lock:
            return self._rng.random()

    def random_digits(self, length: int) -> str:
        with self._lock:
            return str(self._rng.randrange(10 ** (length - 1), 10**length))

    # -- helpers -----------------------------------------------------------------------------
    def live_connections(self, data: dict) -> dict:
        """The seeded connections minus those deleted through the API (kept in the state)."""
        gone = set(data.get("deleted_connections", ()))
        return {cid: conn for cid, conn in self.connections.items() if cid not in gone}

    def hook_url(self, udid: str, own_root: str) -> str:
        """The hook's public address: the configured base, else this server's ``/hook``."""
        base = self.config.hook_base_url or own_root.rstrip("/") + "/hook"
        return f"{base.rstrip('/')}/{udid}"

    def reset(self) -> None:
        """Back to the seed: no hooks, scenarios, posts or logs; knobs and RNG as configured."""
        self.runner.cancel_all()
        with self._lock:
            self._knobs = self.config.knobs
            self._rng = random.Random(self.config.seed)
            self._api_calls.clear()
            self._validate_calls.clear()
            self._hook_calls.clear()
        self.state.replace(fresh_state())

    def shutdown(self) -> None:
        """Stop the worker threads (in-flight runs are abandoned, their items stay queued)."""
        self.runner.shutdown()


def _admit(window: deque, limit: int, seconds: float) -> bool:
    now = time.monotonic()
    while window and now - window[0] >= seconds:
        window.popleft()
    if len(window) >= limit:
        return False
    window.append(now)
    return True
