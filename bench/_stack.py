"""What the benchmarks share: real servers (the machine's or embedded) and measuring helpers."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def servers():
    """TEST_DATABASE_URL / TEST_REDIS_URL when set, else embedded servers under .cache/bench."""
    from app.config import database_url
    from app.embedded import EmbeddedPostgres, EmbeddedRedis
    from tests.conftest import Servers

    stack = []
    db_url = os.environ.get("TEST_DATABASE_URL")
    if not db_url:
        pg = EmbeddedPostgres(ROOT / ".cache" / "bench-postgres").start()
        stack.append(pg)
        db_url = pg.url("postgres")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        redis = EmbeddedRedis(ROOT / ".cache" / "bench-redis", persist=False).start()
        stack.append(redis)
        redis_url = redis.url
    return Servers(database_url(db_url), redis_url), stack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn(app_spec: str, env: dict, workers: int = 2, threads: int = 4) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app_spec,
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/healthz")
    return proc, url


def wait_http(url: str, timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 50):.1f} ms, p95 {percentile(values, 95):.1f} ms, "
        f"p99 {percentile(values, 99):.1f} ms, mean {statistics.fmean(values):.1f} ms"
    )
