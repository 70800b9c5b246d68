"""The app served by gunicorn in a subprocess, for uploads over a real socket and for measuring
the web process's memory (tests/test_media_upload_live.py and bench/media_upload.py)."""

from __future__ import annotations

import functools
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@functools.cache
def _clip() -> bytes:
    from tests.media_support import video

    return video("mp4", "libx264", frames=10)


def video_body(total: int, nonce: bytes, digest=None, chunk: int = MiB) -> Iterator[bytes]:
    """`total` bytes made on demand (never held whole): a real MP4 (the upload decodes it),
    then a `free` box (ISO/IEC 14496-12 §8.1.2, skipped by readers) of a nonce and zeros."""
    clip = _clip()
    head = clip + (total - len(clip)).to_bytes(4, "big") + b"free" + nonce
    zeros = bytes(chunk)
    if digest:
        digest.update(head)
    yield head
    remaining = total - len(head)
    while remaining > 0:
        piece = zeros if remaining >= chunk else zeros[:remaining]
        if digest:
            digest.update(piece)
        remaining -= len(piece)
        yield piece


class WebProcess:
    """`gunicorn wsgi:app` with one gthread worker; `peak_rss()` reads the worker's VmHWM."""

    def __init__(self, env: dict, threads: int = 4, app_spec: str = "wsgi:app"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env, self.threads, self.app_spec = env, threads, app_spec
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "WebProcess":
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                "1",
                "-k",
                "gthread",
                "--threads",
                str(self.threads),
                "-b",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "600",
                "--log-level",
                "warning",
                self.app_spec,
            ],
            cwd=ROOT,
            env={**os.environ, **self.env},
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/healthz", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a request still hanging on an open socket
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    @property
    def worker_pid(self) -> int:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return int(children[0])

    def _status(self, field: str) -> int:
        text = Path(f"/proc/{self.worker_pid}/status").read_text()
        return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1)) * 1024

    def peak_rss(self) -> int:
        return self._status("VmHWM")

    def reset_peak(self) -> None:
        """Start the high-water mark again from the current RSS (Linux: clear_refs 5)."""
        Path(f"/proc/{self.worker_pid}/clear_refs").write_text("5")


def signed_in(base_url: str, email: str, password: str) -> tuple[httpx.Client, str]:
    """An HTTP client logged in as `email`, and the CSRF token for its requests."""
    client = httpx.Client(base_url=base_url, timeout=600)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.text[:300]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/media/").text).group(1)
    return client, token


def upload_stream(client: httpx.Client, token: str, name: str, total: int, body) -> httpx.Response:
    return client.post(
        "/media/upload",
        content=body,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Length": str(total),
            "X-Filename": name,
            "X-CSRFToken": token,
            "Accept": "application/json",
            "Accept-Language": "en",
        },
    )
