"""The worker SIGKILLed in the middle of a batch of 1,000 publications, then restarted:
nothing lost, nothing published twice (posts per idempotency key counted at the emulator)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from app.extensions import db
from app.models import ContentObject, Publication, PublicationStatus, User
from app.reviews import service as reviews
from app.scheduler import Scheduler
from tests.conftest import CALLBACK_SECRET
from tests.publishing_stack import PublishingStack

ROOT = Path(__file__).resolve().parent.parent


def start_worker_process(stack) -> subprocess.Popen:
    app = stack.app
    env = {**os.environ, "APP_ENV": "test", "SECRET_KEY": app.config["SECRET_KEY"],
           "DATABASE_URL": stack.database, "REDIS_URL": app.config["REDIS_URL"],
           "REDIS_KEY_PREFIX": app.config["REDIS_KEY_PREFIX"],
           "DRAMATIQ_NAMESPACE": app.config["DRAMATIQ_NAMESPACE"],
           "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"], "MAKE_CALLBACK_SECRET": CALLBACK_SECRET,
           "PUBLISH_CLAIM_TIMEOUT_S": "2"}
    return subprocess.Popen([sys.executable, "-m", "dramatiq", "worker", "--processes", "1", "--threads", "8"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def counts(stack) -> dict:
    with stack.app.app_context():
        return {s.value: n for s, n in db.session.execute(
            sa.select(Publication.status, sa.func.count()).group_by(Publication.status)).all()}


def test_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(servers):
    stack = PublishingStack(servers, PUBLISH_CLAIM_TIMEOUT_S=2, PUBLISH_REQUEUE_AFTER_S=3,
                            SCHEDULER_RELAY_INTERVAL_S=0.2)
    worker = scheduler = None
    try:
        approver_id, object_ids = stack.seed(objects=500, targets=2)
        with stack.app.app_context():
            approver = db.session.get(User, approver_id)
            for obj in db.session.scalars(sa.select(ContentObject)):
                reviews.approve(obj, by=approver)
            db.session.commit()
        scheduler = Scheduler(stack.app).start()
        worker = start_worker_process(stack)
        stack.wait_for(lambda: counts(stack).get("published", 0) >= 150, 120, interval=0.05)
        os.killpg(worker.pid, signal.SIGKILL)  # mid-batch: no clean shutdown, no acks
        worker.wait(10)
        killed_at = counts(stack)
        worker = start_worker_process(stack)
        stack.wait_for(lambda: counts(stack) == {"published": 1000}, 240, interval=0.2)
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
        if scheduler is not None:
            scheduler.stop()
    try:
        posts = stack.emulator("posts")
        deliveries = stack.emulator("deliveries")["per_key"]
        with stack.app.app_context():
            keys = set(db.session.scalars(sa.select(Publication.idempotency_key)))
        lost = len(keys - set(posts["per_key"]))
        doubled = sum(1 for n in posts["per_key"].values() if n > 1)
        resent = sum(1 for n in deliveries.values() if n > 1)
        print(f"\n[faults] at SIGKILL: {killed_at}; after restart: 1000 published, lost={lost}, "
              f"published twice={doubled}, keys delivered more than once={resent}, "
              f"max deliveries per key={max(deliveries.values())}")
        assert lost == 0 and doubled == 0 and posts["max_per_key"] == 1
        assert len(posts["posts"]) == 1000
    finally:
        stack.close()
