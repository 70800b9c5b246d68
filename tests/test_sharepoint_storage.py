"""The SharePoint backend end to end: the upload request only stages the file, `store_media`
uploads it over HTTPS (the Graph emulator, or a real library when GRAPH_TEST_* are set),
resumes what a failed attempt recorded, and the public links stream from either place.

The actors run here as the worker would run them (the same functions, in an app context);
the last test runs them in a real Dramatiq worker behind a real HTTP server."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.integrations.graph import FRAGMENT, GraphNotFound
from app.media.links import signed_media_url
from app.models import MediaAsset, MediaStatus
from app.models.media import MediaTransfer
from app.storage import StorageUnavailable, transfers
from app.tasks.media import discard_media, process_media, store_media, store_media_gave_up
from tests.conftest import PASSWORD, csrf_token
from tests.graph_support import (
    Backend,
    asset_of,
    configure,
    emulator_settings,
    graph,  # noqa: F401 (a fixture)
    live_stack,
    interrupted_upload,
    run,
    sharepoint,  # noqa: F401 (a fixture)
    staged_path,
    tenant_settings,
    transfer_of,
)
from tests.media_live import signed_in
from tests.media_support import EN, editor, image, media_root, noisy_jpeg, upload  # noqa: F401


@pytest.fixture(params=["emulator", "tenant"])
def any_sharepoint(request, app, monkeypatch, media_root):
    if request.param == "emulator":
        yield request.getfixturevalue("sharepoint")
        return
    settings = tenant_settings()
    configure(app, monkeypatch, settings)
    yield Backend(app, settings)


def _link_path(app, asset_id) -> str:
    with app.app_context():
        return "/" + signed_media_url(db.session.get(MediaAsset, asset_id)).split("/", 3)[3]


def test_the_request_stages_the_file_and_the_actor_stores_it(app, client, editor, any_sharepoint):
    data = image("JPEG", size=(80, 60))
    response = upload(client, data, "Affiche été.jpg")
    assert response.status_code == 200, response.get_data(as_text=True)
    asset_id = response.get_json()["id"]
    if any_sharepoint.graph:
        assert any_sharepoint.counters()["requests"] == {}  # not one call, not even for a token
    asset, transfer = asset_of(app, asset_id), transfer_of(app, asset_id)
    assert asset.status is MediaStatus.PROCESSING and asset.storage_item_id is None
    staged = staged_path(app, asset_id, 1)
    assert staged.read_bytes() == data and transfer.size_bytes == len(data)

    link = _link_path(app, asset_id)  # made while staged: served from local disk meanwhile
    partial = app.test_client().get(link, headers={"Range": "bytes=10-29"})
    assert partial.status_code == 206 and partial.data == data[10:30]

    run(app, store_media, asset_id)
    asset = asset_of(app, asset_id)
    assert asset.storage_version == "1.0" and asset.storage_item_id
    assert asset.web_url.startswith("https://") and asset.share_url.startswith("https://")
    assert transfer_of(app, asset_id) is None and not staged.exists()
    assert asset.status is MediaStatus.PROCESSING  # previews not made yet
    run(app, process_media, asset_id)  # from SharePoint now: the staged file is gone
    assert asset_of(app, asset_id).status is MediaStatus.READY
    run(app, store_media, asset_id)  # a second delivery is a no-op

    partial = app.test_client().get(link, headers={"Range": "bytes=10-29"})  # the same link, from Graph
    assert partial.status_code == 206 and partial.data == data[10:30]
    assert partial.headers["Content-Range"] == f"bytes 10-29/{len(data)}"
    assert app.test_client().get(link).data == data
    with app.app_context():
        any_sharepoint.client().delete(asset.storage_item_id)


def test_a_replacement_is_a_new_sharepoint_version_listed_on_the_detail_page(app, client, editor, any_sharepoint):
    first, second = noisy_jpeg((120, 90)), noisy_jpeg((500, 400))  # a simple PUT, then a session
    asset_id = upload(client, first, "hero.jpg").get_json()["id"]
    run(app, store_media, asset_id)
    run(app, process_media, asset_id)
    old_link = _link_path(app, asset_id)
    replaced = upload(client, second, "hero-v2.jpg", url=f"/media/{asset_id}/file")
    assert replaced.status_code == 200, replaced.get_data(as_text=True)
    page = client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert "on its way to the storage" in page and "Version 2.0" not in page
    run(app, process_media, asset_id)  # previews first, from the staged file, this time
    assert asset_of(app, asset_id).status is MediaStatus.PROCESSING
    run(app, store_media, asset_id)
    asset = asset_of(app, asset_id)
    assert asset.status is MediaStatus.READY and asset.storage_version == "2.0" and asset.version == 2
    page = client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert "Version 2.0" in page and "Version 1.0" in page and "on its way" not in page
    assert app.test_client().get(old_link).data == first  # a link keeps its version
    assert app.test_client().get(_link_path(app, asset_id)).data == second
    with app.app_context():
        any_sharepoint.client().delete(asset.storage_item_id)


def test_a_failed_chunk_is_resumed_by_the_retried_message(app, client, editor, sharepoint):
    asset_id, data = interrupted_upload(app, client, sharepoint, "big.jpg")
    assert len(data) > 2 * FRAGMENT
    transfer = transfer_of(app, asset_id)
    assert transfer.next_offset == FRAGMENT and transfer.upload_url and transfer.attempts == 1
    assert transfer.claimed_until is None and "500" in transfer.last_error
    assert asset_of(app, asset_id).status is MediaStatus.PROCESSING
    assert sharepoint.counters()["fragment_bytes_received"] == FRAGMENT

    run(app, store_media, asset_id)  # the retried message
    counters = sharepoint.counters()
    assert counters["fragment_bytes_received"] == len(data)  # not one byte sent twice
    assert counters["requests"]["POST item/createUploadSession"] == 1
    assert app.test_client().get(_link_path(app, asset_id)).data == data


def test_a_recorded_session_that_expired_starts_over(app, client, editor, sharepoint):
    asset_id, data = interrupted_upload(app, client, sharepoint, "late.jpg")
    assert sharepoint.graph.emulator.uploads.expire() == 1
    run(app, store_media, asset_id)
    assert sharepoint.counters()["requests"]["POST item/createUploadSession"] == 2
    assert app.test_client().get(_link_path(app, asset_id)).data == data


def test_a_file_committed_by_an_attempt_that_died_is_adopted_not_duplicated(app, client, editor, sharepoint):
    data = noisy_jpeg((900, 800))
    asset_id = upload(client, data, "twice.jpg").get_json()["id"]
    with app.app_context():  # what an attempt killed between its last chunk and its commit left behind
        item = sharepoint.client().upload(
            transfers.staging_path(asset_id, 1), name=transfer_of(app, asset_id).item_name
        )
    run(app, store_media, asset_id)
    asset = asset_of(app, asset_id)
    assert asset.storage_item_id == item["id"] and asset.storage_version == "1.0"
    with app.app_context():
        assert [v["id"] for v in sharepoint.client().versions(item["id"])] == ["1.0"]


def test_a_same_named_file_with_other_bytes_of_the_same_size_is_not_adopted(app, client, editor, sharepoint, tmp_path):
    data = noisy_jpeg((900, 800))
    asset_id = upload(client, data, "lookalike.jpg").get_json()["id"]
    impostor = tmp_path / "impostor.jpg"
    impostor.write_bytes(bytes(reversed(data)))  # same size, other bytes, under our name
    with app.app_context():
        sharepoint.client().upload(impostor, name=transfer_of(app, asset_id).item_name)
    run(app, store_media, asset_id)  # refused for good: a person must look at that folder
    asset = asset_of(app, asset_id)
    assert asset.status is MediaStatus.FAILED and asset.storage_item_id is None
    assert "another file named" in asset.failure_reason
    assert staged_path(app, asset_id, 1).read_bytes() == data  # nothing lost


def test_a_second_delivery_waits_for_the_first_ones_lease(app, client, editor, sharepoint):
    asset_id = upload(client, image("PNG"), "logo.png").get_json()["id"]
    with app.app_context():
        transfer = db.session.scalar(sa.select(MediaTransfer).where(MediaTransfer.asset_id == asset_id))
        transfer.claimed_until = sa.func.now() + sa.text("interval '1 minute'")
        db.session.commit()
    with pytest.raises(transfers.TransferBusy):
        run(app, store_media, asset_id)
    assert sharepoint.counters()["requests"] == {}


def test_a_refusal_fails_the_asset_and_keeps_the_file_for_a_retry(app, client, editor, sharepoint):
    data = image("JPEG", size=(90, 70))
    asset_id = upload(client, data, "refused.jpg").get_json()["id"]
    sharepoint.faults.fail_requests(403, count=1)
    run(app, store_media, asset_id)  # no exception: retrying will not help
    asset = asset_of(app, asset_id)
    assert asset.status is MediaStatus.FAILED
    assert asset.failure_reason.startswith("Storing the file in SharePoint failed: 403 accessDenied")
    assert staged_path(app, asset_id, 1).read_bytes() == data
    run(app, process_media, asset_id)  # skipped: the asset is failed
    run(app, store_media, asset_id)  # sent again once the cause is fixed
    asset = asset_of(app, asset_id)
    assert asset.status is MediaStatus.PROCESSING and asset.failure_reason is None
    assert asset.storage_version == "1.0"
    run(app, process_media, asset_id)
    assert asset_of(app, asset_id).status is MediaStatus.READY


def test_exhausted_retries_fail_the_asset_with_the_last_reason(app, client, editor, sharepoint):
    asset_id = upload(client, image("JPEG", size=(50, 40)), "never.jpg").get_json()["id"]
    sharepoint.faults.fail_requests(503, count=50, retry_after=0)
    with pytest.raises(StorageUnavailable):
        run(app, store_media, asset_id)
    run(app, store_media_gave_up, {"args": [asset_id]}, {"retries": 8, "max_retries": 8})
    asset = asset_of(app, asset_id)
    assert asset.status is MediaStatus.FAILED and "after every retry" in asset.failure_reason
    assert "503" in asset.failure_reason and staged_path(app, asset_id, 1).exists()


def test_deleting_an_asset_discards_its_item_after_the_commit(app, client, editor, sharepoint):
    asset_id = upload(client, image("JPEG", size=(40, 30)), "gone.jpg").get_json()["id"]
    run(app, store_media, asset_id)
    item_id = asset_of(app, asset_id).storage_item_id
    response = client.post(f"/media/{asset_id}/delete", data={"csrf_token": csrf_token(client, f"/media/{asset_id}")})
    assert response.status_code == 303
    with app.app_context():
        assert sharepoint.client().item(item_id)["id"] == item_id  # nothing called Graph in the request
    run(app, discard_media, asset_id, "sharepoint", item_id)
    with app.app_context(), pytest.raises(GraphNotFound):
        sharepoint.client().item(item_id)


def test_files_kept_on_local_disk_stay_served_after_the_switch(app, client, editor, media_root, graph, monkeypatch):
    data = image("JPEG", size=(30, 20))
    asset_id = upload(client, data, "before.jpg").get_json()["id"]  # STORAGE_BACKEND=local
    link = _link_path(app, asset_id)
    configure(app, monkeypatch, emulator_settings(graph))
    graph.emulator.counters.reset()
    partial = app.test_client().get(link, headers={"Range": "bytes=0-9"})
    assert partial.status_code == 206 and partial.data == data[:10]
    assert "Version 1<" in client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert graph.emulator.counters.snapshot()["requests"] == {}


# -- over real sockets, with a real worker --------------------------------------------------------
@pytest.fixture
def live(servers, graph, tmp_path):
    with live_stack(servers, graph, tmp_path, "sp") as stack:
        yield stack


def test_an_upload_over_http_is_stored_by_a_real_worker(live, graph):
    app, web, email = live
    data = noisy_jpeg((900, 800))
    http, token = signed_in(web.url, email, PASSWORD)
    graph.emulator.counters.reset()
    graph.emulator.faults.fail_fragment(2, status=500)  # the worker's retry resumes the session
    response = http.post(
        "/media/upload",
        content=data,
        headers={
            "Content-Type": "application/octet-stream",
            "X-Filename": "live.jpg",
            "X-CSRFToken": token,
            "Accept": "application/json",
            **EN,
        },
    )
    assert response.status_code == 200, response.text
    asset_id = response.json()["id"]
    deadline = time.monotonic() + 60
    while asset_of(app, asset_id).status is MediaStatus.PROCESSING and time.monotonic() < deadline:
        time.sleep(0.2)
    asset = asset_of(app, asset_id)
    assert asset.status is MediaStatus.READY, asset.failure_reason
    assert asset.storage_version == "1.0" and asset.share_url and asset.width == 900
    counters = graph.emulator.counters.snapshot()
    assert counters["faults_served"] == {"500": 1} and counters["fragment_bytes_received"] == len(data)
    link = http.get(_link_path(app, asset_id), headers={"Range": f"bytes={FRAGMENT}-"})
    assert link.status_code == 206 and link.content == data[FRAGMENT:]
    http.close()
