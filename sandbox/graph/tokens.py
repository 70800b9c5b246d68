"""Opaque access tokens: random strings only this emulator can validate.

Opaque on purpose, so a client can never start decoding them as if they were real JWTs;
``expire_all`` lets tests force the clear-the-cache-and-renew path after a 401.
"""

from __future__ import annotations

import secrets
import threading
from typing import Callable


class TokenStore:
    def __init__(self, clock: Callable[[], float], lifetime_s: int):
        self._clock = clock
        self._lifetime_s = lifetime_s
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}

    def issue(self) -> str:
        token = secrets.token_urlsafe(48)
        with self._lock:
            self._expiry[token] = self._clock() + self._lifetime_s
        return token

    def problem_with(self, token: str) -> str | None:
        """Why ``token`` is refused, or None when it is live."""
        with self._lock:
            expiry = self._expiry.get(token)
        if expiry is None:
            return "Access token validation failure. Invalid audience."
        if self._clock() >= expiry:
            return "Lifetime validation failed, the token is expired."
        return None

    def expire_all(self) -> None:
        with self._lock:
            self._expiry = dict.fromkeys(self._expiry, float("-inf"))

    def live_count(self) -> int:
        now = self._clock()
        with self._lock:
            return sum(expiry > now for expiry in self._expiry.values())
