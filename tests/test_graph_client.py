"""The Graph client over HTTPS: against the strict emulator, and against a real SharePoint library
when GRAPH_TEST_* are set (the tests that inject faults run on the emulator only).

Waits are recorded instead of slept through: the emulator's faults are counted, not timed, so
the assertions can say exactly which waits the client chose."""

from __future__ import annotations

import os
import uuid

import pytest

from app.integrations.graph import (
    FRAGMENT,
    GraphAuthError,
    GraphClient,
    GraphConflict,
    GraphNotFound,
    GraphThrottled,
    GraphUnavailable,
)
from tests.graph_support import SIMPLE_MAX, emulator_settings, graph, tenant_settings  # noqa: F401


@pytest.fixture
def emulator(graph):
    graph.emulator.counters.reset()
    graph.emulator.faults.clear()
    yield graph
    graph.emulator.faults.clear()


class Target:
    """A client, its recorded waits, and the items to delete afterwards."""

    def __init__(self, settings, graph=None):
        self.waits: list[float] = []
        self.client = GraphClient(settings, sleep=self.waits.append)
        self.graph = graph
        self.created: list[str] = []

    def upload(self, data: bytes, tmp_path, name: str | None = None, **kwargs) -> dict:
        source = tmp_path / uuid.uuid4().hex
        source.write_bytes(data)
        item = self.client.upload(source, name=name or f"{uuid.uuid4().hex[:8]}.bin", **kwargs)
        self.created.append(item["id"])
        return item

    def read(self, item_id, version=None, start=0, end=None) -> bytes:
        return b"".join(self.client.download(item_id, version, start, end))

    def counters(self) -> dict:
        return self.graph.emulator.counters.snapshot()

    def close(self):
        for item_id in self.created:
            try:
                self.client.delete(item_id)
            except GraphNotFound:
                pass
        self.client.close()


@pytest.fixture(params=["emulator", "tenant"])
def target(request):
    if request.param == "emulator":
        graph = request.getfixturevalue("emulator")
        made = Target(emulator_settings(graph), graph)
    else:
        made = Target(tenant_settings())
    yield made
    made.close()


@pytest.fixture
def fake(emulator):
    made = Target(emulator_settings(emulator), emulator)
    yield made
    made.close()


def payload(size: int) -> bytes:
    return os.urandom(size)


# -- on every target ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "size, fragments",
    [
        (SIMPLE_MAX, 0),  # the largest simple PUT
        (SIMPLE_MAX + 1, 1),  # the smallest session: one final fragment
        (FRAGMENT, 1),  # exactly one chunk
        (FRAGMENT + 1, 2),  # one byte over: a full chunk, then one byte
        (3 * FRAGMENT + 5, 4),
    ],
)
def test_sizes_around_the_simple_limit_and_the_chunk(target, tmp_path, size, fragments):
    data = payload(size)
    item = target.upload(data, tmp_path)
    assert item["size"] == size
    assert target.read(item["id"]) == data
    if target.graph:
        counters = target.counters()
        assert counters["fragments_received"] == fragments
        assert counters["fragment_bytes_received"] == (size if fragments else 0)
        assert counters["simple_upload_bytes_received"] == (0 if fragments else size)


def test_a_replacement_is_a_new_version_and_the_old_bytes_stay(target, tmp_path):
    first, second = payload(SIMPLE_MAX - 10), payload(2 * FRAGMENT + 7)
    item = target.upload(first, tmp_path)
    target.upload(second, tmp_path, item_id=item["id"], conflict="replace")
    versions = target.client.versions(item["id"])
    assert [v["size"] for v in versions] == [len(second), len(first)]
    assert target.read(item["id"], versions[1]["id"]) == first
    assert target.read(item["id"]) == second
    assert target.read(item["id"], None, 5, FRAGMENT + 9) == second[5 : FRAGMENT + 10]


def test_conflict_behaviour_is_sent_as_asked(target, tmp_path):
    name = f"{uuid.uuid4().hex[:8]}.bin"
    original = target.upload(payload(100), tmp_path, name=name)
    with pytest.raises(GraphConflict):
        target.upload(payload(100), tmp_path, name=name, conflict="fail")
    with pytest.raises(GraphConflict):  # a session's clash surfaces at its last fragment
        target.upload(payload(FRAGMENT + 1), tmp_path, name=name, conflict="fail")
    renamed = target.upload(payload(FRAGMENT + 1), tmp_path, name=name, conflict="rename")
    assert renamed["id"] != original["id"] and renamed["name"] != name
    replaced = target.upload(payload(200), tmp_path, name=name, conflict="replace")
    assert replaced["id"] == original["id"] and replaced["size"] == 200


def test_share_links_are_idempotent_and_deleted_items_are_gone(target, tmp_path):
    item = target.upload(payload(10), tmp_path)
    link = target.client.create_link(item["id"])
    assert link.startswith("https://") and target.client.create_link(item["id"]) == link
    target.client.delete(item["id"])
    with pytest.raises(GraphNotFound):
        target.client.item(item["id"])


# -- the emulator's fault knobs ---------------------------------------------------------------------
def test_the_link_type_and_scope_come_from_the_settings(emulator, tmp_path):
    made = Target(emulator_settings(emulator, link_type="edit", link_scope="users"), emulator)
    try:
        item = made.upload(payload(10), tmp_path)
        made.client.create_link(item["id"])
        assert (item["id"], "edit", "users") in emulator.emulator.links
        assert (item["id"], "view", "organization") not in emulator.emulator.links
    finally:
        made.close()


def test_a_429_storm_is_waited_out_as_retry_after_says(fake, tmp_path):
    item = fake.upload(payload(10), tmp_path)
    fake.graph.emulator.faults.fail_requests(429, count=3, retry_after=7)
    assert fake.client.item(item["id"])["id"] == item["id"]
    assert fake.waits == [7, 7, 7]
    assert fake.counters()["faults_served"] == {"429": 3}


def test_retries_are_bounded_and_retry_after_capped(emulator, tmp_path):
    made = Target(emulator_settings(emulator, retry_max_wait_s=30), emulator)
    try:
        item = made.upload(payload(10), tmp_path)
        emulator.emulator.faults.fail_requests(503, count=10, retry_after=900)
        with pytest.raises(GraphThrottled) as caught:
            made.client.item(item["id"])
        assert made.waits == [30, 30, 30, 30]  # 5 attempts, 4 waits, each capped
        assert caught.value.retry_after == 900 and caught.value.retryable
    finally:
        emulator.emulator.faults.clear()
        made.close()


def test_without_retry_after_the_client_backs_off_and_never_retries_other_4xx(fake, tmp_path):
    item = fake.upload(payload(10), tmp_path)
    fake.graph.emulator.faults.fail_requests(502, count=2)
    fake.client.item(item["id"])
    assert len(fake.waits) == 2 and 0.008 <= fake.waits[0] <= 0.012 and 0.016 <= fake.waits[1] <= 0.024
    fake.waits.clear()
    with pytest.raises(GraphNotFound):
        fake.client.item("01NOSUCHITEM")
    assert fake.waits == []


def test_an_expired_token_is_renewed_once(fake, tmp_path):
    item = fake.upload(payload(10), tmp_path)
    issued = fake.counters()["tokens_issued"]
    fake.graph.emulator.tokens.expire_all()  # MSAL's cache still holds the token: Graph says 401
    assert fake.client.item(item["id"])["id"] == item["id"]
    assert fake.counters()["tokens_issued"] == issued + 1
    fake.graph.emulator.faults.fail_requests(401, count=2)  # refused again after the renewal
    with pytest.raises(GraphAuthError):
        fake.client.item(item["id"])
    assert fake.counters()["tokens_issued"] == issued + 2


def test_a_wrong_secret_is_an_auth_error(emulator):
    client = GraphClient(emulator_settings(emulator, client_secret="wrong"))
    with pytest.raises(GraphAuthError) as caught:
        client.item("01ANY")
    assert caught.value.code == "invalid_client" and not caught.value.retryable


def test_the_configured_ca_wins_over_the_environment_bundles(emulator, monkeypatch, tmp_path):
    """Many servers set REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE; requests would let them replace
    GRAPH_CA_BUNDLE inside MSAL, and the token endpoint would fail TLS verification."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    client = GraphClient(emulator_settings(emulator))
    try:
        source = tmp_path / "ca.txt"
        source.write_bytes(b"trusted")
        assert client.item(client.upload(source, name=f"ca-{uuid.uuid4().hex}.txt")["id"])["size"] == 7
    finally:
        client.close()


def _fragment_puts(target) -> int:
    return target.counters()["requests"].get("PUT uploads.put_fragment", 0)


def test_a_throttled_fragment_resumes_from_next_expected_ranges(fake, tmp_path):
    data = payload(3 * FRAGMENT)
    fake.graph.emulator.faults.fail_fragment(2, status=503)
    item = fake.upload(data, tmp_path)
    assert fake.read(item["id"]) == data
    counters = fake.counters()
    assert _fragment_puts(fake) == 4 and counters["requests"]["GET uploads.session_status"] == 1
    assert counters["fragment_bytes_received"] == len(data)


def test_a_failed_fragment_is_resumed_by_the_next_call_from_the_recorded_session(fake, tmp_path):
    data = payload(3 * FRAGMENT)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    recorded = []
    fake.graph.emulator.faults.fail_fragment(2, status=500)  # not idempotent: not retried in the call
    with pytest.raises(GraphUnavailable):
        fake.client.upload(source, name="big.bin", on_progress=recorded.append)
    assert [s.next_offset for s in recorded] == [0, FRAGMENT]
    item = fake.client.upload(source, name="big.bin", resume=recorded[-1], on_progress=recorded.append)
    fake.created.append(item["id"])
    assert fake.read(item["id"]) == data
    counters = fake.counters()
    assert counters["requests"]["POST item/createUploadSession"] == 1
    assert _fragment_puts(fake) == 4 and counters["fragment_bytes_received"] == len(data)  # nothing sent twice


def test_an_expired_session_starts_over(fake, tmp_path):
    data = payload(3 * FRAGMENT)
    source = tmp_path / "late.bin"
    source.write_bytes(data)
    uploads, expired = fake.graph.emulator.uploads, []

    def expire_after_the_first_chunk(session):
        if session.next_offset == FRAGMENT and not expired:
            expired.append(uploads.expire(session.url))

    item = fake.client.upload(source, name="late.bin", on_progress=expire_after_the_first_chunk)
    fake.created.append(item["id"])
    assert fake.read(item["id"]) == data
    assert expired == [1] and fake.counters()["requests"]["POST item/createUploadSession"] == 2
    assert fake.counters()["fragment_bytes_received"] == FRAGMENT + len(data)  # from zero again


def test_a_lapsed_recorded_session_is_replaced(fake, tmp_path):
    data = payload(2 * FRAGMENT)
    source = tmp_path / "again.bin"
    source.write_bytes(data)
    fake.client.ensure_folder()
    stale = fake.client.create_session(name="again.bin")
    fake.graph.emulator.uploads.expire(stale.url)
    assert fake.client.resumed(stale) is None
    item = fake.client.upload(source, name="again.bin", resume=stale)
    fake.created.append(item["id"])
    assert fake.read(item["id"]) == data
