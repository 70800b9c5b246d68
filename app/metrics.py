"""Prometheus metrics: `GET /metrics` with `Authorization: Bearer <METRICS_TOKEN>`.

Two kinds (each explained, with what to do when it turns red, in docs/operations.md):

- the request latency histogram, counted in each web process. Under gunicorn they add up
  across workers through `PROMETHEUS_MULTIPROC_DIR` (gunicorn.conf.py sets one up); without it
  each scrape sees only the worker that answered.
- gauges read at scrape time from PostgreSQL and Redis (the state of the whole installation,
  whichever process answers): outbox lag, callbacks not applied, publications `unknown`,
  dead-lettered messages, queue, media processing and renditions backlogs, the scheduler's
  heartbeat age.

The workers' own figures (messages processed, failed, retried, in flight) come from Dramatiq's
Prometheus middleware, served by each worker pool on its own port (worker.py).

`prometheus_client` decides at import whether it runs in multiprocess mode, so it is imported
only when the first metric is made, after the process's environment is settled.
"""

from __future__ import annotations

import hmac
import logging
import math
import os
import threading

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, request

from app.security import public

bp = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30, 120)
_request_latency = None
_making = threading.Lock()  # a worker's first requests arrive on several threads at once


def request_latency():
    global _request_latency
    if _request_latency is None:
        with _making:
            if _request_latency is None:
                from prometheus_client import Histogram

                _request_latency = Histogram(
                    "cms_http_request_duration_seconds",
                    "Time to answer a request (up to the first byte of a streamed body), by endpoint.",
                    ["endpoint", "method", "status"],
                    buckets=LATENCY_BUCKETS,
                )
    return _request_latency


def observe_request(response):
    """after_request: the time since `observability.start_request`, labelled by endpoint (the
    route's name, never the raw path, so ids do not explode the series)."""
    import time

    from flask import g

    started = g.get("request_started")
    if started is not None:
        endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
        request_latency().labels(endpoint, request.method, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
    return response


@bp.get("/metrics")
@public  # the bearer token is the proof: Prometheus has no session
def metrics():
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    offered = request.headers.get("Authorization", "")
    if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return Response("unauthorized\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'}, mimetype="text/plain")
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    request_latency()  # declared even before the first observation
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    state = CollectorRegistry()
    state.register(StateCollector())
    return Response(
        generate_latest(processes) + generate_latest(state),
        headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
    )


class StateCollector:
    """The gauges read from PostgreSQL and Redis at each scrape. A source that fails is
    reported as `cms_metrics_source_up{source} 0` (and logged) instead of failing the scrape."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily("cms_metrics_source_up", "Whether a source of the gauges answered.", labels=["source"])
        for source, read in (
            ("database", _database_gauges),
            ("broker", _broker_gauges),
            ("scheduler", _scheduler_gauges),
        ):
            try:
                families = list(read())
            except Exception:
                log.exception("metrics: %s gauges unavailable", source)
                from app.extensions import db

                db.session.rollback()
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            yield from families
        yield up


def _gauge(name, documentation, value, labels=None):
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily(name, documentation, labels=list(labels or {}) or None)
    if labels:
        for label_values, number in value:
            family.add_metric(label_values, number)
    else:
        family.add_metric([], value)
    return family


OUTBOX_SQL = sa.text("""
    SELECT count(*) FILTER (WHERE status = 'pending' AND next_attempt_at <= now()) AS due,
           coalesce(extract(epoch FROM now() - min(next_attempt_at)
                    FILTER (WHERE status = 'pending' AND next_attempt_at <= now())), 0) AS lag,
           count(*) FILTER (WHERE status = 'unknown') AS unknown
    FROM publications WHERE status IN ('pending', 'unknown')""")
CALLBACKS_SQL = sa.text("""
    SELECT count(*) FILTER (WHERE applied_at IS NULL) AS pending,
           coalesce(extract(epoch FROM now() - min(received_at) FILTER (WHERE applied_at IS NULL)), 0) AS oldest,
           count(*) FILTER (WHERE outcome = 'could_not_apply') AS set_aside
    FROM callback_events WHERE applied_at IS NULL OR outcome = 'could_not_apply'""")
MEDIA_SQL = sa.text("""
    SELECT count(*) AS processing,
           coalesce(extract(epoch FROM now() - min(updated_at)), 0) AS oldest,
           (SELECT count(*) FROM media_transfers) AS storing
    FROM media_assets WHERE status = 'processing'""")
RENDITIONS_SQL = sa.text("""
    SELECT count(*) AS pending, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest
    FROM renditions WHERE status = 'pending'""")


def _database_gauges():
    from app.extensions import db

    outbox = db.session.execute(OUTBOX_SQL).one()
    callbacks = db.session.execute(CALLBACKS_SQL).one()
    media = db.session.execute(MEDIA_SQL).one()
    renditions = db.session.execute(RENDITIONS_SQL).one()
    db.session.rollback()  # read only: end the transaction the scrape opened
    return [
        _gauge("cms_outbox_lag_seconds", "Age of the oldest publication due and still pending.", float(outbox.lag)),
        _gauge("cms_outbox_due_publications", "Publications due and still pending.", outbox.due),
        _gauge(
            "cms_publications_unknown",
            "Publications sent without a callback in time, waiting for a person.",
            outbox.unknown,
        ),
        _gauge("cms_callbacks_pending", "Recorded Make callbacks not applied yet.", callbacks.pending),
        _gauge(
            "cms_callbacks_pending_oldest_seconds", "Age of the oldest callback not applied.", float(callbacks.oldest)
        ),
        _gauge(
            "cms_callbacks_set_aside",
            "Callbacks that could not be applied (listed on the publishing health page).",
            callbacks.set_aside,
        ),
        _gauge(
            "cms_media_processing_assets", "Assets waiting for their metadata, thumbnail and preview.", media.processing
        ),
        _gauge("cms_media_processing_oldest_seconds", "Age of the oldest asset still processing.", float(media.oldest)),
        _gauge("cms_media_store_backlog", "File versions waiting to be stored in SharePoint.", media.storing),
        _gauge("cms_renditions_pending", "Files being made to fit a network, not ready yet.", renditions.pending),
        _gauge(
            "cms_renditions_pending_oldest_seconds",
            "Age of the oldest rendition still pending.",
            float(renditions.oldest),
        ),
    ]


def _broker_gauges():
    """Waiting, delayed and dead-lettered messages per queue, on Redis or RabbitMQ."""
    from app.tasks import queue_counts

    counts = sorted(queue_counts().items())
    waiting = [([queue], numbers[0]) for queue, numbers in counts]
    delayed = [([queue], numbers[1]) for queue, numbers in counts]
    dead = [([queue], numbers[2]) for queue, numbers in counts]
    return [
        _gauge("cms_queue_messages", "Messages waiting in a Dramatiq queue.", waiting, {"queue"}),
        _gauge("cms_queue_delayed_messages", "Messages waiting for their retry or delay.", delayed, {"queue"}),
        _gauge("cms_dead_letter_messages", "Dead-lettered messages (kept 7 days by the broker).", dead, {"queue"}),
    ]


def _scheduler_gauges():
    from app.scheduler import heartbeat_age

    age = heartbeat_age()
    return [
        _gauge(
            "cms_scheduler_heartbeat_age_seconds",
            "Seconds since a scheduler last ticked (+Inf: none on record).",
            math.inf if age is None else age,
        )
    ]
