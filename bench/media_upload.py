"""Upload a large file through the app over HTTP to local storage, against a bare streamed copy.

    .venv/bin/python bench/media_upload.py [--bytes 1073741824] [--rounds 3]

Both run under gunicorn (one gthread worker each) on loopback and receive the same kind of bytes
(a video header, a nonce, zeros, made on the fly by the client, never held in memory): the app
through /media/upload (session, CSRF, sniffing, limits, sha256, storage, the row and its
message), the floor through `bench.bare_upload` (the body written to a file, nothing else). The
rounds alternate between the two, and both keep their files, so they meet the same disk state.
Prints the app worker's peak RSS (VmHWM, reset after the sign-in: verifying the password with
argon2id takes 64 MiB that the upload has nothing to do with) and the app's throughput as a
ratio of the floor's, best round of each; the last line is one JSON object.
The Graph (SharePoint) half of this benchmark comes with that backend.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from _stack import servers  # noqa: E402  (puts the repository on sys.path)

import httpx  # noqa: E402

from app.auth import service as accounts  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Role  # noqa: E402
from tests.conftest import create_database, drop_database, make_test_app  # noqa: E402
from tests.media_live import MiB, WebProcess, signed_in, upload_stream, video_body  # noqa: E402

PASSWORD = "bench password, long enough"


def timed(send) -> float:
    started = time.perf_counter()
    response = send()
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text[:300]
    return elapsed


def run(env: dict, size: int, rounds: int) -> dict:
    bare_times, app_times = [], []
    with WebProcess(env, app_spec="bench.bare_upload:app") as bare, WebProcess(env) as web, \
            httpx.Client(timeout=600) as plain:
        client, token = signed_in(web.url, "bench@example.org", PASSWORD)
        signin_peak = web.peak_rss()
        web.reset_peak()
        before = web.peak_rss()
        for i in range(rounds):
            bare_times.append(timed(lambda: plain.post(bare.url + "/", content=video_body(size, os.urandom(16)),
                                                       headers={"Content-Length": str(size)})))
            app_times.append(timed(lambda: upload_stream(client, token, f"bench-{i}.mp4", size,
                                                         video_body(size, os.urandom(16)))))
        peak = web.peak_rss()
        client.close()
    return {"bare": bare_times, "app": app_times, "signin_peak": signin_peak, "before": before, "peak": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bytes", type=int, default=1024 ** 3)
    parser.add_argument("--rounds", type=int, default=3)
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
        env = {"APP_ENV": "test", "SECRET_KEY": "bench-secret", "DATABASE_URL": url, "REDIS_URL": found.redis_url,
               "MEDIA_ROOT": str(root), "DRAMATIQ_NAMESPACE": namespace, "REDIS_KEY_PREFIX": namespace + ":"}
        result = run(env, args.bytes, args.rounds)
        rates = {name: args.bytes / min(result[name]) / MiB for name in ("bare", "app")}
        for name, label in (("bare", "bare streamed copy"), ("app", "app upload        ")):
            print(f"{label}: {rates[name]:,.0f} MiB/s in the best round (" + ", ".join(f"{t:.2f} s" for t in result[name]) + ")")
        print(f"app web worker RSS: peak {result['signin_peak'] / MiB:.0f} MiB up to the sign-in (argon2id); "
              f"{result['before'] / MiB:.0f} MiB before the uploads, peak {result['peak'] / MiB:.0f} MiB during "
              f"{args.rounds} uploads of {args.bytes / MiB:,.0f} MiB")
        print(json.dumps({"bytes": args.bytes, "web_peak_rss_mib": round(result["peak"] / MiB, 1),
                          "throughput_ratio": round(rates["app"] / rates["bare"], 3)}))
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
