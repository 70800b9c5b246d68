"""Contract tests of the Graph emulator (external-apis.md §2), through the real MSAL and httpx
over HTTPS. Time-dependent behaviour runs on a fake clock, so nothing here sleeps on a timer
it then races against."""

from __future__ import annotations

import base64
import os
import time

import httpx
import msal
import pytest

from sandbox.graph import GraphEmulatorConfig, start_graph_emulator
from sandbox.graph.quickxor import QuickXorHash

GRAPH_SCOPE = ["https://graph.microsoft.com/.default"]
FRAGMENT = 327_680


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def trust_only_the_given_ca(monkeypatch):
    """``requests`` (inside MSAL) lets these variables override ``verify=``."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def clock():
    return FakeClock()


def emulator_config(clock, **overrides) -> GraphEmulatorConfig:
    return GraphEmulatorConfig(clock=clock, thumbnail_delay_s=30, delta_page_size=2, **overrides)


@pytest.fixture(scope="module")
def shared_graph(clock):
    """One emulator for the module (stopping a server costs up to half a second); tests use
    their own file names, and get their own emulator from ``make_graph`` when they need one."""
    with start_graph_emulator(emulator_config(clock)) as running:
        yield running


@pytest.fixture
def graph(shared_graph):
    shared_graph.emulator.counters.reset()
    shared_graph.emulator.faults.clear()
    yield shared_graph
    shared_graph.emulator.faults.clear()


@pytest.fixture
def make_graph(clock):
    started = []

    def make(**overrides):
        started.append(start_graph_emulator(emulator_config(clock, **overrides)))
        return started[-1]

    yield make
    for running in started:
        running.stop()


def msal_app(graph, *, secret=None, tenant=None):
    """A fresh app per call: MSAL caches tokens and throttling per app instance."""
    return msal.ConfidentialClientApplication(
        graph.config.client_id,
        client_credential=secret or graph.config.client_secret,
        authority=f"{graph.authority_host}/{tenant or graph.config.tenant_id}",
        instance_discovery=False,
        verify=str(graph.ca_path),
    )


def api_client(graph, token=None):
    """Paths are relative to the drive and start with "/", so httpx never reads ``root:`` as a
    URL scheme."""
    token = token or msal_app(graph).acquire_token_for_client(scopes=GRAPH_SCOPE)["access_token"]
    return httpx.Client(
        base_url=f"{graph.graph_base}/drives/{graph.config.drive_id}",
        verify=graph.client_ssl_context(),
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.fixture
def api(graph):
    with api_client(graph) as client:
        yield client


def plain_client(graph):
    """No bearer token: for upload URLs, download URLs and the control endpoints."""
    return httpx.Client(verify=graph.client_ssl_context())


@pytest.fixture
def anonymous(graph):
    with plain_client(graph) as client:
        yield client


def quick_xor(data: bytes) -> str:
    hasher = QuickXorHash()
    hasher.update(data)
    return hasher.b64digest()


def put_fragment(client, url, data, start, total, **headers):
    end = start + len(data) - 1
    return client.put(url, content=data, headers={"Content-Range": f"bytes {start}-{end}/{total}", **headers})


def open_session(api, path, **body):
    response = api.post(f"/root:/{path}:/createUploadSession", json=body)
    assert response.status_code == 200, response.text
    return response.json()["uploadUrl"]


def error_code(response) -> tuple[str, str | None]:
    error = response.json()["error"]
    return error["code"], error["innerError"].get("code")


# -- hashes, tokens, authentication ---------------------------------------------------------
def reference_quick_xor(data: bytes) -> str:
    """Microsoft's algorithm byte by byte: rotate each byte into a 160-bit register."""
    register, mask = 0, (1 << 160) - 1
    for index, byte in enumerate(data):
        spread = byte << (index * 11 % 160)
        register ^= (spread & mask) | (spread >> 160)
    digest = bytearray(register.to_bytes(20, "little"))
    for index, byte in enumerate(len(data).to_bytes(8, "little")):
        digest[12 + index] ^= byte
    return base64.b64encode(bytes(digest)).decode()


# Vectors from rclone's quickxorhash tests, themselves checked against Microsoft's C# reference.
@pytest.mark.parametrize(
    "source, expected",
    [
        ("", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        ("Sg==", "SgAAAAAAAAAAAAAAAQAAAAAAAAA="),
        ("T6LYJIfDh81JrAK309H2JMJTXis=", "zBTHrspn3mEcohlJdIUAbjGNaNg="),
    ],
)
def test_quick_xor_hash_matches_reference_vectors(source, expected):
    data = base64.b64decode(source)
    for piece in (1, 7, 160, 1000):
        hasher = QuickXorHash()
        for offset in range(0, len(data), piece):
            hasher.update(data[offset : offset + piece])
        assert hasher.b64digest() == expected


def test_quick_xor_hash_folds_long_inputs_like_the_reference():
    data = os.urandom(50_000)
    for piece in (7, 160, 4099, 65_536):
        hasher = QuickXorHash()
        for offset in range(0, len(data), piece):
            hasher.update(data[offset : offset + piece])
        assert hasher.b64digest() == reference_quick_xor(data)


def test_msal_gets_a_token_through_discovery(graph):
    app = msal_app(graph)
    result = app.acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert result["token_type"] == "Bearer" and result["expires_in"] == 3599
    assert app.acquire_token_for_client(scopes=GRAPH_SCOPE)["access_token"] == result["access_token"]
    by_domain = msal_app(graph, tenant=graph.config.tenant_domain)
    assert "access_token" in by_domain.acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert graph.emulator.counters.snapshot()["tokens_issued"] == 2  # the repeat hit the cache


def test_token_endpoint_errors(graph, anonymous):
    bad_secret = msal_app(graph, secret="wrong").acquire_token_for_client(scopes=GRAPH_SCOPE)
    assert bad_secret["error"] == "invalid_client" and 7000215 in bad_secret["error_codes"]
    bad_scope = msal_app(graph).acquire_token_for_client(scopes=["https://graph.microsoft.com/Sites.Read.All"])
    assert bad_scope["error"] == "invalid_scope"
    with pytest.raises(ValueError):
        msal_app(graph, tenant="not-our-tenant")

    token_url = f"{graph.authority}/oauth2/v2.0/token"
    form = {"client_id": graph.config.client_id, "grant_type": "client_credentials", "scope": GRAPH_SCOPE[0]}
    assert anonymous.post(token_url, data={**form, "client_secret": "wrong"}).status_code == 401
    assert (
        anonymous.post(
            token_url, data={**form, "client_secret": graph.config.client_secret, "scope": "Files.Read"}
        ).status_code
        == 400
    )
    basic = anonymous.post(token_url, data=form, auth=(graph.config.client_id, graph.config.client_secret))
    assert basic.status_code == 200 and basic.json()["expires_in"] == 3599


def test_graph_refuses_missing_or_unknown_tokens(graph, anonymous):
    root = f"{graph.graph_base}/drives/{graph.config.drive_id}/root"
    for headers in ({}, {"Authorization": "Bearer not-a-token-we-issued"}):
        response = anonymous.get(root, headers=headers)
        assert response.status_code == 401
        assert error_code(response)[0] == "InvalidAuthenticationToken"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_tokens_get_401_until_the_client_renews(graph, anonymous):
    app = msal_app(graph)
    first = app.acquire_token_for_client(scopes=GRAPH_SCOPE)["access_token"]
    with api_client(graph, first) as api:
        assert api.get("/root").status_code == 200
        assert anonymous.post(f"{graph.control_url}/tokens/expire").status_code == 204
        refused = api.get("/root")
        assert refused.status_code == 401 and "expired" in refused.json()["error"]["message"]
    assert app.acquire_token_for_client(scopes=GRAPH_SCOPE)["access_token"] == first  # cached
    app.remove_tokens_for_client()
    second = app.acquire_token_for_client(scopes=GRAPH_SCOPE)["access_token"]
    assert second != first
    with api_client(graph, second) as api:
        assert api.get("/root").status_code == 200


# -- sites, folders, simple upload ----------------------------------------------------------
def test_site_and_library_resolve(graph, api):
    config = graph.config
    site = api.get(f"{graph.graph_base}/sites/{config.site_hostname}:/{config.site_path}")
    assert site.json()["id"] == config.site_id
    drives = api.get(f"{graph.graph_base}/sites/{config.site_id}/drives").json()["value"]
    assert [d["id"] for d in drives] == [config.drive_id]
    assert drives[0]["driveType"] == "documentLibrary"
    assert api.get(f"{graph.graph_base}/sites/{config.site_hostname}:/sites/other").status_code == 404


def test_folders_follow_conflict_behavior(api):
    created = api.post(
        "/root/children", json={"name": "campaigns", "folder": {}, "@microsoft.graph.conflictBehavior": "fail"}
    )
    assert created.status_code == 201 and created.json()["folder"] == {"childCount": 0}
    clash = api.post("/root/children", json={"name": "Campaigns", "folder": {}})
    assert clash.status_code == 409 and error_code(clash)[0] == "nameAlreadyExists"
    renamed = api.post(
        "/root/children", json={"name": "campaigns", "folder": {}, "@microsoft.graph.conflictBehavior": "rename"}
    )
    assert renamed.json()["name"] == "campaigns 1"
    assert api.get("/root:/campaigns").json()["id"] == created.json()["id"]
    assert api.put("/root:/missing/folder/x.jpg:/content", content=b"x").status_code == 404


def test_simple_upload_versions_etags_and_conflicts(api, graph):
    folder = api.post("/root/children", json={"name": "42", "folder": {}}).json()
    first = api.put(f"/items/{folder['id']}:/hero.jpg:/content", content=b"v1" * 100)
    assert first.status_code == 201
    item = first.json()
    assert item["name"] == "hero.jpg" and item["size"] == 200
    assert item["file"]["mimeType"] == "image/jpeg"
    assert item["file"]["hashes"]["quickXorHash"] == quick_xor(b"v1" * 100)
    assert item["parentReference"]["driveId"] == graph.config.drive_id
    assert item["parentReference"]["id"] == folder["id"]
    assert item["webUrl"].endswith("/Shared%20Documents/42/hero.jpg")
    assert api.get("/root:/42/hero.jpg").json()["id"] == item["id"]

    replaced = api.put("/root:/42/hero.jpg:/content", content=b"v2")  # default: replace
    assert replaced.status_code == 200 and replaced.json()["id"] == item["id"]
    assert replaced.json()["eTag"] != item["eTag"] and replaced.json()["cTag"] != item["cTag"]
    versions = api.get(f"/items/{item['id']}/versions").json()["value"]
    assert [(v["id"], v["size"]) for v in versions] == [("2.0", 2), ("1.0", 200)]

    fail = api.put("/root:/42/HERO.JPG:/content?@microsoft.graph.conflictBehavior=fail", content=b"v3")
    assert fail.status_code == 409 and error_code(fail)[0] == "nameAlreadyExists"
    renamed = api.put("/root:/42/hero.jpg:/content?@microsoft.graph.conflictBehavior=rename", content=b"v3")
    assert renamed.status_code == 201 and renamed.json()["name"] == "hero 1.jpg"


def test_if_match_guards_writes_and_deletes(api):
    item = api.put("/root:/brief.pdf:/content", content=b"one").json()
    current = api.put(f"/items/{item['id']}/content", content=b"two", headers={"If-Match": item["eTag"]})
    assert current.status_code == 200
    stale = api.put(f"/items/{item['id']}/content", content=b"three", headers={"If-Match": item["eTag"]})
    assert stale.status_code == 412 and error_code(stale)[0] == "resourceModified"
    etag = current.json()["eTag"]
    renamed = api.patch(f"/items/{item['id']}", json={"name": "brief-v2.pdf"}, headers={"If-Match": etag})
    assert renamed.json()["eTag"] != etag and renamed.json()["cTag"] == current.json()["cTag"]
    assert api.delete(f"/items/{item['id']}", headers={"If-Match": etag}).status_code == 412
    assert api.delete(f"/items/{item['id']}").status_code == 204
    gone = api.get(f"/items/{item['id']}")
    assert gone.status_code == 404 and error_code(gone)[0] == "itemNotFound"


def test_simple_upload_is_limited_to_4_mib(api):
    too_big = api.put("/root:/video.mp4:/content", content=os.urandom(4 * 1024 * 1024 + 1))
    assert too_big.status_code == 413
    assert api.get("/root:/video.mp4").status_code == 404


# -- upload sessions --------------------------------------------------------------------------
def test_upload_session_with_exactly_one_fragment(api, anonymous, graph):
    data = os.urandom(1000)
    upload_url = open_session(api, "single.bin", item={"@microsoft.graph.conflictBehavior": "fail"})
    assert upload_url.startswith(graph.content_server.url)  # another origin, as in production
    done = put_fragment(anonymous, upload_url, data, 0, len(data))
    assert done.status_code == 201
    assert done.json()["size"] == 1000
    assert done.json()["file"]["hashes"]["quickXorHash"] == quick_xor(data)
    assert anonymous.get(upload_url).status_code == 404  # a committed session is gone


def test_upload_session_one_byte_over_a_fragment_boundary(api, anonymous, graph):
    data = os.urandom(FRAGMENT + 1)
    upload_url = open_session(api, "edge.bin")
    middle = put_fragment(anonymous, upload_url, data[:FRAGMENT], 0, len(data))
    assert middle.status_code == 202
    assert middle.json()["nextExpectedRanges"] == [f"{FRAGMENT}-"]
    assert anonymous.get(upload_url).json()["nextExpectedRanges"] == [f"{FRAGMENT}-"]
    final = put_fragment(anonymous, upload_url, data[FRAGMENT:], FRAGMENT, len(data))
    assert final.status_code == 201 and final.json()["size"] == len(data)
    downloaded = api.get(f"/items/{final.json()['id']}/content", follow_redirects=True)
    assert downloaded.content == data
    counters = graph.emulator.counters.snapshot()
    assert counters["fragments_received"] == 2
    assert counters["fragment_bytes_received"] == len(data)


def test_upload_session_is_stricter_than_production(api, anonymous):
    total = 3 * FRAGMENT
    data = os.urandom(total)
    upload_url = open_session(api, "strict.bin")
    with_token = put_fragment(
        anonymous, upload_url, data[:FRAGMENT], 0, total, Authorization=api.headers["Authorization"]
    )
    assert with_token.status_code == 401
    odd_size = put_fragment(anonymous, upload_url, data[:1000], 0, total)
    assert odd_size.status_code == 400
    assert put_fragment(anonymous, upload_url, data[:FRAGMENT], 0, total).status_code == 202
    overlap = put_fragment(anonymous, upload_url, data[:FRAGMENT], 0, total)
    assert overlap.status_code == 416 and error_code(overlap) == ("invalidRange", "fragmentOverlap")
    skipped = put_fragment(anonymous, upload_url, data[2 * FRAGMENT :], 2 * FRAGMENT, total)
    assert skipped.status_code == 416 and error_code(skipped)[1] == "fragmentOutOfOrder"
    resized = put_fragment(anonymous, upload_url, data[FRAGMENT : 2 * FRAGMENT], FRAGMENT, total + 1)
    assert resized.status_code == 400 and error_code(resized)[1] == "fragmentLengthMismatch"
    assert anonymous.get(upload_url).json()["nextExpectedRanges"] == [f"{FRAGMENT}-"]


def test_each_fragment_stays_under_the_request_size_limit(make_graph):
    graph = make_graph(fragment_max_bytes=2 * FRAGMENT)  # 60 MiB by default
    data = os.urandom(3 * FRAGMENT)
    with api_client(graph) as api, plain_client(graph) as anonymous:
        upload_url = open_session(api, "limited.bin")
        too_big = put_fragment(anonymous, upload_url, data[: 2 * FRAGMENT], 0, len(data))
        assert too_big.status_code == 413
        assert put_fragment(anonymous, upload_url, data[:FRAGMENT], 0, len(data)).status_code == 202


def test_upload_resumes_from_next_expected_ranges_after_a_5xx(api, anonymous, graph):
    data = os.urandom(3 * FRAGMENT)
    upload_url = open_session(api, "resumed.bin")
    graph.emulator.faults.fail_fragment(2, status=503)
    assert put_fragment(anonymous, upload_url, data[:FRAGMENT], 0, len(data)).status_code == 202
    failed = put_fragment(anonymous, upload_url, data[FRAGMENT : 2 * FRAGMENT], FRAGMENT, len(data))
    assert failed.status_code == 503
    resume_at = int(anonymous.get(upload_url).json()["nextExpectedRanges"][0].rstrip("-"))
    assert resume_at == FRAGMENT
    for start in (resume_at, 2 * FRAGMENT):
        response = put_fragment(anonymous, upload_url, data[start : start + FRAGMENT], start, len(data))
    assert response.status_code == 201
    assert response.json()["file"]["hashes"]["quickXorHash"] == quick_xor(data)


def test_upload_sessions_expire_unless_fragments_keep_them_alive(make_graph, clock):
    graph = make_graph(upload_session_ttl_s=60)
    data = os.urandom(3 * FRAGMENT)
    with api_client(graph) as api, plain_client(graph) as anonymous:
        upload_url = open_session(api, "slow.bin")
        assert put_fragment(anonymous, upload_url, data[:FRAGMENT], 0, len(data)).status_code == 202
        clock.advance(50)
        assert (
            put_fragment(anonymous, upload_url, data[FRAGMENT : 2 * FRAGMENT], FRAGMENT, len(data)).status_code == 202
        )
        clock.advance(50)  # 100 s after creation, 50 s after the last fragment
        assert anonymous.get(upload_url).status_code == 200
        clock.advance(11)
        expired = put_fragment(anonymous, upload_url, data[2 * FRAGMENT :], 2 * FRAGMENT, len(data))
        assert expired.status_code == 404

        forced_url = open_session(api, "forced.bin")
        knob = anonymous.post(f"{graph.control_url}/upload-sessions/expire", json={"uploadUrl": forced_url})
        assert knob.json() == {"expired": 1}
        assert put_fragment(anonymous, forced_url, data[:FRAGMENT], 0, len(data)).status_code == 404

        cancelled_url = open_session(api, "cancelled.bin")
        assert anonymous.delete(cancelled_url).status_code == 204
        assert anonymous.get(cancelled_url).status_code == 404


def test_defer_commit_and_name_clash_on_the_final_fragment(api, anonymous):
    data = os.urandom(2000)
    deferred_url = open_session(api, "clip.mp4", deferCommit=True)
    waiting = put_fragment(anonymous, deferred_url, data, 0, len(data))
    assert waiting.status_code == 202 and waiting.json()["nextExpectedRanges"] == []
    assert api.get("/root:/clip.mp4").status_code == 404
    committed = anonymous.post(deferred_url, content=b"")
    assert committed.status_code == 201 and committed.json()["size"] == 2000

    clashing_url = open_session(api, "clip.mp4", item={"@microsoft.graph.conflictBehavior": "fail"})
    clash = put_fragment(anonymous, clashing_url, data, 0, len(data))
    assert clash.status_code == 409 and error_code(clash)[0] == "nameAlreadyExists"
    assert anonymous.post(clashing_url, content=b"").status_code == 400  # not a deferCommit session


# -- faults, downloads, links, thumbnails, delta ---------------------------------------------
def test_throttling_knobs_answer_with_retry_after(api, anonymous, graph):
    graph.emulator.faults.fail_requests(429, count=2, retry_after=7)
    for _ in range(2):
        throttled = api.get("/root")
        assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "7"
        assert error_code(throttled) == ("activityLimitReached", "throttledRequest")
    assert api.get("/root").status_code == 200

    knob = anonymous.post(
        f"{graph.control_url}/faults", json={"requests": {"status": 503, "count": 1, "retry_after": 3}}
    )
    assert knob.status_code == 200
    unavailable = api.get("/root")
    assert unavailable.status_code == 503 and unavailable.headers["Retry-After"] == "3"
    assert error_code(unavailable)[0] == "serviceNotAvailable"
    state = anonymous.get(f"{graph.control_url}/state").json()
    assert state["counters"]["faults_served"] == {"429": 2, "503": 1}
    assert state["counters"]["requests"]["GET item"] == 4


def test_delay_knob_slows_responses(api, graph):
    graph.emulator.faults.delay(0.2)
    started = time.monotonic()
    assert api.get("/root").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_download_redirects_to_a_range_capable_blob_url(api, anonymous, graph):
    data = bytes(range(256)) * 10
    item = api.put("/root:/deck.pdf:/content", content=data).json()
    redirect = api.get(f"/items/{item['id']}/content")
    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    assert location.startswith(graph.content_server.url)
    partial = anonymous.get(location, headers={"Range": "bytes=10-19"})
    assert partial.status_code == 206 and partial.content == data[10:20]
    assert partial.headers["Content-Range"] == "bytes 10-19/2560"
    assert anonymous.get(location, headers={"Range": "bytes=5000-"}).status_code == 416
    followed = api.get(f"/items/{item['id']}/content", follow_redirects=True)
    assert followed.status_code == 200 and followed.content == data  # httpx dropped the token
    leaked = anonymous.get(location, headers={"Authorization": api.headers["Authorization"]})
    assert leaked.status_code == 401
    api.put(f"/items/{item['id']}/content", content=b"newer")
    old = api.get(f"/items/{item['id']}/versions/1.0/content", follow_redirects=True)
    assert old.content == data


def test_create_link_is_idempotent_per_type_and_scope(api, make_graph):
    item = api.put("/root:/link-me.jpg:/content", content=b"jpeg").json()
    body = {"type": "view", "scope": "organization"}
    first = api.post(f"/items/{item['id']}/createLink", json=body)
    again = api.post(f"/items/{item['id']}/createLink", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert first.json()["link"]["webUrl"].startswith("https://contoso.sharepoint.com/:i:/s/mkt/")
    edit = api.post(f"/items/{item['id']}/createLink", json={"type": "edit", "scope": "organization"})
    assert edit.status_code == 201 and edit.json()["roles"] == ["write"]
    assert api.post(f"/items/{item['id']}/createLink", json={"type": "embed"}).status_code == 400

    locked_down = make_graph(allow_anonymous_links=False)
    with api_client(locked_down) as other:
        other_item = other.put("/root:/a.jpg:/content", content=b"x").json()
        refused = other.post(f"/items/{other_item['id']}/createLink", json={"type": "view", "scope": "anonymous"})
        assert refused.status_code == 403


def test_thumbnails_appear_only_after_the_delay(api, anonymous, clock):
    image = api.put("/root:/poster.png:/content", content=b"png").json()
    text = api.put("/root:/notes.txt:/content", content=b"txt").json()
    assert api.get(f"/items/{image['id']}/thumbnails").json() == {"value": []}
    clock.advance(31)
    sets = api.get(f"/items/{image['id']}/thumbnails").json()["value"]
    assert sets[0]["medium"]["width"] == 176
    picture = anonymous.get(sets[0]["medium"]["url"])
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
    assert api.get(f"/items/{text['id']}/thumbnails").json() == {"value": []}
    api.put(f"/items/{image['id']}/content", content=b"png v2")
    assert api.get(f"/items/{image['id']}/thumbnails").json() == {"value": []}


def test_delta_pages_resumes_and_can_be_forced_to_resync(make_graph):
    graph = make_graph()  # an empty library, so the feed's contents are known exactly
    with api_client(graph) as api:
        _check_delta(api, graph)


def _check_delta(api, graph):
    def drain(url):
        names, deleted = [], []
        while True:
            page = api.get(url).json()
            for entry in page["value"]:
                (deleted if "deleted" in entry else names).append(entry["name"])
            if "@odata.nextLink" not in page:
                return names, deleted, page["@odata.deltaLink"]
            url = page["@odata.nextLink"]

    for name in ("a.jpg", "b.jpg", "c.jpg"):
        api.put(f"/root:/{name}:/content", content=name.encode())
    names, deleted, delta_link = drain("/root/delta")  # page size 2: three pages
    assert sorted(names) == ["a.jpg", "b.jpg", "c.jpg", "root"] and deleted == []

    api.delete("/root:/a.jpg")
    api.put("/root:/d.jpg:/content", content=b"d")
    names, deleted, delta_link = drain(delta_link)
    assert names == ["d.jpg"] and deleted == ["a.jpg"]
    latest = api.get("/root/delta?token=latest").json()
    assert latest["value"] == [] and "@odata.deltaLink" in latest

    graph.emulator.faults.force_delta_resync()
    gone = api.get(delta_link)
    assert gone.status_code == 410
    assert error_code(gone)[0] == "resyncChangesApplyDifferences"
    assert sorted(drain(gone.headers["Location"])[0]) == ["b.jpg", "c.jpg", "d.jpg", "root"]
    assert api.get("/root/delta?token=%%%").status_code == 400
