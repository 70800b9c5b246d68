"""Scale-out benchmark: 2 web processes, 3 workers and 2 schedulers on one broker (RabbitMQ by
default, `--broker redis` for Redis) publish N posts through the Make emulator while one worker
and one scheduler are SIGKILLed mid-run and restarted. Nothing may be lost or posted twice at
the emulator's sink (one post per idempotency key), and every post's status must follow its
publications.

    .venv/bin/python bench/scale_out.py [--broker rabbitmq|redis] [--objects 2000]

Web: gunicorn with the project's gunicorn.conf.py (2 worker processes) when it exists, else
two `flask run`-like servers. Servers: TEST_DATABASE_URL / TEST_REDIS_URL when set, else
embedded ones; RabbitMQ at TEST_RABBITMQ_URL (default amqp://guest:guest@127.0.0.1:5672/), queue
names prefixed for this run. Progress goes to stderr; the last line on stdout is one JSON object
`{"broker", "processes", "published", "lost", "duplicated", "per_second", "wrong_status"}`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from _stack import ROOT, free_port, servers, wait_http
from publish import app_env, outcome, seed_approved, settled

from tests.brokers import QUEUE_PREFIX, RABBITMQ_URL, rabbitmq_reachable
from tests.publishing_stack import PublishingStack

WEB, WORKERS, SCHEDULERS = 2, 3, 2
# Short timers so that the killed worker's and scheduler's share is taken over within seconds
SETTINGS = {
    "PUBLISH_CLAIM_TIMEOUT_S": 5,
    "PUBLISH_REQUEUE_AFTER_S": 5,
    "SCHEDULER_RELAY_INTERVAL_S": 0.2,
    "SCHEDULER_HEARTBEAT_S": 1,
    "CALLBACK_REQUEUE_AFTER_S": 5,
}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def spawn(command: list[str], env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=log, start_new_session=True
    )


def kill(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def start_web(env: dict, log) -> tuple[list[subprocess.Popen], list[str]]:
    """Two web processes: gunicorn's master with 2 workers from gunicorn.conf.py, or two servers."""
    if (ROOT / "gunicorn.conf.py").exists():
        port = free_port()
        web_env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_WORKERS": str(WEB),
            "WEB_THREADS": "8",
            "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="scale-out-metrics-"),
        }
        procs = [spawn([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], web_env, log)]
        urls = [f"http://127.0.0.1:{port}"]
    else:
        procs, urls = [], []
        for _ in range(WEB):
            port = free_port()
            procs.append(
                spawn(
                    [sys.executable, "-m", "flask", "--app", "wsgi:app", "run", "--port", str(port), "--with-threads"],
                    env,
                    log,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
    for url in urls:
        wait_http(url + "/healthz", timeout=60)
    return procs, urls


def run(broker: str, objects: int, log) -> dict:
    settings = dict(SETTINGS)
    if broker == "rabbitmq":
        if not rabbitmq_reachable():
            raise SystemExit(f"no RabbitMQ at {RABBITMQ_URL} (set TEST_RABBITMQ_URL)")
        settings.update(BROKER_URL=RABBITMQ_URL, RABBITMQ_QUEUE_PREFIX=QUEUE_PREFIX)
    server_set, embedded = servers()
    stack = PublishingStack(server_set, **settings)
    procs: dict[str, list[subprocess.Popen]] = {"web": [], "worker": [], "scheduler": []}
    try:
        env = {**app_env(stack), **{k: str(v) for k, v in settings.items()}}
        procs["web"], urls = start_web(env, log)
        env = {**env, "PUBLIC_BASE_URL": urls[0]}  # where Make calls back (gunicorn balances its workers)
        stack.app.config["PUBLIC_BASE_URL"] = urls[0]
        seed_approved(stack, objects, targets=1)
        worker_cmd = [sys.executable, "-m", "dramatiq", "worker", "--processes", "1", "--threads", "8"]
        scheduler_cmd = [sys.executable, "-m", "app.scheduler"]
        say(f"{broker}: {objects} posts approved; starting {WEB} web, {WORKERS} workers, {SCHEDULERS} schedulers")
        started = time.monotonic()
        procs["worker"] = [spawn(worker_cmd, env, log) for _ in range(WORKERS)]
        procs["scheduler"] = [spawn(scheduler_cmd, env, log) for _ in range(SCHEDULERS)]
        stack.wait_for(lambda: settled(stack) >= objects // 4, timeout=max(600, objects), interval=0.1)
        at_kill = settled(stack)
        os.killpg(procs["worker"][0].pid, signal.SIGKILL)  # no clean shutdown, no acknowledgements
        os.killpg(procs["scheduler"][0].pid, signal.SIGKILL)  # holding its job locks, maybe mid-job
        procs["worker"][0].wait(10)
        procs["scheduler"][0].wait(10)
        say(f"SIGKILLed a worker and a scheduler at {at_kill}/{objects} settled; restarting them in 2 s")
        time.sleep(2)
        procs["worker"][0] = spawn(worker_cmd, env, log)
        procs["scheduler"][0] = spawn(scheduler_cmd, env, log)
        stack.wait_for(lambda: settled(stack) == objects, timeout=max(900, objects), interval=0.5)
        elapsed = time.monotonic() - started
        figures = outcome(stack, elapsed)
        say(f"{figures['publications']} publications in {elapsed:.1f} s; {figures.pop('latency')}")
        return {
            "broker": broker,
            "processes": {"web": WEB, "worker": WORKERS, "scheduler": SCHEDULERS},
            "published": figures["published"],
            "lost": figures["lost"],
            "duplicated": figures["duplicated"],
            "per_second": figures["per_second"],
            "wrong_status": figures["wrong_status"],
        }
    finally:
        for group in ("scheduler", "worker", "web"):
            for process in procs[group]:
                kill(process)
        stack.close()
        for service in embedded:
            service.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", choices=("rabbitmq", "redis"), default="rabbitmq")
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--log", default=os.devnull, help="where the processes' output goes")
    args = parser.parse_args()
    with open(args.log, "ab") as log:
        result = run(args.broker, args.objects, log)
    print(json.dumps(result))
    if result["lost"] or result["duplicated"] or result["wrong_status"] or result["published"] != args.objects:
        sys.exit(1)


if __name__ == "__main__":
    main()
