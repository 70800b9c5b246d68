"""Upload a large file through the app over HTTP, to local storage and to SharePoint (the Graph
emulator), each against a bare transfer of the same bytes.

    .venv/bin/python bench/media_upload.py [--size 1073741824] [--rounds 3] [--skip-local]

Local half: both run under gunicorn (one gthread worker each) on loopback and receive the same
kind of bytes (a video header, a nonce, zeros, made on the fly by the client, never held in
memory): the app through /media/upload (session, CSRF, sniffing, limits, sha256, storage, the
row and its message), the floor through `bench.bare_upload` (the body written to a file, nothing
else). The rounds alternate between the two, and both keep their files, so they meet the same
disk state. Prints the app worker's peak RSS (VmHWM, reset after the sign-in: verifying the
password with argon2id takes 64 MiB that the upload has nothing to do with) and the app's
throughput as a ratio of the floor's, best round of each.

Graph half (one round; `--size` bytes written to a file first, so both send the same file):
the floor is a bare chunked httpx upload session straight to the emulator (10 MiB chunks, the
app's default); the app path is /media/upload on gunicorn with STORAGE_BACKEND=sharepoint (the
request stages the file), then the `store_media` actor in a Dramatiq worker process of its own
(bench/graph_worker.py) uploads it. `throughput_ratio` is the floor's time over the app's, from
the first byte sent to the web process until the worker has recorded the stored version; the
worker's part alone is printed too. Peak RSS of the web and of the worker process are measured
from after the sign-in and the worker's start. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _stack import servers

import httpx

from app.auth import service as accounts
from app.extensions import db
from app.models import MediaAsset, Role
from sandbox.graph import GraphEmulatorConfig, start_graph_emulator
from tests.conftest import create_database, drop_database, make_test_app
from tests.media_live import ROOT, MiB, WebProcess, signed_in, upload_stream, video_body

PASSWORD = "bench password, long enough"


def timed(send) -> float:
    started = time.perf_counter()
    response = send()
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text[:300]
    return elapsed


def run(env: dict, size: int, rounds: int) -> dict:
    bare_times, app_times = [], []
    with (
        WebProcess(env, app_spec="bench.bare_upload:app") as bare,
        WebProcess(env) as web,
        httpx.Client(timeout=600) as plain,
    ):
        client, token = signed_in(web.url, "bench@example.org", PASSWORD)
        signin_peak = web.peak_rss()
        web.reset_peak()
        before = web.peak_rss()
        for i in range(rounds):
            bare_times.append(
                timed(
                    lambda: plain.post(
                        bare.url + "/", content=video_body(size, os.urandom(16)), headers={"Content-Length": str(size)}
                    )
                )
            )
            app_times.append(
                timed(lambda: upload_stream(client, token, f"bench-{i}.mp4", size, video_body(size, os.urandom(16))))
            )
        peak = web.peak_rss()
        client.close()
    return {"bare": bare_times, "app": app_times, "signin_peak": signin_peak, "before": before, "peak": peak}


class WorkerProcess:
    """bench/graph_worker.py in a subprocess; `peak_rss()` reads its VmHWM."""

    def __init__(self, env: dict):
        self.env = env
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "WorkerProcess":
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "graph_worker.py")],
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        if self.proc.stdout.readline().strip() != "ready":
            self.__exit__()
            raise RuntimeError("the worker did not start")
        return self

    def __exit__(self, *exc) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def _status(self, field: str) -> int:
        text = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1)) * 1024

    def rss(self) -> int:
        return self._status("VmRSS")

    def peak_rss(self) -> int:
        return self._status("VmHWM")

    def reset_peak(self) -> None:
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")


def file_body(path: Path, chunk: int = MiB):
    with path.open("rb") as f:
        while piece := f.read(chunk):
            yield piece


def bare_chunked_upload(graph, source: Path, chunk: int) -> float:
    """Seconds for an upload session of `source` straight to the emulator: token and folder
    first (not timed), then the session and its chunks, as a minimal client would send them."""
    import httpx
    import msal

    config = graph.config
    token = msal.ConfidentialClientApplication(
        config.client_id,
        client_credential=config.client_secret,
        authority=graph.authority,
        instance_discovery=False,
        verify=str(graph.ca_path),
    ).acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    drive = f"{graph.graph_base}/drives/{config.drive_id}"
    total = source.stat().st_size
    with httpx.Client(verify=graph.client_ssl_context(), timeout=120) as http:
        http.post(
            f"{drive}/root/children",
            headers=auth,
            json={"name": "bare", "folder": {}, "@microsoft.graph.conflictBehavior": "replace"},
        )
        started = time.perf_counter()
        url = http.post(
            f"{drive}/root:/bare/{source.name}:/createUploadSession",
            headers=auth,
            json={"item": {"@microsoft.graph.conflictBehavior": "replace"}},
        ).json()["uploadUrl"]
        with source.open("rb") as f:
            offset = 0
            while offset < total:
                data = f.read(chunk)
                response = http.put(
                    url, content=data, headers={"Content-Range": f"bytes {offset}-{offset + len(data) - 1}/{total}"}
                )
                assert response.status_code in (200, 201, 202), response.text[:300]
                offset += len(data)
        return time.perf_counter() - started


def wait_until_stored(app, asset_id: int, timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            asset = db.session.get(MediaAsset, asset_id)
            stored, reason = asset.storage_version, asset.failure_reason
            db.session.remove()
        if stored:
            return
        if reason and reason.startswith("Storing"):
            raise RuntimeError(reason)
        time.sleep(0.1)
    raise RuntimeError("the worker did not store the file in time")


def run_graph(app, env: dict, size: int, root: Path) -> dict:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):  # they would override MSAL's verify=
        os.environ.pop(name, None)
    chunk = app.config["GRAPH_CHUNK_BYTES"]
    with start_graph_emulator(GraphEmulatorConfig(thumbnail_delay_s=0, storage_dir=root / "graph")) as graph:
        config = graph.config
        graph_env = {
            **env,
            "STORAGE_BACKEND": "sharepoint",
            "GRAPH_TENANT_ID": config.tenant_id,
            "GRAPH_CLIENT_ID": config.client_id,
            "GRAPH_CLIENT_SECRET": config.client_secret,
            "GRAPH_DRIVE_ID": config.drive_id,
            "AAD_AUTHORITY": graph.authority_host,
            "GRAPH_BASE_URL": graph.graph_base,
            "GRAPH_CA_BUNDLE": str(graph.ca_path),
            "GRAPH_FOLDER": "bench",
            "GRAPH_CHUNK_BYTES": str(chunk),
        }
        source = root / "graph-source.mp4"
        with source.open("wb") as out:
            for piece in video_body(size, os.urandom(16)):
                out.write(piece)
        bare = bare_chunked_upload(graph, source, chunk)
        with WebProcess(graph_env) as web, WorkerProcess(graph_env) as worker:
            client, token = signed_in(web.url, "bench@example.org", PASSWORD)
            web.reset_peak()
            worker.reset_peak()
            web_before, worker_before = web.peak_rss(), worker.rss()
            started = time.perf_counter()
            response = upload_stream(client, token, "bench-graph.mp4", size, file_body(source))
            staged = time.perf_counter()
            assert response.status_code == 200, response.text[:300]
            wait_until_stored(app, response.json()["id"])
            stored = time.perf_counter()
            client.close()
            return {
                "bare": bare,
                "app": stored - started,
                "worker": stored - staged,
                "web_before": web_before,
                "web_peak": web.peak_rss(),
                "worker_before": worker_before,
                "worker_peak": worker.peak_rss(),
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", "--bytes", dest="size", type=int, default=1024**3)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the local half")
    parser.add_argument("--skip-local", action="store_true", help="run the Graph half only")
    args = parser.parse_args()
    found, stack = servers()
    url = create_database(found.database_url)
    root = Path(tempfile.mkdtemp(prefix="bench-media-"))
    namespace = f"bench-media-{uuid.uuid4().hex[:6]}"
    app = make_test_app(found, url, MEDIA_ROOT=str(root), DRAMATIQ_NAMESPACE=namespace)
    try:
        from flask_migrate import upgrade

        with app.app_context():
            upgrade()
            accounts.create_user("bench@example.org", "Bench", Role.EDITOR, PASSWORD)
            db.session.commit()
        env = {
            "APP_ENV": "test",
            "SECRET_KEY": "bench-secret",
            "DATABASE_URL": url,
            "REDIS_URL": found.redis_url,
            "MEDIA_ROOT": str(root),
            "DRAMATIQ_NAMESPACE": namespace,
            "REDIS_KEY_PREFIX": namespace + ":",
        }
        local = {}
        if not args.skip_local:
            result = run(env, args.size, args.rounds)
            rates = {name: args.size / min(result[name]) / MiB for name in ("bare", "app")}
            for name, label in (("bare", "bare streamed copy"), ("app", "app upload        ")):
                print(
                    f"local {label}: {rates[name]:,.0f} MiB/s in the best round ("
                    + ", ".join(f"{t:.2f} s" for t in result[name])
                    + ")"
                )
            print(
                f"local: app web worker RSS peak {result['signin_peak'] / MiB:.0f} MiB up to the sign-in "
                f"(argon2id); {result['before'] / MiB:.0f} MiB before the uploads, peak "
                f"{result['peak'] / MiB:.0f} MiB during {args.rounds} uploads of {args.size / MiB:,.0f} MiB"
            )
            local = {
                "local_web_peak_rss_mib": round(result["peak"] / MiB, 1),
                "local_throughput_ratio": round(rates["app"] / rates["bare"], 3),
            }
        graph = run_graph(app, env, args.size, root)
        mib = args.size / MiB
        print(f"graph bare chunked upload: {mib / graph['bare']:,.0f} MiB/s ({graph['bare']:.2f} s)")
        print(
            f"graph through the app: {mib / graph['app']:,.0f} MiB/s ({graph['app']:.2f} s from the first byte "
            f"to the stored version, of which {graph['worker']:.2f} s in the worker after the request)"
        )
        print(
            f"graph: web RSS {graph['web_before'] / MiB:.0f} MiB before, peak {graph['web_peak'] / MiB:.0f} MiB; "
            f"worker RSS {graph['worker_before'] / MiB:.0f} MiB before, peak {graph['worker_peak'] / MiB:.0f} MiB"
        )
        figures = {
            "bytes": args.size,
            "web_peak_rss_mib": round(graph["web_peak"] / MiB, 1),
            "worker_peak_rss_mib": round(graph["worker_peak"] / MiB, 1),
            "throughput_ratio": round(graph["bare"] / graph["app"], 3),
            "worker_phase_ratio": round(graph["bare"] / graph["worker"], 3),
            **local,
        }
        print(json.dumps(figures))
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(found.database_url, url)
        shutil.rmtree(root, ignore_errors=True)
        app.extensions["dramatiq"].flush_all()
        for service in stack:
            service.stop()


if __name__ == "__main__":
    main()
