"""Publication benchmark: N approved objects published through the Make emulator by 2 worker
processes, then the callback endpoint alone against a bare Flask INSERT endpoint, in alternating
rounds (the medians and their ratio). The endpoint records callbacks and the scheduler hands
them to the `apply_callbacks` actor: `p95_callback_apply_ms` is the time from an event's
arrival to its application during the publication run. `wrong_status` counts the posts whose
status is not the function of their own latest publications at the end (must be 0).

    .venv/bin/python bench/publish.py [--objects 5000] [--targets 1] [--processes 2] [--threads 8]

Uses TEST_DATABASE_URL / TEST_REDIS_URL when set, else embedded servers. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from _stack import ROOT, gunicorn, percentile, servers, summary

import httpx
import sqlalchemy as sa

from app.extensions import db
from app.hooks.signature import sign
from app.models import Approval, CallbackEvent, ContentObject, Publication, PublicationStatus, User
from app.publishing.status import wrong_statuses
from app.reviews import service as reviews
from app.scheduler import Scheduler
from tests.brokers import broker_env
from tests.conftest import CALLBACK_SECRET
from tests.publishing_stack import PublishingStack


def app_env(stack, public_url: str | None = None) -> dict:
    config = stack.app.config
    return {
        "APP_ENV": "test",
        "SECRET_KEY": config["SECRET_KEY"],
        "DATABASE_URL": stack.database,
        "REDIS_URL": config["REDIS_URL"],
        "REDIS_KEY_PREFIX": config["REDIS_KEY_PREFIX"],
        "DRAMATIQ_NAMESPACE": config["DRAMATIQ_NAMESPACE"],
        "MAKE_CALLBACK_SECRET": CALLBACK_SECRET,
        "PUBLIC_BASE_URL": public_url or config["PUBLIC_BASE_URL"],
        "CALLBACK_RATE_LIMIT_PER_MINUTE": "100000000",
        **broker_env(config),
    }


def seed_approved(stack, objects: int, targets: int) -> None:
    """`objects` posts on `targets` accounts each, approved: their publications wait in the outbox."""
    approver_id, _ = stack.seed(objects=objects, targets=targets)
    with stack.app.app_context():
        approver = db.session.get(User, approver_id)
        for obj in db.session.scalars(sa.select(ContentObject)):
            reviews.approve(obj, by=approver)
        db.session.commit()


def settled(stack) -> int:
    """Publications published or failed (nothing more will happen to them)."""
    with stack.app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Publication)
            .where(Publication.status.in_([PublicationStatus.PUBLISHED, PublicationStatus.FAILED]))
        )


def outcome(stack, elapsed: float) -> dict:
    """What the run did, counted at the emulator's sink (one post per idempotency key) and in
    the database: publications, throughput, latencies, lost and doubled posts, wrong statuses."""
    with stack.app.app_context():
        rows = db.session.execute(
            sa.select(
                Publication.idempotency_key, Publication.status, Publication.completed_at, Approval.created_at
            ).join(Approval, Approval.object_id == Publication.object_id)
        ).all()
        applied = db.session.execute(
            sa.select(CallbackEvent.received_at, CallbackEvent.applied_at).where(CallbackEvent.applied_at.is_not(None))
        ).all()
        wrong = wrong_statuses()
    latencies = [(completed - approved).total_seconds() * 1000 for _, _, completed, approved in rows]
    apply_lags = [(applied_at - received).total_seconds() * 1000 for received, applied_at in applied]
    posts = stack.emulator("posts")["per_key"]
    keys = {key for key, *_ in rows}
    return {
        "publications": len(rows),
        "per_second": round(len(rows) / elapsed, 1),
        "p95_end_to_end_ms": round(percentile(latencies, 95)),
        "p95_callback_apply_ms": round(percentile(apply_lags, 95)),
        "published": sum(1 for _, status, *_ in rows if status is PublicationStatus.PUBLISHED),
        "lost": len(keys - set(posts)),
        "duplicated": sum(1 for n in posts.values() if n > 1),
        "wrong_status": len(wrong),
        "elapsed_s": round(elapsed, 1),
        "latency": summary(latencies),
    }


def publish_all(stack, objects: int, targets: int, processes: int, threads: int, web_url: str) -> dict:
    seed_approved(stack, objects, targets)
    print(
        f"approved {objects} objects on {targets} accounts each; publishing with {processes} worker "
        f"processes x {threads} threads"
    )
    started = time.monotonic()
    scheduler = Scheduler(stack.app).start()
    worker = subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "worker", "--processes", str(processes), "--threads", str(threads)],
        cwd=ROOT,
        env={**os.environ, **app_env(stack, web_url)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        stack.wait_for(lambda: settled(stack) == objects * targets, timeout=max(600, objects / 5), interval=0.5)
    finally:
        scheduler.stop()
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(60)
    return outcome(stack, time.monotonic() - started)


def signed_requests(count: int, stack, batch: int) -> list[tuple[bytes, dict]]:
    """`count` valid callbacks, each for a new publication still `sent` (the real, applied path):
    generation `batch + 1` of the first `count` targets."""
    with stack.app.app_context():
        rows = db.session.execute(
            sa.text(
                "INSERT INTO publications (object_id, campaign_scenario_id, idempotency_key, generation, fingerprint,"
                " status, attempts, sent_at) SELECT object_id, campaign_scenario_id, idempotency_key || '-cb' || :b,"
                " :b + 1, fingerprint, 'sent', 1, now() FROM publications WHERE generation = 1 ORDER BY id LIMIT :n"
                " RETURNING id, idempotency_key, fingerprint"
            ),
            {"n": count, "b": batch},
        ).all()
        db.session.commit()
    requests = []
    now = str(int(time.time()))
    for pub_id, key, fingerprint in rows:
        body = json.dumps(
            {
                "delivery_id": f"pub-{pub_id}",
                "idempotency_key": key,
                "fingerprint": fingerprint,
                "status": "published",
                "external_id": f"x{pub_id}",
                "external_url": "https://e.x/p",
                "error": None,
                "sent_at": int(now),
            }
        ).encode()
        webhook_id = f"pub-{pub_id}:published:1"
        requests.append(
            (
                body,
                {
                    "content-type": "application/json",
                    "webhook-id": webhook_id,
                    "webhook-timestamp": now,
                    "webhook-signature": sign(CALLBACK_SECRET, webhook_id, now, body),
                },
            )
        )
    return requests


def fire(url: str, requests: list, threads: int = 16) -> float:
    """Requests per second for all `requests`, sent by `threads` keep-alive clients."""
    chunks = [requests[i::threads] for i in range(threads)]

    def run(chunk):
        with httpx.Client(timeout=30) as client:
            return [client.post(url, content=body, headers=headers).status_code for body, headers in chunk]

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        codes = [code for result in pool.map(run, chunks) for code in result]
    elapsed = time.monotonic() - started
    bad = [code for code in codes if code != 200]
    if bad:
        raise SystemExit(f"{len(bad)} callbacks failed at {url}: {sorted(set(bad))}")
    return len(codes) / elapsed


def callback_rates(stack, web_url: str, count: int, rounds: int = 3) -> dict:
    """Requests per second of /hooks/make and of the bare INSERT endpoint, measured in
    alternating rounds (app, bare, app, bare...) so that a slow moment of the machine weighs on
    both; the medians of the rounds, and their ratio."""
    bare, bare_url = gunicorn("bench.bare_callback:app", app_env(stack))
    app_rates, bare_rates = [], []
    try:
        warm = signed_requests(200, stack, batch=1)
        fire(web_url + "/hooks/make", warm)
        fire(bare_url + "/", [(b, {**h, "webhook-id": "warm-" + h["webhook-id"]}) for b, h in warm])
        for n in range(rounds):
            app_rates.append(fire(web_url + "/hooks/make", signed_requests(count // rounds, stack, batch=2 + 2 * n)))
            floor = [
                (b, {**h, "webhook-id": "bare-" + h["webhook-id"]})
                for b, h in signed_requests(count // rounds, stack, batch=3 + 2 * n)
            ]
            bare_rates.append(fire(bare_url + "/", floor))
    finally:
        os.killpg(bare.pid, signal.SIGTERM)
        bare.wait(30)
    app_rps, bare_rps = statistics.median(app_rates), statistics.median(bare_rates)
    print(
        "callback rounds (req/s): app "
        + ", ".join(f"{r:.0f}" for r in app_rates)
        + "; bare "
        + ", ".join(f"{r:.0f}" for r in bare_rates)
    )
    return {"callback_rps": round(app_rps), "bare_rps": round(bare_rps), "callback_ratio": round(app_rps / bare_rps, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=5000)
    parser.add_argument("--targets", type=int, default=1, help="accounts each post is published to")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--callbacks", type=int, default=3000)
    args = parser.parse_args()
    server_set, embedded = servers()
    stack = PublishingStack(server_set)
    web = None
    try:
        web, web_url = gunicorn("wsgi:app", app_env(stack))
        stack.app.config["PUBLIC_BASE_URL"] = web_url
        result = publish_all(stack, args.objects, args.targets, args.processes, args.threads, web_url)
        print(f"publication: {result.pop('latency')} (end to end, approval -> callback)")
        result.update(callback_rates(stack, web_url, args.callbacks))
        print(f"callbacks: {result['callback_rps']} req/s vs bare INSERT endpoint {result['bare_rps']} req/s")
        print(json.dumps(result))
    finally:
        if web is not None:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(30)
        stack.close()
        for service in embedded:
            service.stop()


if __name__ == "__main__":
    main()
