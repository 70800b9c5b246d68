"""The Meilisearch emulator, driven by the official client over real HTTP.

What is asserted is the contract of docs/external-apis.md section 3 as the CMS
will meet it: the client's parsing (timestamps, tasks), auth modes, async
visibility, the filter grammar, ranking, facets, pagination and fault knobs.
Exact messages are copied from Meilisearch's own test-suite where it has one.
No test depends on timing: task processing is paused or held by fault knobs.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import meilisearch
import pytest
from meilisearch.errors import MeilisearchApiError, MeilisearchTimeoutError

from app.search import meili as meili_engine
from sandbox.meili import MeiliEmulatorConfig, start_meili_emulator

MASTER_KEY = "test-master-key"
AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
REPO_ROOT = Path(__file__).resolve().parents[2]

# The settings the CMS applies (docs/external-apis.md §3): the emulator must accept them as sent.
MEDIA_SETTINGS = meili_engine.MEDIA_SETTINGS
# A small catalogue for filters, sort and facets.
ITEMS = [
    {"id": 1, "kind": "image", "size": 10, "tags": ["salon", "été 2026"], "status": "in review", "note": None},
    {"id": 2, "kind": "video", "size": 25, "tags": ["salon"], "status": "ready", "note": ""},
    {"id": 3, "kind": "image", "size": 40, "tags": [], "status": "ready"},
    {"id": 4, "kind": "audio", "size": 5.5, "tags": ["promo"], "status": "draft", "note": "x"},
    {"id": 5, "kind": "Image", "tags": ["PROMO"], "status": 'say "hi"'},
]
ITEM_FILTERABLE = ["kind", "size", "tags", "status", "note"]


@pytest.fixture(scope="module")
def http():
    """One raw HTTP client (httpx's module functions build a TLS context per call: slow)."""
    with httpx.Client(timeout=10) as raw_client:
        yield raw_client


@pytest.fixture(scope="module")
def meili():
    """One protected emulator for the module; each test starts from a reset server."""
    config = MeiliEmulatorConfig(master_key=MASTER_KEY, task_delay_ms=5)
    with start_meili_emulator(config) as running:
        yield running


@pytest.fixture
def server(meili):
    meili.reset()
    return meili


@pytest.fixture
def client(server):
    return meilisearch.Client(server.url, MASTER_KEY)


def finish(client, task_info, status: str = "succeeded"):
    task = client.wait_for_task(task_info.task_uid, timeout_in_ms=5000, interval_in_ms=10)
    assert task.status == status, task.error
    return task


def make_index(client, uid: str, documents: list[dict], settings: dict | None = None):
    index = client.index(uid)
    if settings:
        finish(client, index.update_settings(settings))
    if documents:
        finish(client, index.add_documents(documents, primary_key="id"))
    return index


@pytest.fixture
def items(client):
    return make_index(
        client, "items", ITEMS, {"filterableAttributes": ITEM_FILTERABLE, "sortableAttributes": ["size", "kind"]}
    )


def ids(response: dict) -> list:
    return [hit["id"] for hit in response["hits"]]


def raw_search(http, server, uid: str, body: dict) -> httpx.Response:
    return http.post(f"{server.url}/indexes/{uid}/search", json=body, headers=AUTH)


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"message", "code", "type", "link"}
    assert body["code"] == code
    assert body["link"] == f"https://docs.meilisearch.com/errors#{code}"
    return body


# --- auth ---------------------------------------------------------------------------------


def test_health_needs_no_key(http, server):
    response = http.get(f"{server.url}/health")
    assert response.status_code == 200 and response.json() == {"status": "available"}


def test_missing_key_is_401_with_the_error_shape(http, server):
    body = assert_error(http.get(f"{server.url}/indexes"), 401, "missing_authorization_header")
    assert body["type"] == "auth"


def test_wrong_key_is_403_for_the_client(server):
    with pytest.raises(MeilisearchApiError) as raised:
        meilisearch.Client(server.url, "not-the-key").get_indexes()
    assert (raised.value.status_code, raised.value.code, raised.value.type) == (403, "invalid_api_key", "auth")


def test_open_mode_ignores_the_bearer_none_header(http):
    with start_meili_emulator(MeiliEmulatorConfig(task_delay_ms=5)) as open_server:
        client = meilisearch.Client(open_server.url)  # sends "Bearer None"
        assert client.http.headers["Authorization"] == "Bearer None"
        finish(client, client.create_index("open"))
        assert client.get_index("open").uid == "open"
        assert http.get(f"{open_server.url}/indexes", headers={"Authorization": "Bearer whatever"}).status_code == 200


# --- tasks and async visibility -----------------------------------------------------------


def test_summarized_and_full_task_shapes(http, server, client):
    response = http.post(f"{server.url}/indexes", json={"uid": "media_assets", "primaryKey": "id"}, headers=AUTH)
    assert response.status_code == 202
    summary = response.json()
    assert set(summary) == {"taskUid", "indexUid", "status", "type", "enqueuedAt"}
    assert (summary["taskUid"], summary["status"], summary["type"]) == (0, "enqueued", "indexCreation")
    assert TIMESTAMP.match(summary["enqueuedAt"])
    client.wait_for_task(0, interval_in_ms=10)
    task = http.get(f"{server.url}/tasks/0", headers=AUTH).json()
    assert list(task) == [
        "uid",
        "indexUid",
        "status",
        "type",
        "canceledBy",
        "details",
        "error",
        "duration",
        "enqueuedAt",
        "startedAt",
        "finishedAt",
    ]
    assert task["details"] == {"primaryKey": "id"} and task["error"] is None
    assert all(TIMESTAMP.match(task[key]) for key in ("enqueuedAt", "startedAt", "finishedAt"))
    assert re.match(r"^PT\d+(\.\d+)?S$", task["duration"])
    index = client.get_index("media_assets")
    assert index.primary_key == "id" and index.created_at is not None


def test_search_sees_documents_only_once_their_task_succeeded(server, client):
    index = make_index(client, "media_assets", [], MEDIA_SETTINGS)
    server.faults.pause_tasks()
    task_info = index.add_documents([{"id": 1, "title": "Affiche salon"}])
    assert client.get_task(task_info.task_uid).status == "enqueued"
    with pytest.raises(MeilisearchTimeoutError):
        client.wait_for_task(task_info.task_uid, timeout_in_ms=100, interval_in_ms=10)
    assert index.search("affiche")["hits"] == []

    server.faults.slow_tasks(processing_ms=60_000)  # held in "processing" until lowered
    server.faults.resume_tasks()
    deadline = time.monotonic() + 5
    while client.get_task(task_info.task_uid).status != "processing":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert index.search("affiche")["hits"] == []

    server.faults.slow_tasks(processing_ms=0)
    finish(client, task_info)
    assert ids(index.search("affiche")) == [1]


def test_tasks_run_in_enqueue_order_with_increasing_uids(client):
    index = client.index("ordered")
    infos = [
        index.add_documents([{"id": 1, "title": "first"}]),
        index.update_documents([{"id": 1, "title": "second"}]),
        index.delete_document(1),
    ]
    assert [info.task_uid for info in infos] == [0, 1, 2]
    finished = [finish(client, info) for info in infos]
    assert finished[0].finished_at <= finished[1].started_at
    assert finished[1].finished_at <= finished[2].started_at
    assert finished[2].details == {"providedIds": 1, "deletedDocuments": 1, "originalFilter": None}


def test_task_list_filters_and_pages(http, server, client):
    finish(client, client.create_index("a"))
    finish(client, client.create_index("a"), "failed")
    finish(client, client.create_index("b"))
    failed = client.get_tasks({"statuses": ["failed"]})
    assert [task.uid for task in failed.results] == [1] and failed.total == 1
    for_a = client.get_tasks({"indexUids": ["a"], "types": ["indexCreation"]})
    assert [task.uid for task in for_a.results] == [1, 0]
    first_page = client.get_tasks({"limit": 2})
    assert ([t.uid for t in first_page.results], first_page.from_, first_page.next_, first_page.total) == (
        [2, 1],
        2,
        0,
        3,
    )
    second_page = client.get_tasks({"limit": 2, "from": first_page.next_})
    assert [t.uid for t in second_page.results] == [0] and second_page.next_ is None
    bad = http.get(f"{server.url}/tasks?statuses=done", headers=AUTH)
    assert "`done` is not a valid task status" in assert_error(bad, 400, "invalid_task_statuses")["message"]
    assert_error(http.get(f"{server.url}/tasks/99", headers=AUTH), 404, "task_not_found")


def test_existing_index_fails_only_in_the_task(client):
    finish(client, client.create_index("media_assets"))
    task = finish(client, client.create_index("media_assets"), "failed")
    assert task.error["code"] == "index_already_exists"
    assert task.error["message"] == "Index `media_assets` already exists."


# --- primary key and document ids ---------------------------------------------------------


def test_primary_key_is_inferred_from_the_single_field_ending_in_id(client):
    finish(client, client.index("media").add_documents([{"mediaId": 7, "title": "x"}]))
    assert client.get_index("media").primary_key == "mediaId"


@pytest.mark.parametrize(
    "document, code",
    [
        ({"title": "no id at all"}, "index_primary_key_no_candidate_found"),
        ({"id": 1, "uploader_id": 2}, "index_primary_key_multiple_candidates_found"),
    ],
)
def test_primary_key_inference_failures(client, document, code):
    task = finish(client, client.index("media").add_documents([document]), "failed")
    assert task.error["code"] == code
    assert task.details == {"receivedDocuments": 1, "indexedDocuments": 0}


def test_explicit_primary_key_resolves_several_candidates(client):
    index = client.index("media")
    finish(client, index.add_documents([{"id": 1, "uploader_id": 2}], primary_key="id"))
    assert index.get_document(1).uploader_id == 2


@pytest.mark.parametrize(
    "bad_id, code",
    [
        (None, "missing_document_id"),
        ("has space", "invalid_document_id"),
        (1.5, "invalid_document_id"),
        ("é", "invalid_document_id"),
        ("x" * 512, "invalid_document_id"),
    ],
)
def test_bad_documents_fail_the_whole_task(client, bad_id, code):
    index = client.index("media")
    finish(client, index.add_documents([{"id": 1, "title": "ok"}], primary_key="id"))
    bad = {"title": "bad"} if bad_id is None else {"id": bad_id, "title": "bad"}
    task = finish(client, index.add_documents([{"id": 2, "title": "fine"}, bad]), "failed")
    assert task.error["code"] == code and task.error["type"] == "invalid_request"
    assert index.get_documents().total == 1


def test_missing_id_message_matches_meilisearch(client):
    index = client.index("media")
    finish(client, index.add_documents([{"id": 1}], primary_key="id"))
    task = finish(client, index.add_documents([{"title": "été"}]), "failed")
    assert task.error["message"] == 'Document doesn\'t have a `id` attribute: `{"title":"été"}`.'


def test_integer_and_string_ids_name_the_same_document(client):
    index = client.index("media")
    finish(client, index.add_documents([{"id": 1, "title": "one"}], primary_key="id"))
    finish(client, index.add_documents([{"id": "1", "title": "uno"}]))
    assert index.get_document("1").title == "uno"


def test_update_merges_and_replace_replaces(client):
    index = client.index("media")
    finish(client, index.add_documents([{"id": 1, "title": "t", "kind": "image"}], "id"))
    finish(client, index.update_documents([{"id": 1, "title": "merged"}]))
    assert dict(index.get_document(1)) == {"id": 1, "title": "merged", "kind": "image"}
    finish(client, index.add_documents([{"id": 1, "title": "replaced"}]))
    assert dict(index.get_document(1)) == {"id": 1, "title": "replaced"}


def test_deletions(client, items):
    finish(client, items.delete_document(1))
    finish(client, items.delete_documents(filter="kind = video"))
    assert sorted(ids(items.search(""))) == [3, 4, 5]
    with pytest.warns(DeprecationWarning):
        finish(client, items.delete_documents([3, "4"]))
    assert ids(items.search("")) == [5]
    assert items.get_stats().number_of_documents == 1
    finish(client, items.delete_all_documents())
    assert items.search("")["estimatedTotalHits"] == 0


def test_delete_by_filter_checks_filterable_attributes_in_the_task(http, server, client, items):
    task = finish(client, items.delete_documents(filter="id = 1"), "failed")
    assert task.error["code"] == "invalid_document_filter"
    response = http.post(f"{server.url}/indexes/items/documents/delete", headers=AUTH, json={"filter": "kind ="})
    assert_error(response, 400, "invalid_document_filter")


# --- settings -------------------------------------------------------------------------------


def test_default_settings(client):
    finish(client, client.create_index("fresh"))
    settings = client.index("fresh").get_settings()
    assert settings["searchableAttributes"] == ["*"]
    assert settings["filterableAttributes"] == [] and settings["sortableAttributes"] == []
    assert settings["pagination"] == {"maxTotalHits": 1000}
    assert settings["faceting"] == {"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "alpha"}}
    assert settings["typoTolerance"]["minWordSizeForTypos"] == {"oneTypo": 5, "twoTypos": 9}


def test_settings_round_trip_and_apply_only_after_the_task(server, client):
    index = client.index("media_assets")
    finish(client, client.create_index("media_assets"))
    server.faults.pause_tasks()
    task_info = index.update_settings(MEDIA_SETTINGS)
    assert index.get_settings()["filterableAttributes"] == []
    server.faults.resume_tasks()
    assert finish(client, task_info).details == MEDIA_SETTINGS
    settings = index.get_settings()
    for key, value in MEDIA_SETTINGS.items():
        if key == "typoTolerance":
            assert {k: settings[key][k] for k in value} == value
        else:
            assert settings[key] == value


def test_setting_sub_routes(client):
    index = client.index("media")
    finish(client, index.update_filterable_attributes(["kind", "tags"]))
    assert index.get_filterable_attributes() == ["kind", "tags"]
    finish(client, index.update_typo_tolerance({"minWordSizeForTypos": {"oneTypo": 3}}))
    typo = index.get_typo_tolerance()
    assert (typo.enabled, typo.min_word_size_for_typos.one_typo, typo.min_word_size_for_typos.two_typos) == (True, 3, 9)
    finish(client, index.update_faceting_settings({"maxValuesPerFacet": 5}))
    assert index.get_faceting_settings().max_values_per_facet == 5
    finish(client, index.update_pagination_settings({"maxTotalHits": 50}))
    assert index.get_pagination_settings().max_total_hits == 50
    finish(client, index.reset_filterable_attributes())
    assert index.get_filterable_attributes() == []


@pytest.mark.parametrize(
    "body, code",
    [
        ({"filterableAttributes": "kind"}, "invalid_settings_filterable_attributes"),
        ({"sortableAttributes": [1]}, "invalid_settings_sortable_attributes"),
        ({"typoTolerance": {"enabled": "yes"}}, "invalid_settings_typo_tolerance"),
        ({"faceting": {"sortFacetValuesBy": {"*": "random"}}}, "invalid_settings_faceting"),
        ({"pagination": {"maxTotalHits": -1}}, "invalid_settings_pagination"),
        ({"rankingRules": ["popularity"]}, "invalid_settings_ranking_rules"),
        ({"notASetting": []}, "bad_request"),
    ],
)
def test_invalid_settings_are_refused_synchronously(client, body, code):
    with pytest.raises(MeilisearchApiError) as raised:
        client.index("media").update_settings(body)
    assert (raised.value.status_code, raised.value.code) == (400, code)


def test_typo_sizes_out_of_order_fail_in_the_task(client):
    task_info = client.index("media").update_typo_tolerance({"minWordSizeForTypos": {"oneTypo": 6, "twoTypos": 4}})
    task = finish(client, task_info, "failed")
    assert task.error["code"] == "invalid_settings_typo_tolerance"


def test_settings_the_emulator_does_not_apply_are_501(client):
    with pytest.raises(MeilisearchApiError) as raised:
        client.index("media").update_settings({"synonyms": {"pic": ["image"]}})
    assert (raised.value.status_code, raised.value.code) == (501, "not_emulated")
    finish(client, client.index("media").update_settings({"stopWords": []}))  # the default


# --- filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("kind = image", [1, 3, 5]),  # case-insensitive
        ("kind = IMAGE", [1, 3, 5]),
        ("kind != image", [2, 4]),
        ("size > 10", [2, 3]),
        ("size >= 10", [1, 2, 3]),
        ("size < 10", [4]),
        ("size <= 10", [1, 4]),
        ("size = 5.5", [4]),
        ("size = 10.0", [1]),  # numbers compare as numbers
        ("kind > image", [2]),  # strings compare lexicographically
        ("size 10 TO 25", [1, 2]),
        ("kind IN [video, audio]", [2, 4]),
        ("kind NOT IN [video, audio]", [1, 3, 5]),
        ("size EXISTS", [1, 2, 3, 4]),
        ("size NOT EXISTS", [5]),
        ("note IS NULL", [1]),
        ("note IS NOT NULL", [2, 3, 4, 5]),
        ("note IS EMPTY", [2]),
        ("tags IS EMPTY", [3]),
        ("note IS NOT EMPTY", [1, 3, 4, 5]),
        ("tags = salon", [1, 2]),  # any element of an array
        ('tags = "été 2026"', [1]),
        ("tags = promo", [4, 5]),
        ("NOT kind = image", [2, 4]),
        ("NOT NOT kind = video", [2]),
        ("kind = image OR kind = video AND size > 30", [1, 3, 5]),  # AND binds tighter
        ("(kind = image OR kind = video) AND size > 30", [3]),
        ("kind = audio OR (tags = salon AND NOT size > 20)", [1, 4]),
        ('status = "in review"', [1]),
        ("status = 'in review'", [1]),
        ('status = "say \\"hi\\""', [5]),  # escaped quotes inside a value
        ("", [1, 2, 3, 4, 5]),
    ],
)
def test_filter_operators(items, expression, expected):
    assert sorted(ids(items.search("", {"filter": expression}))) == expected


@pytest.mark.parametrize(
    "expression, expected",
    [
        ([["kind = video", "kind = audio"], "size > 6"], [2]),  # outer AND, inner OR
        (["kind = image", "size > 20"], [3]),
        ([["tags = salon"]], [1, 2]),
        ([], [1, 2, 3, 4, 5]),
    ],
)
def test_filter_array_form(items, expression, expected):
    assert sorted(ids(items.search("", {"filter": expression}))) == expected


def quote_filter_value(value: str) -> str:
    """How CMS code must embed user input: quoted, with backslashes and quotes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize(
    "hostile",
    ['ready" OR kind = "image', 'ready\\" OR kind = "image', "ready) OR (kind = image", "ready' OR kind = 'image"],
)
def test_quoted_user_input_stays_a_value(items, hostile):
    response = items.search("", {"filter": f"status = {quote_filter_value(hostile)}"})
    assert response["hits"] == []


def test_quoting_round_trips_awkward_values(client, items):
    finish(client, items.add_documents([{"id": 6, "status": 'back\\slash "and" quotes'}]))
    value = quote_filter_value('back\\slash "and" quotes')
    assert ids(items.search("", {"filter": f"status = {value}"})) == [6]


@pytest.mark.parametrize(
    "expression, message",
    [
        (
            "title = Glass XOR title = Glass",
            "Found unexpected characters at the end of the filter: `XOR title = Glass`. You probably "
            "forgot an `OR` or an `AND` rule.\n15:32 title = Glass XOR title = Glass",
        ),
        (
            "title & Glass",
            "Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, "
            "`NOT EXISTS`, `IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, "
            "`NOT CONTAINS`, `STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, or `_geoBoundingBox` at "
            "`title & Glass`.\n1:14 title & Glass",
        ),
        (
            "_geo = Glass",
            "`_geo` is a reserved keyword and thus can't be used as a filter expression. Use the "
            "`_geoRadius(latitude, longitude, distance)` or `_geoBoundingBox([latitude, longitude], "
            "[latitude, longitude])` built-in rules to filter on `_geo` coordinates.\n1:13 _geo = Glass",
        ),
        (
            "(kind = image",
            "Expression `(kind = image` is missing the following closing delimiter: `)`.\n1:14 (kind = image",
        ),
        (
            'kind = "image',
            'Expression `\\"image` is missing the following closing delimiter: `\\"`.\n8:14 kind = "image',
        ),
        ("kind = ", "Was expecting a value but instead got nothing.\n8:8 kind = "),
        (
            "kind = image and size > 3",
            "Found unexpected characters at the end of the filter: "
            "`and size > 3`. You probably forgot an `OR` or an `AND` rule."
            "\n14:26 kind = image and size > 3",
        ),
        ("kind IN image", "Expected `[` after `IN` keyword.\n9:14 kind IN image"),
    ],
)
def test_malformed_filters_are_400_with_meilisearch_messages(http, server, items, expression, message):
    body = assert_error(raw_search(http, server, "items", {"filter": expression}), 400, "invalid_search_filter")
    assert body["message"] == message


def test_unfilterable_attribute_names_the_available_ones(http, server, items):
    body = assert_error(raw_search(http, server, "items", {"filter": ["many = Glass"]}), 400, "invalid_search_filter")
    assert body["message"] == (
        "Index `items`: Attribute `many` is not filterable. Available filterable attribute "
        "patterns are: `kind`, `note`, `size`, `status`, `tags`.\n1:5 many = Glass"
    )


def test_unfilterable_attribute_for_the_client(client):
    index = make_index(client, "plain", [{"id": 1, "kind": "image"}])
    with pytest.raises(MeilisearchApiError) as raised:
        index.search("", {"filter": "kind = image"})
    assert raised.value.code == "invalid_search_filter"
    assert "This index does not have configured filterable attributes." in raised.value.message


def test_contains_needs_the_experimental_feature(http, server, items):
    body = assert_error(
        raw_search(http, server, "items", {"filter": "doggo != echo AND doggo CONTAINS kefir"}),
        400,
        "feature_not_enabled",
    )
    assert body["message"] == (
        "Using `CONTAINS` or `STARTS WITH` in a filter requires enabling the `contains filter` "
        "experimental feature. See https://github.com/orgs/meilisearch/discussions/763"
        "\n25:33 doggo != echo AND doggo CONTAINS kefir"
    )


def test_filter_of_the_wrong_type(http, server, items):
    body = assert_error(raw_search(http, server, "items", {"filter": 3}), 400, "invalid_search_filter")
    assert body["message"] == ("Invalid syntax for the filter parameter: `expected String, Array, found: 3`.")


# --- sort and facets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sort, expected",
    [
        (["size:asc"], [4, 1, 2, 3, 5]),  # documents without the field come last
        (["size:desc"], [3, 2, 1, 4, 5]),
        (["kind:asc", "size:desc"], [4, 3, 1, 5, 2]),
    ],
)
def test_sort(items, sort, expected):
    assert ids(items.search("", {"sort": sort})) == expected


@pytest.mark.parametrize(
    "body, message",
    [
        (
            {"sort": ["status:asc"]},
            "Index `items`: Attribute `status` is not sortable. Available sortable attributes are: `kind, size`.",
        ),
        (
            {"sort": ["size"]},
            "Invalid syntax for the sort parameter: expected expression ending by `:asc` or `:desc`, found `size`.",
        ),
    ],
)
def test_sort_errors(http, server, items, body, message):
    assert assert_error(raw_search(http, server, "items", body), 400, "invalid_search_sort")["message"] == message


def test_sort_needs_the_sort_ranking_rule(client, items):
    finish(client, items.update_ranking_rules(["words", "typo"]))
    with pytest.raises(MeilisearchApiError) as raised:
        items.search("", {"sort": ["size:asc"]})
    assert raised.value.code == "invalid_search_sort"


def test_facet_distribution_and_stats_cover_every_match(items):
    response = items.search("", {"facets": ["kind", "tags", "size"], "limit": 1})
    assert len(response["hits"]) == 1
    assert response["facetDistribution"] == {
        "kind": {"audio": 1, "image": 3, "video": 1},
        "tags": {"été 2026": 1, "promo": 2, "salon": 2},
        "size": {"5.5": 1, "10": 1, "25": 1, "40": 1},
    }
    assert list(response["facetDistribution"]["size"]) == ["5.5", "10", "25", "40"]
    assert response["facetStats"] == {"size": {"min": 5.5, "max": 40.0}}


def test_facets_follow_the_filter_and_faceting_settings(client, items):
    finish(client, items.update_faceting_settings({"maxValuesPerFacet": 2, "sortFacetValuesBy": {"tags": "count"}}))
    response = items.search("", {"facets": ["kind", "tags"]})
    assert response["facetDistribution"]["kind"] == {"audio": 1, "image": 3}  # alpha
    assert list(response["facetDistribution"]["tags"].items()) == [("promo", 2), ("salon", 2)]
    filtered = items.search("", {"facets": ["kind"], "filter": "size > 20"})
    assert filtered["facetDistribution"] == {"kind": {"image": 1, "video": 1}}


def test_facets_must_be_filterable(http, server, items):
    body = assert_error(raw_search(http, server, "items", {"facets": ["id"]}), 400, "invalid_search_facets")
    assert body["message"] == (
        "Index `items`: Invalid facet distribution: Attribute `id` is not filterable. Available "
        "filterable attributes patterns are: `kind, note, size, status, tags`."
    )


# --- matching and ranking -------------------------------------------------------------------

WORDS = [
    {"id": 1, "title": "Affiche du salon"},
    {"id": 2, "title": "Le chat"},
    {"id": 3, "title": "Photographie"},
    {"id": 4, "title": "Document final"},
    {"id": 5, "title": "Été à Paris"},
]


@pytest.fixture
def words(client):
    return make_index(client, "words", WORDS, {"searchableAttributes": ["title"]})


@pytest.mark.parametrize(
    "query, expected",
    [
        ("affiche", [1]),
        ("AFFICHE", [1]),
        ("salin ", [1]),  # 5 letters: one typo allowed
        ("slaon ", [1]),  # a transposition is one typo
        ("chut ", []),  # 4 letters: no typo
        ("dokument ", [4]),  # 8 letters: one typo...
        ("dokumant ", []),  # ...but not two
        ("photograaphiie ", [3]),  # 9 letters and more: two typos
        ("phot", [3]),  # the last word is a prefix
        ("phot ", []),  # unless the query ends with a space
        ("ete", [5]),  # accents are ignored
        ("ÉTÉ paris", [5]),
        ("zzz", []),
    ],
)
def test_word_matching(words, query, expected):
    assert ids(words.search(query)) == expected


def test_prefix_applies_to_the_last_word_only(client):
    index = make_index(client, "pair", [{"id": 1, "title": "photographie salon"}])
    assert ids(index.search("salon phot")) == [1]
    assert ids(index.search("phot salon")) == []


def test_typo_settings_are_honoured(client, words):
    finish(client, words.update_typo_tolerance({"minWordSizeForTypos": {"oneTypo": 4}}))
    assert ids(words.search("chut ")) == [2]
    finish(client, words.update_typo_tolerance({"enabled": False}))
    assert ids(words.search("salin ")) == []


def test_matching_strategy_last_drops_words_from_the_end(client):
    index = make_index(client, "posters", [{"id": 1, "title": "affiche"}, {"id": 2, "title": "affiche salon"}])
    assert ids(index.search("affiche salon")) == [2, 1]
    assert ids(index.search("affiche salon", {"matchingStrategy": "all"})) == [2]
    assert ids(index.search("salon affiche")) == [2]


def test_attribute_order_is_a_ranking_weight(client):
    documents = [
        {"id": 1, "title": "rapport", "description": "affiche"},
        {"id": 2, "title": "affiche", "description": "rapport"},
    ]
    index = make_index(client, "weights", documents, {"searchableAttributes": ["title", "description"]})
    assert ids(index.search("affiche")) == [2, 1]
    assert ids(index.search("affiche", {"attributesToSearchOn": ["description"]})) == [1]
    finish(client, index.update_searchable_attributes(["description", "title"]))
    assert ids(index.search("affiche")) == [1, 2]
    finish(client, index.update_searchable_attributes(["title"]))
    assert ids(index.search("affiche")) == [2]


def test_exact_matches_rank_before_typos_and_sort_breaks_ties(client):
    documents = [
        {"id": 1, "title": "salin", "rank": 2},
        {"id": 2, "title": "salon", "rank": 1},
        {"id": 3, "title": "salon", "rank": 3},
    ]
    index = make_index(client, "ties", documents, {"sortableAttributes": ["rank"]})
    assert ids(index.search("salon ", {"sort": ["rank:desc"]})) == [3, 2, 1]


# --- hits: attributes, highlight, pagination ------------------------------------------------


def test_attributes_to_retrieve_and_displayed_attributes(client, words):
    assert words.search("chat", {"attributesToRetrieve": ["title"]})["hits"] == [{"title": "Le chat"}]
    finish(client, words.update_displayed_attributes(["id"]))
    assert words.search("chat")["hits"] == [{"id": 2}]


def test_highlight(words):
    hit = words.search("salon aff", {"attributesToHighlight": ["title"]})["hits"][0]
    assert hit["title"] == "Affiche du salon"
    assert hit["_formatted"] == {"id": "1", "title": "<em>Aff</em>iche du <em>salon</em>"}
    custom = words.search("ete", {"attributesToHighlight": ["*"], "highlightPreTag": "[", "highlightPostTag": "]"})[
        "hits"
    ][0]
    assert custom["_formatted"]["title"] == "[Été] à Paris"
    typo = words.search("salin ", {"attributesToHighlight": ["title"]})["hits"][0]
    assert typo["_formatted"]["title"] == "Affiche du <em>salon</em>"


@pytest.fixture
def numbered(client):
    documents = [{"id": n, "title": f"affiche {n}"} for n in range(1, 26)]
    return make_index(client, "numbered", documents)


def test_offset_limit_mode(numbered):
    response = numbered.search("affiche", {"offset": 20, "limit": 10})
    assert (ids(response), response["estimatedTotalHits"], response["limit"], response["offset"]) == (
        [21, 22, 23, 24, 25],
        25,
        10,
        20,
    )
    assert isinstance(response["processingTimeMs"], int)
    assert "totalHits" not in response
    assert len(numbered.search("affiche")["hits"]) == 20  # default limit


def test_page_mode(numbered):
    response = numbered.search("affiche", {"hitsPerPage": 10, "page": 3})
    assert ids(response) == [21, 22, 23, 24, 25]
    assert {key: response[key] for key in ("hitsPerPage", "page", "totalHits", "totalPages")} == {
        "hitsPerPage": 10,
        "page": 3,
        "totalHits": 25,
        "totalPages": 3,
    }
    assert not {"limit", "offset", "estimatedTotalHits"} & set(response)


def test_max_total_hits_caps_both_modes(client, numbered):
    finish(client, numbered.update_pagination_settings({"maxTotalHits": 12}))
    capped = numbered.search("affiche", {"offset": 10, "limit": 10})
    assert (ids(capped), capped["estimatedTotalHits"]) == ([11, 12], 12)
    paged = numbered.search("affiche", {"hitsPerPage": 10, "page": 2})
    assert (ids(paged), paged["totalHits"], paged["totalPages"]) == ([11, 12], 12, 2)


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"limit": -1}, 400, "invalid_search_limit"),
        ({"q": 3}, 400, "invalid_search_q"),
        ({"unknownParameter": 1}, 400, "bad_request"),
        ({"showRankingScore": True}, 501, "not_emulated"),
    ],
)
def test_search_parameters_are_validated(http, server, words, body, status, code):
    assert_error(raw_search(http, server, "words", body), status, code)


# --- HTTP-level errors ----------------------------------------------------------------------


def test_unknown_index_is_404(http, server, client):
    assert_error(raw_search(http, server, "nowhere", {}), 404, "index_not_found")
    with pytest.raises(MeilisearchApiError) as raised:
        client.get_index("nowhere")
    assert (raised.value.status_code, raised.value.code) == (404, "index_not_found")


def test_document_routes_enforce_the_content_type(http, server):
    url = f"{server.url}/indexes/media/documents"
    body = assert_error(
        http.post(url, content=b'[{"id": 1}]', headers={**AUTH, "Content-Type": "text/plain"}),
        415,
        "invalid_content_type",
    )
    assert body["message"].startswith("The Content-Type `text/plain` is invalid.")
    assert_error(http.post(url, content=b'[{"id": 1}]', headers=AUTH), 415, "missing_content_type")


def test_payload_limit_is_413(http):
    config = MeiliEmulatorConfig(master_key=MASTER_KEY, payload_limit_bytes=1024)
    with start_meili_emulator(config) as small:
        documents = [{"id": n, "title": "x" * 100} for n in range(20)]
        response = http.post(f"{small.url}/indexes/media/documents", json=documents, headers=AUTH)
        assert_error(response, 413, "payload_too_large")


# --- fault knobs ------------------------------------------------------------------------------


def test_next_requests_fail_with_5xx(http, server, client):
    server.faults.fail_requests(2, status=503)
    for _ in range(2):
        response = http.get(f"{server.url}/health")
        assert_error(response, 503, "internal")
        assert response.headers["Retry-After"] == "10"
    assert client.health() == {"status": "available"}


def test_failures_until_cleared_over_http(http, server, client):
    control = f"{server.url}/_emulator/faults"
    http.patch(
        control, json={"errorAlways": True, "errorStatus": 502, "errorPathPrefix": "/indexes/media/search"}
    ).raise_for_status()
    make_index(client, "media", [{"id": 1, "title": "affiche"}])  # other routes still work
    for _ in range(3):
        with pytest.raises(MeilisearchApiError) as raised:
            client.index("media").search("affiche")
        assert raised.value.status_code == 502
    assert http.delete(control).json()["errorAlways"] is False
    assert ids(client.index("media").search("affiche")) == [1]


def test_response_delay_trips_a_search_budget(server, client):
    make_index(client, "media", [{"id": 1, "title": "affiche"}])
    server.faults.delay_responses(400, path_prefix="/indexes/media/search")
    budgeted = meilisearch.Client(server.url, MASTER_KEY, timeout=0.1)
    with pytest.raises(MeilisearchTimeoutError):
        budgeted.index("media").search("affiche")
    assert ids(client.index("media").search("affiche")) == [1]  # slow, not broken


def test_every_response_delayed_over_http(http, server):
    http.patch(f"{server.url}/_emulator/faults", json={"delayMs": 200}).raise_for_status()
    started = time.monotonic()
    assert http.get(f"{server.url}/health").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_next_tasks_fail(server, client):
    server.faults.fail_next_tasks(1, code="internal")
    failed = finish(client, client.create_index("media"), "failed")
    assert failed.error["code"] == "internal" and failed.error["type"] == "internal"
    finish(client, client.create_index("media"))


def test_state_inspection_and_reset(http, server, client):
    make_index(client, "media", [{"id": 1}, {"id": 2}])
    state = http.get(f"{server.url}/_emulator/state").json()
    assert state["indexes"] == {"media": {"primaryKey": "id", "documents": 2}}
    assert state["tasks"]["succeeded"] == 1
    assert http.post(f"{server.url}/_emulator/reset").status_code == 204
    assert client.get_indexes()["results"] == []
    assert client.create_index("again").task_uid == 0


def test_command_line_serves_until_stopped(http):
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.meili", "--port", "0", "--master-key", MASTER_KEY],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", banner).group(0)
        assert http.get(f"{url}/health").json() == {"status": "available"}
        assert http.get(f"{url}/indexes").status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
