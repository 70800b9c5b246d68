"""Signed public media links: no login, byte ranges for video, expiry and forgery answered
without detail, the version a link was made for, the URL built on PUBLIC_BASE_URL."""

import pytest
from itsdangerous import URLSafeTimedSerializer

from app.extensions import db
from app.media.links import SALT, make_token, signed_media_url
from app.models import MediaAsset
from tests.media_support import EN, editor, image, media_root, upload, video  # noqa: F401


@pytest.fixture
def clip(app, client, editor, media_root):
    data = video(frames=75)
    asset_id = upload(client, data, "Clip d’été 2026.mp4").get_json()["id"]
    with app.app_context():
        asset = db.session.get(MediaAsset, asset_id)
        return asset_id, data, signed_media_url(asset)


def _path(url):
    return "/" + url.split("/", 3)[3]


def test_the_url_is_absolute_on_the_public_base_url_and_plugs_into_the_payload(app, clip):
    _, _, url = clip
    assert url.startswith(app.config["PUBLIC_BASE_URL"].rstrip("/") + "/m/")
    assert app.extensions["media_url_builder"] is signed_media_url


def test_a_link_serves_the_file_without_a_login(app, clip):
    _, data, url = clip
    response = app.test_client().get(_path(url))
    assert response.status_code == 200 and response.data == data
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == (
        "inline; filename=\"Clip dete 2026.mp4\"; filename*=UTF-8''Clip%20d%E2%80%99%C3%A9t%C3%A9%202026.mp4"
    )


@pytest.mark.parametrize(
    "header,status,span",
    [
        ("bytes=0-99", 206, (0, 99)),
        ("bytes=100-", 206, (100, None)),
        ("bytes=-50", 206, (-50, None)),
        ("bytes=10-10", 206, (10, 10)),
    ],
)
def test_byte_ranges(app, clip, header, status, span):
    _, data, url = clip
    response = app.test_client().get(_path(url), headers={"Range": header})
    start, end = span
    expected = data[start:] if end is None else data[start : end + 1]
    first = start if start >= 0 else len(data) + start
    assert response.status_code == status and response.data == expected
    assert response.headers["Content-Range"] == f"bytes {first}-{first + len(expected) - 1}/{len(data)}"
    assert response.headers["Content-Length"] == str(len(expected))


def test_an_unsatisfiable_range_is_416(app, clip):
    _, data, url = clip
    response = app.test_client().get(_path(url), headers={"Range": f"bytes={len(data) + 10}-"})
    assert response.status_code == 416 and response.headers["Content-Range"] == f"bytes */{len(data)}"


def test_several_ranges_or_a_stale_if_range_get_the_whole_file(app, clip):
    asset_id, data, url = clip
    visitor = app.test_client()
    assert visitor.get(_path(url), headers={"Range": "bytes=0-1,5-6"}).data == data
    stale = visitor.get(_path(url), headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale.status_code == 200 and stale.data == data
    fresh = visitor.get(_path(url), headers={"Range": "bytes=0-9", "If-Range": f'"{asset_id}-1"'})
    assert fresh.status_code == 206 and fresh.data == data[:10]


def test_expired_links_are_gone_and_say_nothing(app, clip, monkeypatch):
    _, _, url = clip
    monkeypatch.setitem(app.config, "MEDIA_LINK_MAX_AGE", -1)
    response = app.test_client().get(_path(url))
    assert response.status_code == 410 and response.get_data(as_text=True) == "This link has expired.\n"


@pytest.mark.parametrize("forge", ["tampered", "other-secret", "other-salt", "garbage", "deleted"])
def test_forged_or_unknown_links_are_not_found(app, client, clip, forge):
    asset_id, _, url = clip
    token = url.rsplit("/", 1)[1]
    with app.app_context():
        forged = {
            "tampered": token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),
            "other-secret": URLSafeTimedSerializer("not the key", salt=SALT).dumps({"a": asset_id, "v": "1"}),
            "other-salt": URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="invitation").dumps(
                {"a": asset_id, "v": "1"}
            ),
            "garbage": "x" * 40,
            "deleted": URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALT).dumps({"a": 987654, "v": "1"}),
        }[forge]
    response = app.test_client().get("/m/" + forged)
    assert response.status_code == 404 and response.get_data(as_text=True) == "Not found.\n"


def test_a_link_keeps_serving_the_version_it_was_made_for(app, client, editor, media_root):
    first, second = image("JPEG", color=(1, 2, 3)), image("JPEG", color=(3, 2, 1))
    asset_id = upload(client, first, "a.jpg").get_json()["id"]
    with app.app_context():
        old_link = "/m/" + make_token(db.session.get(MediaAsset, asset_id))
    upload(client, second, "b.jpg", url=f"/media/{asset_id}/file")
    with app.app_context():
        new_link = "/m/" + make_token(db.session.get(MediaAsset, asset_id))
    visitor = app.test_client()
    assert visitor.get(old_link).data == first and visitor.get(new_link).data == second


def test_the_detail_page_offers_the_link_to_copy(app, client, clip):
    asset_id, _, _ = clip
    html = client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert 'id="public-link"' in html and 'data-copy="#public-link"' in html
    assert app.config["PUBLIC_BASE_URL"].rstrip("/") + "/m/" in html


def test_signed_in_people_get_ranges_from_the_file_route(app, client, clip):
    asset_id, data, _ = clip
    response = client.get(f"/media/{asset_id}/file", headers={"Range": "bytes=0-9"})
    assert response.status_code == 206 and response.data == data[:10]
    assert response.headers["Cache-Control"] == "no-store"
