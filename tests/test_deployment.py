"""The deployment kit, checked without Docker: compose.yaml, the systemd units, the Dockerfile,
the reverse proxy example and the README describe one installation, and every process command
they give runs here against the real PostgreSQL and Redis (and the Meilisearch emulator).

The units' commands are the compose services' commands (asserted below); the running test
starts each once, with the compose environment and the units' `Environment=` lines on top
(ports and directories moved to free ones), so no documented command goes untested.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import dramatiq
import pytest
import yaml

from app import create_app
from app.config import load_config
from app.tasks import _declared
from tests.conftest import create_database, drop_database

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
UNITS = ROOT / "deploy" / "systemd"
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = {name: s for name, s in SERVICES.items() if s.get("image") == "cms:latest"}
POOLS = {name: s for name, s in APP_SERVICES.items() if s["command"][:2] == ["dramatiq", "worker"]}
METRICS_TOKEN = secrets.token_hex(16)


def _interpolate(value: str, variables: dict) -> str:
    """Compose's ${NAME}, ${NAME:-default}, ${NAME:?message}."""

    def one(match):
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if variables.get(name):
            return variables[name]
        if op == ":?":
            raise AssertionError(f"{name} unset: {arg}")
        return arg or ""

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, value)


def unit(path: Path) -> dict:
    """The [Service] keys of a unit (Environment= gathered into a dict)."""
    section, keys, env = None, {}, {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, value = line.split("=", 1)
        if section == "Service" and key == "Environment":
            name, setting = value.split("=", 1)
            env[name] = setting
        elif section == "Service":
            keys[key] = value
    keys["Environment"] = env
    return keys


def unit_argv(service: dict) -> list[str]:
    argv = shlex.split(service["ExecStart"])
    assert argv[0].startswith("/opt/cms/.venv/bin/"), argv
    return [argv[0].rsplit("/", 1)[1], *argv[1:]]


UNIT_OF = {
    "migrate": "cms-migrate.service",
    "web": "cms-web.service",
    "scheduler": "cms-scheduler.service",
    **{name: f"cms-{name}.service" for name in POOLS},
}


def app_queues() -> set[str]:
    """The queues of the project's actors (tests declare actors of their own: left out)."""
    import app.tasks.actors  # noqa: F401  (declares them)

    return {lazy.options.get("queue_name", "default") for lazy in _declared if lazy.fn.__module__.startswith("app.")}


def pool_queues(argv: list[str]) -> list[str]:
    return argv[argv.index("--queues") + 1 :]


# --- What the files say ---------------------------------------------------------------------


def test_the_backing_services():
    assert SERVICES["db"]["image"] == "postgres:17"
    redis = SERVICES["redis"]
    assert redis["image"] == "redis:7"
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command
    meili = SERVICES["meilisearch"]
    assert re.fullmatch(r"getmeili/meilisearch:v1\.\d+", meili["image"])
    assert meili["environment"]["MEILI_ENV"] == "production"
    assert meili["environment"]["MEILI_MASTER_KEY"].startswith("${MEILI_MASTER_KEY:?")
    app_env = APP_SERVICES["web"]["environment"]
    assert app_env["MEILI_URL"] == "http://meilisearch:7700"
    assert app_env["MEILI_API_KEY"] == meili["environment"]["MEILI_MASTER_KEY"]


def test_every_queue_has_exactly_one_pool():
    consumed = [queue for pool in POOLS.values() for queue in pool_queues(pool["command"])]
    assert sorted(consumed) == sorted(set(consumed)), "a queue consumed by two pools"
    assert set(consumed) == app_queues(), "a queue nobody consumes, or a pool for no queue"


def test_the_sharepoint_actors_have_the_graph_pool():
    from app.tasks import media

    graph_actors = {media.store_media, media.store_media_gave_up, media.discard_media, media.sync_library_changes}
    assert {lazy.queue_name for lazy in graph_actors} == {"graph"}
    [pool] = [name for name, service in POOLS.items() if "graph" in pool_queues(service["command"])]
    assert pool_queues(POOLS[pool]["command"]) == ["graph"]


def test_the_embedded_worker_of_make_run_takes_every_queue(servers, test_database):
    """`make run` has no pools: its one worker consumes every queue, the Graph one included."""
    from app.launcher import start_worker
    from tests.conftest import make_test_app

    worker = start_worker(make_test_app(servers, test_database))
    try:
        consumed = set(worker.consumers)
    finally:
        worker.stop()
    assert app_queues() <= consumed and "graph" in consumed


def test_the_units_run_the_compose_commands():
    assert sorted(p.name for p in UNITS.glob("*.service")) == sorted(UNIT_OF.values())
    for name, unit_name in UNIT_OF.items():
        service = unit(UNITS / unit_name)
        assert unit_argv(service) == APP_SERVICES[name]["command"], name
        assert service["WorkingDirectory"] == "/opt/cms" and service["User"] == "cms", name
    target = (UNITS / "cms.target").read_text()
    assert all(unit_name in target for unit_name in UNIT_OF.values())
    ports = [unit(UNITS / UNIT_OF[name])["Environment"]["dramatiq_prom_port"] for name in POOLS]
    assert len(set(ports)) == len(ports), "two pools on one metrics port"


def test_the_units_pass_systemd_analyze(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    for path in [*UNITS.glob("*.service"), UNITS / "cms.target"]:
        text = path.read_text().replace("/opt/cms/.venv/bin/", f"{VENV_BIN}/").replace("/opt/cms", str(ROOT))
        (tmp_path / path.name).write_text(text.replace("/etc/cms/cms.env", str(tmp_path / "cms.env")))
    (tmp_path / "cms.env").write_text("")
    names = sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".service", ".target"))
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *names], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr


def dockerfile_stages() -> list[list[str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    stages = []
    for line in lines:
        if line.startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def test_the_dockerfile():
    builder, final = dockerfile_stages()
    assert builder[0].endswith(" AS builder") and final[0].startswith("FROM python:3.11")
    assert any("build-essential" in line for line in builder)
    assert any("pybabel compile" in line for line in builder)
    assert not any(re.search(r"build-essential|gcc|apt-get install", line) for line in final)
    users = [line for line in final if line.startswith("USER ")]
    assert users == ["USER cms"]
    assert any(line.startswith("COPY --from=builder /opt/venv") for line in final)
    cmd = next(line for line in final if line.startswith("CMD "))
    assert json.loads(cmd[4:]) == APP_SERVICES["web"]["command"]
    healthcheck = next(line for line in final if line.startswith("HEALTHCHECK "))
    check = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert "/healthz" in check[-1] and check == APP_SERVICES["web"]["healthcheck"]["test"][1:]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".env", "instance", "tests", ".git"} <= set(ignored)


def test_the_reverse_proxy_example():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    upload = re.search(r"location ~ \^/media/\(upload\|\[0-9\]\+/file\)\$ \{(.*?)\}", conf, re.S).group(1)
    assert "proxy_request_buffering off;" in upload and "client_max_body_size 2100m;" in upload
    assert 2100 * 1024**2 > load_config()["MEDIA_MAX_VIDEO_BYTES"]
    assert "proxy_set_header X-Request-ID $request_id;" in conf
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "TRUSTED_PROXIES=1" in conf


def test_the_readme_gives_the_same_commands():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Production", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    documented = {
        " ".join(shlex.split(line.split("#", 1)[0]))
        for line in block.splitlines()
        if line.split() and line.split()[0] in ("gunicorn", "dramatiq", "python", "flask")
    }
    compose = {" ".join(s["command"]) for s in APP_SERVICES.values()}
    # One-off commands for a person (tested with the CLI) aside, the processes are compose's.
    assert {c for c in documented if not c.startswith(("flask users", "flask check-config"))} == compose


# --- Every command, running ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    def __init__(self, name, argv, env, workdir: Path):
        self.name, self.argv = name, argv
        self.out = workdir / f"{name}.out"
        self.err = workdir / f"{name}.err"
        executable = str(VENV_BIN / argv[0]) if (VENV_BIN / argv[0]).exists() else argv[0]
        with self.out.open("w") as stdout, self.err.open("w") as stderr:  # the child keeps its copies
            self.proc = subprocess.Popen(
                [executable, *argv[1:]], cwd=ROOT, env=env, stdout=stdout, stderr=stderr, start_new_session=True
            )

    def output(self) -> str:
        return self.out.read_text() + self.err.read_text()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int | None:
        """SIGTERM to the main process only, as `docker stop` and systemd (KillMode=mixed) do;
        whatever is left of the group afterwards is killed."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            return None
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def wait_for(what: str, check, processes, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        dead = [p for p in processes if not p.alive()]
        assert not dead, f"{dead[0].name} stopped while waiting for {what}:\n{dead[0].output()[-3000:]}"
        time.sleep(0.3)
    raise AssertionError(
        f"timed out waiting for {what}:\n" + "\n".join(f"--- {p.name}\n{p.output()[-1500:]}" for p in processes)
    )


def http(url, headers=None, timeout=10):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()
    except OSError:
        return None, {}, ""


@pytest.fixture
def stack_env(servers, tmp_path):
    """The compose environment with what `.env` would hold, moved onto this machine: the test
    servers, a fresh database, a Meilisearch emulator, free ports and temporary directories."""
    from sandbox.meili import MeiliEmulatorConfig, start_meili_emulator

    master_key = secrets.token_hex(16)
    meili = start_meili_emulator(MeiliEmulatorConfig(master_key=master_key))
    database = create_database(servers.database_url)
    dotenv = {
        "POSTGRES_PASSWORD": "unused-here",
        "MEILI_MASTER_KEY": master_key,
        "SECRET_KEY": secrets.token_hex(32),
        "MAKE_CALLBACK_SECRET": secrets.token_hex(16),
        "PUBLIC_BASE_URL": "https://cms.example.org",
        "METRICS_TOKEN": METRICS_TOKEN,
    }
    env = {
        key: value
        for key, value in os.environ.items()
        if not re.match(
            r"(APP_|MAKE_|GRAPH_|MEILI_|SECRET_|PUBLIC_|REDIS_|DATABASE_|DRAMATIQ_|"
            r"PROMETHEUS|SESSION_|dramatiq_)",
            key,
        )
    }
    env.update(dotenv)
    env.update({key: _interpolate(str(value), dotenv) for key, value in APP_SERVICES["web"]["environment"].items()})
    tag = uuid.uuid4().hex[:8]
    (tmp_path / "media").mkdir()
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "DATABASE_URL": database.replace("postgresql+psycopg://", "postgresql://"),
            "REDIS_URL": servers.redis_url,
            "REDIS_KEY_PREFIX": f"deploy-{tag}:",
            "DRAMATIQ_NAMESPACE": f"deploy-{tag}",
            "MEILI_URL": meili.url,
            "MEDIA_ROOT": str(tmp_path / "media"),
            "MEILI_INDEX_PREFIX": f"deploy-{tag}-",
            "WEB_WORKERS": "2",
            "FLASK_APP": "wsgi.py",
            "PYTHONUNBUFFERED": "1",
        }
    )
    yield env
    meili.stop()
    drop_database(servers.database_url, database)
    import redis

    client = redis.Redis.from_url(servers.redis_url)
    for pattern in (f"deploy-{tag}:*", f"deploy-{tag}*"):
        keys = list(client.scan_iter(pattern, count=1000))
        if keys:
            client.delete(*keys)


def service_env(name: str, base: dict, tmp_path: Path) -> dict:
    """The unit's Environment= on top of compose's, its ports and directories moved."""
    env = dict(base)
    for key, value in unit(UNITS / UNIT_OF[name])["Environment"].items():
        env[key] = value
    if name == "web":
        env["GUNICORN_BIND"] = f"127.0.0.1:{free_port()}"
        (tmp_path / "web-metrics").mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "web-metrics")
    if name in POOLS:
        env["dramatiq_prom_port"] = str(free_port())
        env["dramatiq_prom_db"] = str(tmp_path / f"{name}-metrics")
    return env


def test_every_service_command_runs(stack_env, tmp_path):
    migrate = subprocess.run(
        [str(VENV_BIN / APP_SERVICES["migrate"]["command"][0]), *APP_SERVICES["migrate"]["command"][1:]],
        cwd=ROOT,
        env=service_env("migrate", stack_env, tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    assert "Running upgrade" in migrate.stderr + migrate.stdout

    envs = {name: service_env(name, stack_env, tmp_path) for name in APP_SERVICES if name != "migrate"}
    processes = {name: Process(name, APP_SERVICES[name]["command"], envs[name], tmp_path) for name in envs}
    try:
        base = f"http://{envs['web']['GUNICORN_BIND']}"
        wait_for("the web's /healthz", lambda: http(f"{base}/healthz")[0] == 200, processes.values())
        healthcheck = [
            part.replace("127.0.0.1:8000", envs["web"]["GUNICORN_BIND"])
            for part in APP_SERVICES["web"]["healthcheck"]["test"][1:]
        ]
        assert subprocess.run([str(VENV_BIN / healthcheck[0]), *healthcheck[1:]], timeout=30).returncode == 0
        for name in POOLS:
            wait_for(
                f"{name} to start",
                lambda n=name: "Worker process is ready for action" in processes[n].output(),
                processes.values(),
            )
        wait_for(
            "the scheduler to start", lambda: "scheduler started" in processes["scheduler"].output(), processes.values()
        )
        wait_for("/readyz", lambda: http(f"{base}/readyz")[0] == 200, processes.values())
        checks = json.loads(http(f"{base}/readyz")[2])["checks"]
        assert checks["scheduler"]["ok"] and checks["search"]["engine"] == "meilisearch"

        _each_pool_takes_its_queues(stack_env, envs, processes)
        _requests_are_logged_and_counted(base, processes["web"])
    finally:
        codes = {name: process.stop() for name, process in processes.items()}
    assert codes == {name: 0 for name in processes}, {
        n: p.output()[-2000:] for n, p in processes.items() if codes[n] != 0
    }


def _each_pool_takes_its_queues(stack_env, envs, processes):
    """A message on each queue, for an actor nobody declares: the pool consuming the queue takes
    it and dead-letters it, which its own Prometheus exposition counts. And one real message."""
    app = create_app(
        {
            "APP_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": stack_env["DATABASE_URL"],
            "REDIS_URL": stack_env["REDIS_URL"],
            "DRAMATIQ_NAMESPACE": stack_env["DRAMATIQ_NAMESPACE"],
            "SECRET_KEY": "sender",
        }
    )
    broker = app.extensions["dramatiq"]
    for pool, service in POOLS.items():
        for queue in pool_queues(service["command"]):
            broker.enqueue(
                dramatiq.Message(queue_name=queue, actor_name="deployment_probe", args=(), kwargs={}, options={})
            )
    with app.app_context():
        app.extensions["dramatiq_actors"]["publish"].send(0)  # no such publication: a no-op

    def exposed(pool, line):
        status, _, text = http(f"http://127.0.0.1:{envs[pool]['dramatiq_prom_port']}/metrics")
        return status == 200 and line in text

    for pool, service in POOLS.items():
        for queue in pool_queues(service["command"]):
            line = f'dramatiq_message_rejects_total{{actor_name="deployment_probe",queue_name="{queue}"}} 1.0'
            wait_for(
                f"{pool} to take a message from {queue}", lambda: exposed(pool, line), processes.values(), timeout=60
            )
    [publishing] = [pool for pool, s in POOLS.items() if "publish" in pool_queues(s["command"])]
    line = 'dramatiq_messages_total{actor_name="publish",queue_name="publish"} 1.0'
    wait_for("the publish actor to run", lambda: exposed(publishing, line), processes.values(), timeout=60)


def _requests_are_logged_and_counted(base, web):
    for n in range(10):
        status, headers, _ = http(f"{base}/login", headers={"X-Request-ID": f"deploy-test-{n:04d}"})
        assert status == 200 and headers["X-Request-ID"] == f"deploy-test-{n:04d}"
    status, _, text = http(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert status == 200
    # Both gunicorn workers answered some: the multiprocess directory adds them up.
    assert 'cms_http_request_duration_seconds_count{endpoint="auth.login",method="GET",status="2xx"} 10.0' in text
    for gauge in (
        "cms_outbox_lag_seconds",
        "cms_callbacks_pending",
        "cms_publications_unknown",
        "cms_dead_letter_messages",
        "cms_media_processing_assets",
        "cms_scheduler_heartbeat_age_seconds",
    ):
        assert gauge in text
    time.sleep(0.5)
    access = [json.loads(line) for line in web.out.read_text().splitlines() if line.startswith("{")]
    logged = [entry for entry in access if entry.get("path") == "/login"]
    assert [entry["request_id"] for entry in logged] == [f"deploy-test-{n:04d}" for n in range(10)]
    assert all(entry["logger"] == "gunicorn.access" and entry["status"] == "200" for entry in logged)


def test_a_bad_setting_stops_every_process(stack_env, tmp_path):
    """Web, worker and scheduler refuse to start, each naming every problem."""
    env = {
        **stack_env,
        "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        "HSTS_ENABLED": "ture",
        "MAKE_CALLBACK_SECRET": "too-short",
    }
    for name in ("web", "worker-search", "scheduler"):
        argv = APP_SERVICES[name]["command"]
        (tmp_path / name).mkdir()
        done = subprocess.run(
            [str(VENV_BIN / argv[0]), *argv[1:]],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env=service_env(name, env, tmp_path / name),
        )
        output = done.stdout + done.stderr
        assert done.returncode != 0, (name, output[-2000:])
        for problem in (
            "HSTS_ENABLED='ture' is not a boolean",
            "PUBLIC_BASE_URL='http://127.0.0.1:8000' must be https",
            "MAKE_CALLBACK_SECRET is 9 bytes: at least 24",
        ):
            assert problem in output, (name, problem, output[-2000:])
