"""Both Dramatiq brokers for tests: the session's Redis (the default) and the machine's
RabbitMQ (`TEST_RABBITMQ_URL`, else amqp://guest:guest@127.0.0.1:5672/), each test session
with queue names of its own (`RABBITMQ_QUEUE_PREFIX`) so that parallel runs never collide."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import os

import pytest

from tests.conftest import SESSION_TAG

RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
QUEUE_PREFIX = f"cms-test-{SESSION_TAG}."


def rabbitmq_reachable() -> bool:
    parts = urlsplit(RABBITMQ_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port or 5672), timeout=2):
            return True
    except OSError:
        return False


def broker_settings(kind: str) -> dict:
    """App settings for `kind` ("redis" or "rabbitmq"), skipping the test when no RabbitMQ."""
    if kind == "redis":
        return {}
    if not rabbitmq_reachable():
        pytest.skip(f"no RabbitMQ reachable at {RABBITMQ_URL} (set TEST_RABBITMQ_URL)")
    return {"BROKER_URL": RABBITMQ_URL, "RABBITMQ_QUEUE_PREFIX": QUEUE_PREFIX}


def broker_env(config) -> dict:
    """The environment a worker process needs to reach the app's broker."""
    return {
        "BROKER_URL": config.get("BROKER_URL") or "",
        "RABBITMQ_QUEUE_PREFIX": config.get("RABBITMQ_QUEUE_PREFIX") or "",
    }


def delete_queues(broker) -> None:
    """Remove this session's RabbitMQ queues (with their .DQ and .XQ); Redis: flush them."""
    from dramatiq.brokers.rabbitmq import RabbitmqBroker
    from dramatiq.common import dq_name, xq_name

    if not isinstance(broker, RabbitmqBroker):
        broker.flush_all()
        return
    try:
        for queue in broker.get_declared_queues():
            for name in (queue, dq_name(queue), xq_name(queue)):
                broker.channel.queue_delete(name)
    finally:
        del broker.connection


BROKERS = pytest.mark.parametrize("broker_kind", ["redis", "rabbitmq"])
