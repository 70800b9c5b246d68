"""gunicorn settings for the web process: `gunicorn --config gunicorn.conf.py wsgi:app`.

Threaded workers (gthread): a long upload or a range download holds one thread, never a whole
process, and idle keep-alive connections wait in the worker's poller without a thread. With
gthread, `timeout` is the worker's heartbeat to the master, not a limit on a request: a 2 GiB
upload may take many minutes (the app ends a body that stops arriving, UPLOAD_READ_TIMEOUT_S).
Every value can be changed from the environment (docs/operations.md, "Web process"):

- WEB_WORKERS (two per core, at most 8), WEB_THREADS (8): concurrent requests = workers x
  threads; each worker keeps up to 5+10 PostgreSQL connections, so mind `max_connections`;
- GUNICORN_BIND (0.0.0.0:8000), GUNICORN_TIMEOUT (60), GUNICORN_GRACEFUL_TIMEOUT (120: requests
  in flight at a restart get this long to finish), GUNICORN_KEEPALIVE (75: above the reverse
  proxy's upstream keep-alive of 60 s, so the proxy never reuses a connection being closed);
- GUNICORN_MAX_REQUESTS (2000) with jitter (200): workers are replaced one at a time, gracefully,
  so a slow leak in a library never grows without bound;
- PROMETHEUS_MULTIPROC_DIR: where the workers' request metrics meet (app/metrics.py); a fresh
  temporary directory when unset, emptied at start, a dead worker's live gauges dropped.

The settings are checked in the master before any worker starts (app/settings_check.py): a
problem stops gunicorn with every problem named. Logs: JSON lines in production
(`LOG_FORMAT`), the access line carries the request id (`X-Request-ID`, app/observability.py).
"""

import os
import shutil
import sys
import tempfile

from gunicorn.glogging import Logger as _GunicornLogger


def _int(name, default):
    return int(os.environ.get(name) or default)


_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = _int("WEB_WORKERS", min(2 * _cores, 8))
threads = _int("WEB_THREADS", 8)
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 120)
keepalive = _int("GUNICORN_KEEPALIVE", 75)
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# The heartbeat file in memory: on a disk-backed /tmp a slow disk can stall the heartbeat.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# gunicorn's control socket defaults to one path per user: two instances on a host would share it.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or None
control_socket_disable = control_socket is None
accesslog = "-"
errorlog = "-"
loglevel = (os.environ.get("LOG_LEVEL") or "info").lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s "%(a)s"'

_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
_own_metrics_dir = not _metrics_dir
if _own_metrics_dir:
    _metrics_dir = tempfile.mkdtemp(prefix="cms-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir  # inherited by the forked workers


class _Logger(_GunicornLogger):
    """gunicorn's own lines (master, errors, access) in the app's format: JSON in production."""

    def setup(self, cfg):
        super().setup(cfg)
        from app.observability import formatter_for
        from app.settings_check import environment_config

        if environment_config()["LOG_FORMAT"] == "json":
            for handler in self.error_log.handlers + self.access_log.handlers:
                handler.setFormatter(formatter_for("json"))


logger_class = _Logger


def on_starting(server):
    from app.settings_check import describe, environment_config, problems

    failed = problems(environment_config())
    if failed:
        server.log.error(describe(failed))
        on_exit(server)
        sys.exit(3)
    os.makedirs(_metrics_dir, exist_ok=True)
    for name in os.listdir(_metrics_dir):
        if name.endswith(".db"):
            os.remove(os.path.join(_metrics_dir, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, _metrics_dir)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
