"""Login throttling per account and per client IP (fixed windows in Redis).

The account key is the normalised e-mail as typed, whether or not such an account exists,
so the answer never tells an attacker which addresses are registered.
"""

from __future__ import annotations

import hashlib

from flask import current_app

from app.extensions import redis_store


def _keys(email: str, ip: str) -> tuple[str, str]:
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    return redis_store.key(f"auth:fail:acct:{digest}"), redis_store.key(f"auth:fail:ip:{ip}")


def retry_after(email: str, ip: str) -> int:
    """Seconds until another attempt is allowed, 0 when not throttled."""
    acct, by_ip = _keys(email, ip)
    cfg = current_app.config
    r = redis_store.client
    pipe = r.pipeline()
    pipe.get(acct).ttl(acct).get(by_ip).ttl(by_ip)
    acct_n, acct_ttl, ip_n, ip_ttl = pipe.execute()
    waits = []
    if int(acct_n or 0) >= cfg["LOGIN_MAX_FAILURES_ACCOUNT"]:
        waits.append(max(acct_ttl, 1))
    if int(ip_n or 0) >= cfg["LOGIN_MAX_FAILURES_IP"]:
        waits.append(max(ip_ttl, 1))
    return max(waits, default=0)


def record_failure(email: str, ip: str) -> None:
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    pipe = redis_store.client.pipeline()
    for key in _keys(email, ip):
        # The first failure opens the window (SET NX EX works on Redis 6.2; EXPIRE NX needs 7).
        pipe.set(key, 0, ex=window, nx=True).incr(key)
    pipe.execute()


def clear_account(email: str, ip: str) -> None:
    redis_store.client.delete(_keys(email, ip)[0])
