"""A SharePoint storage failure is told apart from a processing failure, editors can send the
upload again from the detail page (it resumes the recorded session), and the version list the
detail page shows is cached in Redis until a version is stored or replaced."""

from __future__ import annotations

from app.extensions import db
from app.integrations.graph import FRAGMENT
from app.models import MediaAsset, MediaStatus
from app.tasks.media import process_media, store_media, store_media_gave_up
from tests.conftest import csrf_token
from tests.objects_support import in_review_with
from tests.media_support import EN, editor, image, media_root, noisy_jpeg, truncated_jpeg, upload  # noqa: F401
from tests.graph_support import (
    asset_of,
    graph,  # noqa: F401 (a fixture)
    interrupted_upload,
    run,
    sharepoint,  # noqa: F401
    staged_path,
    transfer_of,
)

HTMX = {"HX-Request": "true", **EN}


def _refused(app, client, sharepoint, data=None, name="refused.jpg") -> int:
    """An asset whose upload SharePoint refused for good (403): failed, its file still staged."""
    asset_id = upload(client, data or image("JPEG", size=(90, 70)), name).get_json()["id"]
    sharepoint.faults.fail_requests(403, count=1)
    run(app, store_media, asset_id)
    assert asset_of(app, asset_id).status is MediaStatus.FAILED
    return asset_id


def _retry(client, asset_id, headers=HTMX):
    token = csrf_token(client, f"/media/{asset_id}")
    return client.post(f"/media/{asset_id}/retry-storing", data={"csrf_token": token}, headers=headers)


def _versions_calls(sharepoint) -> int:
    return sharepoint.counters()["requests"].get("GET item/versions", 0)


def test_a_storage_failure_is_told_apart_from_a_processing_failure(app, client, editor, sharepoint):
    asset_id = _refused(app, client, sharepoint)
    page = client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert "The file could not be stored in SharePoint: 403 accessDenied" in page
    assert "Processing failed." not in page and "Retry storing" in page
    tile = client.get(f"/media/{asset_id}/card", headers=EN).get_data(as_text=True)
    assert 'data-testid="status">Not stored<' in tile

    broken = upload(client, noisy_jpeg((60, 40)), "broken.jpg").get_json()["id"]
    staged_path(app, broken, 1).write_bytes(truncated_jpeg())  # damaged after the upload's check
    run(app, process_media, broken)  # decoding fails from the staged file
    page = client.get(f"/media/{broken}", headers=EN).get_data(as_text=True)
    assert "Processing failed." in page
    assert "could not be stored in SharePoint" not in page and "Retry storing" not in page
    tile = client.get(f"/media/{broken}/card", headers=EN).get_data(as_text=True)
    assert 'data-testid="status">Failed<' in tile


def test_a_retry_resumes_the_recorded_session_and_the_asset_becomes_ready(app, client, editor, sharepoint):
    asset_id, data = interrupted_upload(app, client, sharepoint, "big.jpg")
    run(app, store_media_gave_up, {"args": [asset_id]}, {"retries": 8, "max_retries": 8})
    assert transfer_of(app, asset_id).next_offset == FRAGMENT
    page = client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert "The file could not be stored in SharePoint: after every retry" in page

    panel = _retry(client, asset_id)
    html = panel.get_data(as_text=True)
    assert panel.status_code == 200 and 'id="asset-panel"' in html and "<html" not in html
    assert 'hx-trigger="every 2s"' in html and "The file is being stored again." in html
    asset = asset_of(app, asset_id)
    assert asset.status is MediaStatus.PROCESSING and asset.failure_reason is None
    card = client.get(f"/media/{asset_id}/card", headers=HTMX)
    assert card.status_code == 200 and b'hx-trigger="every 2s"' in card.data  # the tile polls again

    run(app, store_media, asset_id)  # the message the retry sent
    counters = sharepoint.counters()
    assert counters["fragment_bytes_received"] == len(data)  # resumed: not one byte sent twice
    assert counters["requests"]["POST item/createUploadSession"] == 1
    run(app, process_media, asset_id)  # skipped while the asset was failed: the retry sent it too
    assert asset_of(app, asset_id).status is MediaStatus.READY
    card = client.get(f"/media/{asset_id}/card", headers=HTMX)
    assert card.status_code == 286 and b"Ready" in card.data
    with app.app_context():
        sharepoint.client().delete(asset_of(app, asset_id).storage_item_id)


def test_a_retry_is_refused_when_nothing_is_staged_any_more(app, client, editor, sharepoint):
    asset_id = _refused(app, client, sharepoint)
    staged_path(app, asset_id, 1).unlink()
    refused = _retry(client, asset_id)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="asset-panel"' in html
    assert "No copy of the file is left waiting to be stored: upload it again." in html
    assert asset_of(app, asset_id).status is MediaStatus.FAILED

    without_js = _retry(client, asset_id, headers=EN)
    assert without_js.status_code == 303 and without_js.headers["Location"] == f"/media/{asset_id}"
    assert "upload it again" in client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)


def test_a_retry_is_refused_for_an_asset_that_did_not_fail_storing(app, client, editor, sharepoint):
    asset_id = upload(client, image("PNG"), "fine.png").get_json()["id"]
    refused = _retry(client, asset_id)
    assert refused.status_code == 422 and "This file is not waiting to be stored again." in refused.get_data(
        as_text=True
    )
    assert sharepoint.counters()["requests"] == {}


def test_approvers_see_the_failure_but_cannot_retry(app, client, auth, sharepoint):
    auth.login("editor")
    asset_id = _refused(app, client, sharepoint)
    with app.app_context():  # approvers open the assets of the posts they review
        in_review_with(db.session.get(MediaAsset, asset_id))
        db.session.commit()
    auth.logout()
    auth.login("approver")
    page = client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert "could not be stored in SharePoint" in page and "Retry storing" not in page
    response = client.post(
        f"/media/{asset_id}/retry-storing", data={"csrf_token": csrf_token(client, f"/media/{asset_id}")}, headers=HTMX
    )
    assert response.status_code == 403
    assert asset_of(app, asset_id).status is MediaStatus.FAILED


def test_the_version_list_is_cached_until_a_version_is_replaced_and_stored(app, client, editor, sharepoint):
    asset_id = upload(client, noisy_jpeg((120, 90)), "hero.jpg").get_json()["id"]
    run(app, store_media, asset_id)
    run(app, process_media, asset_id)
    before = _versions_calls(sharepoint)
    for _ in range(3):
        assert "Version 1.0" in client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert _versions_calls(sharepoint) == before + 1

    assert upload(client, noisy_jpeg((500, 400)), "hero-v2.jpg", url=f"/media/{asset_id}/file").status_code == 200
    for _ in range(3):  # the panel polls while the replacement uploads
        assert client.get(f"/media/{asset_id}", headers=HTMX).status_code == 200
    page = client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert "on its way to the storage" in page and "Version 1.0" in page
    assert _versions_calls(sharepoint) == before + 2  # listed once more after the replacement

    run(app, store_media, asset_id)
    stored_calls = _versions_calls(sharepoint)
    page = client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert "Version 2.0" in page and "Version 1.0" in page
    assert _versions_calls(sharepoint) == stored_calls + 1
    client.get(f"/media/{asset_id}", headers=EN)
    assert _versions_calls(sharepoint) == stored_calls + 1
    with app.app_context():
        sharepoint.client().delete(db.session.get(MediaAsset, asset_id).storage_item_id)
