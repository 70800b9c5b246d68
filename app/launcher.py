"""`make run`: the whole local stack in one command, state kept under `instance/`.

Starts what the environment does not provide: an embedded PostgreSQL (unless DATABASE_URL is
set), an embedded Redis (unless REDIS_URL is set) and the Make emulator on 127.0.0.1:5010
(unless MAKE_API_TOKEN is set: a real account); generates the secrets once; applies the
migrations; seeds the demo data once; runs a Dramatiq worker and the periodic jobs (app.scheduler)
inside this process; serves the app
on http://127.0.0.1:5000. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("CMS_INSTANCE_DIR", ROOT / "instance")).resolve()
HOST, PORT = "127.0.0.1", int(os.environ.get("PORT", "5000"))


def load_secrets() -> dict:
    """The generated secrets, created once (a newer release adds the ones it lacks)."""
    from app.embedded_make import new_token

    path = INSTANCE / "secrets.json"
    values = json.loads(path.read_text()) if path.exists() else {}
    generators = {
        "SECRET_KEY": lambda: secrets.token_hex(32),
        "MAKE_CALLBACK_SECRET": lambda: secrets.token_hex(32),
        "MAKE_EMULATOR_TOKEN": new_token,
    }
    missing = {name: make() for name, make in generators.items() if name not in values}
    if missing:
        values.update(missing)
        path.write_text(json.dumps(values, indent=2))
        path.chmod(0o600)
    return values


def start_services(stack: list) -> dict:
    from app.embedded import EmbeddedPostgres, EmbeddedRedis

    env = {}
    if not os.environ.get("DATABASE_URL"):
        pg = EmbeddedPostgres(INSTANCE / "postgres").start()
        stack.append(pg)
        env["DATABASE_URL"] = pg.ensure_database("cms")
    if not os.environ.get("REDIS_URL"):
        stack.append(redis := EmbeddedRedis(INSTANCE / "redis").start())
        env["REDIS_URL"] = redis.url
    return env


def start_make(stack: list, token: str, real_account: bool) -> dict:
    """The Make emulator and the settings that point the app at it (none for a real account)."""
    if real_account:
        return {}
    from app.embedded_make import MakeEmulator

    stack.append(emulator := MakeEmulator(INSTANCE / "make-emulator.json", token).start())
    return emulator.settings()


def start_mail_sink(stack: list) -> dict:
    """A local SMTP sink on a free port, the mails shown on /dev/mail (none with SMTP_URL set)."""
    if os.environ.get("SMTP_URL"):
        return {}
    from app.notifications.sink import MailSink

    stack.append(sink := MailSink(INSTANCE / "dev-mail").start())
    return {"SMTP_URL": sink.url(), "DEV_MAIL_DIR": str(sink.folder)}


def write_local_env(path: Path, env: dict) -> None:
    """So `flask` commands reach the same servers: `set -a; . instance/local.env; set +a`.
    Values are shell-quoted: the embedded database URL holds a `&` (and the folder may hold
    spaces), which a shell would otherwise take as an operator."""
    import shlex

    lines = [f"{k}={shlex.quote(v)}" for k, v in sorted(env.items())]
    path.write_text("\n".join(lines) + "\n")


def port_is_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def main() -> int:
    started = time.monotonic()
    from app import embedded_make

    real_make = bool(os.environ.get("MAKE_API_TOKEN"))
    if not port_is_free(HOST, PORT):
        # Checked before anything starts: a second `make run` must not touch the first one's servers.
        print(
            f"Port {PORT} on {HOST} is in use (is `make run` already running?). "
            "Stop it, or choose another port: PORT=5001 make run",
            file=sys.stderr,
        )
        return 1
    if not real_make and not port_is_free(HOST, embedded_make.port()):
        print(
            f"Port {embedded_make.port()} on {HOST} (the Make emulator) is in use. Stop what "
            "uses it, or choose another: MAKE_EMULATOR_PORT=5011 make run",
            file=sys.stderr,
        )
        return 1
    INSTANCE.mkdir(exist_ok=True)
    stack: list = []
    worker = scheduler = None
    try:
        generated = load_secrets()
        emulator_token = generated.pop("MAKE_EMULATOR_TOKEN")
        env = {
            "APP_ENV": "development",
            "PUBLIC_BASE_URL": f"http://{HOST}:{PORT}",
            **generated,
            **start_services(stack),
            **start_make(stack, emulator_token, real_make),
            **start_mail_sink(stack),
        }
        for key, value in env.items():
            os.environ.setdefault(key, value)
        write_local_env(INSTANCE / "local.env", {k: os.environ[k] for k in env})
        from app import create_app

        app = create_app()
        with app.app_context():
            from flask_migrate import upgrade

            from app.cli import DEMO_USERS, seed_demo

            upgrade()
            seeded = seed_demo(social=not real_make)
        worker = start_worker(app)
        from app.scheduler import Scheduler

        scheduler = Scheduler(app).start()
        print_banner(stack, seeded, DEMO_USERS, time.monotonic() - started)
        # Ctrl-C must work even when started from a shell that ignores SIGINT (background jobs).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        from werkzeug.serving import run_simple

        run_simple(HOST, PORT, app, threaded=True, use_reloader=False)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        if scheduler is not None:
            scheduler.stop()
        if worker is not None:
            worker.stop()
        for service in reversed(stack):
            service.stop()


def start_worker(app):
    import dramatiq

    worker = dramatiq.Worker(app.extensions["dramatiq"], worker_threads=2)
    worker.start()
    return worker


def print_banner(stack: list, seeded: bool, users, seconds: float) -> None:
    url = f"http://{HOST}:{PORT}"
    embedded = ", ".join(f"{type(s).__name__} ({s.data_dir})" for s in stack)
    print("\n" + "=" * 64)
    print(f"  CMS ready in {seconds:.1f} s at {url}")
    print(
        f"  started: {embedded or 'nothing embedded (DATABASE_URL and REDIS_URL are set)'}"
        ", a Dramatiq worker (2 threads), the periodic jobs (outbox relay, stuck sweep)"
    )
    from app.embedded_make import MakeEmulator

    emulator = next((s for s in stack if isinstance(s, MakeEmulator)), None)
    print(
        f"  Make: the emulator at {emulator.url} (inspect {emulator.url}/_emulator/stats)"
        if emulator
        else "  Make: the real account of MAKE_API_TOKEN"
    )
    if os.environ.get("DEV_MAIL_DIR"):
        print(f"  Mail: a local SMTP sink ({os.environ['SMTP_URL']}); received mails on {url}/dev/mail")
    print("  demo logins" + (" (just created):" if seeded else ":"))
    for email, _name, role, password in users:
        print(f"    {role.value:<9} {email:<22} {password}")
    print("  Ctrl-C stops everything.")
    print("=" * 64 + "\n", flush=True)


if __name__ == "__main__":
    sys.exit(main())
