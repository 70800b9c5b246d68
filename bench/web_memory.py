"""Peak memory of the web process during a 1 GiB upload and a 1 GiB range download, with a second
client's page loads timed meanwhile: gunicorn started exactly as deployed
(`gunicorn --config gunicorn.conf.py wsgi:app`, its default workers and threads).

    .venv/bin/python bench/web_memory.py [--size 1073741824]

Both clients sign in first (argon2id's 64 MiB for the password check has nothing to do with the
transfers), then every worker's high-water mark (VmHWM) is reset (Linux: clear_refs 5). The
uploader sends `--size` bytes of a video (a real header, then zeros made on the fly, never held
whole in memory) to /media/upload; the peak RSS is then the highest VmHWM of any worker. The
high-water marks are reset again and the uploaded file is fetched through its signed link
(`/m/<token>`) with `Range: bytes=1-` (206, `--size` - 1 bytes read and dropped). Meanwhile the
other client loads the library, the calendar and the campaigns pages in a loop (one at a time);
their p95 is printed per phase, and for 10 s before the transfers (the same loads with no
transfer: what the machine gives anyway). The last line is one JSON object; the issue's target is a peak
under 150 MiB in each phase and a page p95 under 200 ms.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from _stack import ROOT, free_port, percentile, servers, wait_http

import httpx

from app.auth import service as accounts
from app.extensions import db
from app.models import MediaAsset, Role
from tests.conftest import create_database, drop_database, make_test_app
from tests.media_live import MiB, signed_in, upload_stream, video_body

PASSWORD = "bench password, long enough"
logging.getLogger("httpx").setLevel(logging.WARNING)
PAGES = ("/media/", "/calendar/", "/campaigns/")


def worker_pids(master: int) -> list[int]:
    return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def status_bytes(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1)) * 1024


def reset_peaks(master: int) -> None:
    for pid in worker_pids(master):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def peaks(master: int) -> dict[int, int]:
    return {pid: status_bytes(pid, "VmHWM") for pid in worker_pids(master)}


class PageLoads(threading.Thread):
    """The second client: one page after another until stopped, each load timed."""

    def __init__(self, client: httpx.Client):
        super().__init__(daemon=True)
        self.client, self.timings, self.failures = client, [], 0
        self.running = threading.Event()
        self.running.set()

    def run(self) -> None:
        n = 0
        while self.running.is_set():
            path = PAGES[n % len(PAGES)]
            started = time.perf_counter()
            response = self.client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code == 200:
                self.timings.append(elapsed)
            else:
                self.failures += 1
            n += 1
            time.sleep(0.05)

    def stop(self) -> dict:
        self.running.clear()
        self.join(30)
        return {
            "loads": len(self.timings),
            "failed": self.failures,
            "p50_ms": round(percentile(self.timings, 50), 1),
            "p95_ms": round(percentile(self.timings, 95), 1),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1024 * MiB)
    args = parser.parse_args()

    server_set, embedded = servers()
    database = create_database(server_set.database_url)
    root = Path(tempfile.mkdtemp(prefix="cms-bench-web-memory-"))
    tag = uuid.uuid4().hex[:8]
    namespace = f"bench-{tag}"
    app = make_test_app(
        server_set, database, MEDIA_ROOT=str(root), DRAMATIQ_NAMESPACE=namespace, REDIS_KEY_PREFIX=f"{namespace}:"
    )
    emails = [f"{who}-{tag}@example.org" for who in ("uploader", "reader")]
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        for email in emails:
            accounts.create_user(email, email.split("-")[0], Role.EDITOR, PASSWORD)
        db.session.commit()
    env = {
        **os.environ,
        "APP_ENV": "test",
        "SECRET_KEY": app.config["SECRET_KEY"],
        "DATABASE_URL": database,
        "REDIS_URL": server_set.redis_url,
        "MEDIA_ROOT": str(root),
        "DRAMATIQ_NAMESPACE": namespace,
        "REDIS_KEY_PREFIX": f"{namespace}:",
        "MAKE_CALLBACK_SECRET": "bench-callback-secret-0123456789",
        "PUBLIC_BASE_URL": "http://127.0.0.1",
        "LOG_LEVEL": "warning",
    }
    port = free_port()
    env["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=open(root / "gunicorn.err", "w"),
    )
    base = f"http://127.0.0.1:{port}"
    result = {"size": args.size}
    try:
        wait_http(base + "/healthz", timeout=180)
        uploader, token = signed_in(base, emails[0], PASSWORD)
        reader, _ = signed_in(base, emails[1], PASSWORD)
        for path in PAGES:  # each worker's first render (templates compiled) is not what we time
            for _ in range(len(worker_pids(web.pid)) * 2):
                assert reader.get(path).status_code == 200, path
        result["workers"] = len(worker_pids(web.pid))
        result["rss_before_mib"] = round(max(status_bytes(p, "VmRSS") for p in worker_pids(web.pid)) / MiB, 1)

        pages = PageLoads(reader)  # the same page loads with no transfer: the machine's own p95
        pages.start()
        time.sleep(10)
        result["idle_pages"] = pages.stop()

        reset_peaks(web.pid)
        pages = PageLoads(reader)
        pages.start()
        started = time.perf_counter()
        response = upload_stream(uploader, token, "big.mp4", args.size, video_body(args.size, os.urandom(16)))
        assert response.status_code == 200, response.text[:300]
        upload_s = time.perf_counter() - started
        result["upload"] = {
            "seconds": round(upload_s, 1),
            "peak_rss_mib": round(max(peaks(web.pid).values()) / MiB, 1),
            "pages": pages.stop(),
        }

        asset_id = response.json()["id"]
        with app.app_context():
            from app.media.links import make_token

            link = f"/m/{make_token(db.session.get(MediaAsset, asset_id))}"
        reset_peaks(web.pid)
        pages = PageLoads(reader)
        pages.start()
        started = time.perf_counter()
        received = 0
        with httpx.stream("GET", base + link, headers={"Range": "bytes=1-"}, timeout=600) as download:
            assert download.status_code == 206, download.status_code
            for chunk in download.iter_raw(1024 * 1024):
                received += len(chunk)
        assert received == args.size - 1, received
        result["download"] = {
            "seconds": round(time.perf_counter() - started, 1),
            "peak_rss_mib": round(max(peaks(web.pid).values()) / MiB, 1),
            "pages": pages.stop(),
        }
        uploader.close()
        reader.close()
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        try:
            web.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(web.pid, signal.SIGKILL)
        with app.app_context():
            db.engine.dispose()
        drop_database(server_set.database_url, database)
        if "download" not in result:
            print((root / "gunicorn.err").read_text()[-3000:], file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)
        import redis

        client = redis.Redis.from_url(server_set.redis_url)
        keys = list(client.scan_iter(f"{namespace}*", count=1000))
        if keys:
            client.delete(*keys)
        for service in embedded:
            service.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
