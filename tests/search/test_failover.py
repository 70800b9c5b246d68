"""Failover: whatever happens to Meilisearch, users get results (from PostgreSQL) in time.

The corpus lives in the test's transaction and is also indexed in the emulator, so both
engines can answer; the emulator is then stopped, broken or slowed with its fault knobs.
"""

import time

import pytest

from app import search
from app.extensions import redis_store
from app.search import circuit, indexing
from app.search import meili as engine

BUDGET_MS = 250
POSTGRES_MARGIN_MS = 400  # the fallback query itself, on a busy shared machine


@pytest.fixture
def meili_on(app, corpus, meili, monkeypatch):
    """The session app pointed at a fresh emulator holding the corpus."""
    monkeypatch.setitem(app.config, "MEILI_URL", meili.url)
    monkeypatch.setitem(app.config, "MEILI_API_KEY", meili.key)
    monkeypatch.setitem(app.config, "MEILI_INDEX_PREFIX", "")
    monkeypatch.setitem(app.config, "SEARCH_BUDGET_MS", BUDGET_MS)
    monkeypatch.setitem(app.config, "SEARCH_CIRCUIT_COOLDOWN_S", 1)
    with app.app_context():
        admin = engine.client()
        engine.ensure_indexes(admin)
        documents = indexing.documents("media", corpus.ids.values())
        engine.wait(admin, admin.index("media_assets").add_documents(documents, "id").task_uid)
    return meili


def timed_search(query):
    started = time.perf_counter()
    result = search.search_media(query)
    return result, (time.perf_counter() - started) * 1000


def assert_served_by_postgres(corpus, elapsed):
    result, took = elapsed
    assert (result.engine, result.fallback) == ("postgres", True)
    assert corpus.keys(result.ids) == ["hiring"]
    assert took < BUDGET_MS + POSTGRES_MARGIN_MS, took


def test_meilisearch_answers_when_healthy(app, corpus, meili_on, client):
    with app.app_context():
        result, took = timed_search("campgane")
        assert (result.engine, result.fallback, corpus.keys(result.ids)) == ("meilisearch", False, ["hiring"])
        assert circuit.state() == circuit.CLOSED
    checks = client.get("/readyz").json["checks"]
    assert checks["search"] == {
        "ok": True,
        "engine": "meilisearch",
        "degraded": False,
        "meilisearch": "up",
        "circuit": "closed",
        "ms": checks["search"]["ms"],
    }


@pytest.mark.parametrize("fault", ["stopped", "error 500", "too slow"])
def test_postgres_answers_and_the_circuit_opens(app, client, corpus, meili_on, fault):
    if fault == "stopped":
        meili_on.running.stop()
    elif fault == "error 500":
        meili_on.running.faults.fail_requests(None, status=500)
    else:
        meili_on.running.faults.delay_responses(3000)
    with app.app_context():
        assert_served_by_postgres(corpus, timed_search("campgane"))
        assert circuit.state() == circuit.OPEN
        # While open, Meilisearch is not even tried: no budget spent.
        result, took = timed_search("campgane")
        assert result.engine == "postgres" and took < BUDGET_MS, took
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"]["search"]["engine"] == "postgres"
    assert ready.json["checks"]["search"]["degraded"] is True


def test_the_circuit_closes_when_meilisearch_is_back(app, corpus, meili_on):
    meili_on.running.faults.fail_requests(None, status=503)
    with app.app_context():
        assert timed_search("campgane")[0].engine == "postgres"
        meili_on.running.faults.clear()
        assert timed_search("campgane")[0].engine == "postgres"  # still cooling down
        time.sleep(1.1)
        assert circuit.state() == circuit.HALF_OPEN
        result, _ = timed_search("campgane")
        assert (result.engine, corpus.keys(result.ids)) == ("meilisearch", ["hiring"])
        assert circuit.state() == circuit.CLOSED


def test_a_failed_probe_reopens_the_circuit(app, corpus, meili_on):
    meili_on.running.faults.fail_requests(None, status=502)
    with app.app_context():
        timed_search("campgane")
        time.sleep(1.1)
        assert_served_by_postgres(corpus, timed_search("campgane"))
        assert circuit.state() == circuit.OPEN


def test_one_probe_at_a_time_while_half_open(app, corpus, meili_on):
    with app.app_context():
        circuit.record_failure("test")
        redis_store.client.delete(redis_store.key("search:circuit:open"))
        redis_store.client.set(redis_store.key("search:circuit:probe"), "1", px=5000)
        assert timed_search("campgane")[0].engine == "postgres"  # another request probes
        redis_store.client.delete(redis_store.key("search:circuit:probe"))
        assert timed_search("campgane")[0].engine == "meilisearch"
