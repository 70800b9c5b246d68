"""The broker `BROKER_URL` chooses, on the real servers: Redis (the default) and RabbitMQ.
Queues declared at start with their dead-letter queues, dead letters counted on both, a Redis
broker that fails fast, and a committed change whose message cannot be sent answered as done."""

import time

import dramatiq
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from app.tasks import dead_letter_counts, queue_counts, queue_name
from tests.brokers import QUEUE_PREFIX, broker_settings, delete_queues
from tests.conftest import make_test_app

# Each actor's queue in the project (app/tasks, app/search, app/notifications, app/renditions)
PROJECT_QUEUES = {"default", "publish", "callbacks", "drafts", "search", "notify", "renditions", "graph"}


@pytest.fixture
def broker_app(servers, test_database, request):
    app = make_test_app(servers, test_database, **broker_settings(request.param))
    yield app
    delete_queues(app.extensions["dramatiq"])


def test_the_default_broker_is_the_apps_redis_with_short_timeouts(servers, test_database):
    app = make_test_app(servers, test_database, REDIS_CONNECT_TIMEOUT_S=0.3, REDIS_SOCKET_TIMEOUT_S=0.4)
    broker = app.extensions["dramatiq"]
    assert isinstance(broker, RedisBroker)
    kwargs = broker.client.connection_pool.connection_kwargs
    assert (kwargs["socket_connect_timeout"], kwargs["socket_timeout"]) == (0.3, 0.4)


def test_a_stalled_redis_broker_fails_within_its_timeout(servers, test_database):
    """A listening socket that never answers (a stalled Redis): the send gives up after the
    socket timeout instead of hanging the request."""
    import socket

    stalled = socket.socket()
    stalled.bind(("127.0.0.1", 0))
    stalled.listen(8)
    try:
        app = make_test_app(
            servers,
            test_database,
            BROKER_URL=f"redis://127.0.0.1:{stalled.getsockname()[1]}/0",
            REDIS_CONNECT_TIMEOUT_S=0.5,
            REDIS_SOCKET_TIMEOUT_S=0.5,
        )
        started = time.monotonic()
        with app.app_context(), pytest.raises(Exception):
            from app.tasks.media import sweep_orphans

            sweep_orphans.send()
        assert time.monotonic() - started < 5
    finally:
        stalled.close()


def test_rabbitmq_broker_declares_every_queue_and_its_dead_letter_queue_at_start(servers, test_database):
    app = make_test_app(servers, test_database, **broker_settings("rabbitmq"))
    broker = app.extensions["dramatiq"]
    try:
        assert isinstance(broker, RabbitmqBroker)
        assert {q.removeprefix(QUEUE_PREFIX) for q in broker.get_declared_queues()} >= PROJECT_QUEUES
        assert all(q.startswith(QUEUE_PREFIX) for q in broker.get_declared_queues())
        # Declared on the server already: a passive declaration fails for a missing queue
        channel = broker.channel
        for queue in PROJECT_QUEUES:
            for name in (QUEUE_PREFIX + queue, QUEUE_PREFIX + queue + ".DQ", QUEUE_PREFIX + queue + ".XQ"):
                channel.queue_declare(queue=name, passive=True)
        del broker.connection
        with app.app_context():
            assert set(queue_counts()) >= PROJECT_QUEUES
            assert queue_name(app, "publish") == QUEUE_PREFIX + "publish"
    finally:
        delete_queues(broker)


@pytest.mark.parametrize("broker_app", ["redis", "rabbitmq"], indirect=True)
def test_a_message_whose_retries_run_out_is_counted_as_a_dead_letter(broker_app):
    app = broker_app
    broker = app.extensions["dramatiq"]

    def fails():
        raise RuntimeError("always")

    # An actor of the test's own on the project's `publish` queue, with no retry: one failure
    # and the message is dead-lettered by the broker
    doomed = dramatiq.actor(
        fails, broker=broker, actor_name=f"doomed_{id(app)}", queue_name=queue_name(app, "publish"), max_retries=0
    )
    with app.app_context():
        before = dead_letter_counts()
        assert before["publish"] == 0
        doomed.send()
        assert queue_counts()["publish"][0] == 1  # waiting
        worker = dramatiq.Worker(broker, worker_timeout=100, queues={queue_name(app, "publish")})
        worker.start()
        try:
            deadline = time.monotonic() + 20
            while dead_letter_counts()["publish"] == 0 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            worker.stop()
        assert dead_letter_counts()["publish"] == 1
        assert all(n == 0 for q, n in dead_letter_counts().items() if q != "publish")
