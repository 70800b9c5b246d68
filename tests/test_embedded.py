"""`make run`'s launcher on embedded servers only, from an empty instance directory."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_launcher_starts_the_embedded_stack_and_demo_logins_work(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "APP_ENV") and not k.startswith("MAKE_")}
    env.update(CMS_INSTANCE_DIR=str(tmp_path / "instance"), PORT=str(port), PYTHONUNBUFFERED="1",
               MAKE_EMULATOR_PORT=str(_free_port()))
    proc = subprocess.Popen([sys.executable, "-m", "app.launcher"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
            response = http.post("/login", data={"email": login.group(1), "password": login.group(2),
                                                 "csrf_token": token})
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
        instance = tmp_path / "instance"
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
    # Ctrl-C stopped what it started.
    assert proc.returncode == 0
    pid_file = tmp_path / "instance" / "postgres" / "postmaster.pid"
    assert not pid_file.exists(), "embedded PostgreSQL still running"


@pytest.mark.parametrize("busy_one", ["PORT", "MAKE_EMULATOR_PORT"])
def test_launcher_refuses_a_busy_port_before_starting_anything(tmp_path, busy_one):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("MAKE_")}
        env.update(CMS_INSTANCE_DIR=str(tmp_path / "instance"), PORT=str(_free_port()),
                   MAKE_EMULATOR_PORT=str(_free_port()))
        env[busy_one] = str(port)
        result = subprocess.run([sys.executable, "-m", "app.launcher"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"Port {port}" in result.stderr
    assert not (tmp_path / "instance" / "postgres").exists()
