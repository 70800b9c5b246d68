"""Renditions on screen: the post page's notes and rendition states per target, "try again" on a
failed one, the previews showing a ready rendition at its own proportions, and the focal point
saved from the asset page (issue 11)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    FocalPoint,
    MediaAsset,
    MediaKind,
    ObjectStatus,
    Platform,
    Rendition,
    RenditionStatus,
    StorageBackend,
)
from app.renditions import service
from tests.conftest import csrf_token
from tests.objects_support import make_asset, make_objects, seed_campaign

EN = {"Accept-Language": "en"}
HX = {**EN, "HX-Request": "true"}


@pytest.fixture
def post(app):
    """A post in review to Instagram and X with a 1920x1080 photo (too wide for Instagram); a PDF aside."""
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.X), extra_statuses=(), media=0)
        photo = make_asset("Affiche", size=(1920, 1080))
        photo.preview_path = "derived/affiche.webp"  # the asset page offers the focal point on its preview
        document = make_asset("Dossier", mime="application/pdf", kind=MediaKind.DOCUMENT, size=(0, 0))
        db.session.commit()
        [object_id] = make_objects(
            seed.campaign_id, list(seed.scenarios.values()), [photo.id], 1, statuses=(ObjectStatus.IN_REVIEW,)
        )
        return {
            "campaign": seed.campaign_id,
            "object": object_id,
            "photo": photo.id,
            "document": document.id,
            "scenarios": seed.scenarios,
            "url": f"/campaigns/{seed.campaign_id}/objects/{object_id}",
        }


def _rendition(app, asset_id, platform, status, **values) -> int:
    with app.app_context():
        asset = db.session.get(MediaAsset, asset_id)
        rendition = Rendition(
            asset_id=asset.id,
            asset_version=asset.version,
            profile=service.profile(platform),
            crop=service.crop_key(asset),
            status=status,
            storage_backend=StorageBackend.LOCAL,
            **values,
        )
        db.session.add(rendition)
        db.session.commit()
        return rendition.id


READY = {
    "storage_item_id": "renditions/x.jpg",
    "storage_version": "1",
    "mime": "image/jpeg",
    "size_bytes": 2_202_010,
    "width": 1440,
    "height": 1800,
    "changes": {"resized": True, "cropped": True, "converted": False},
}


def _box(html: str, platform: str) -> str:
    found = re.search(
        rf'<section id="renditions-[^"]+"[^>]*data-testid="renditions-{platform}".*?</section>', html, re.S
    )
    assert found, f"no renditions box for {platform}"
    return found.group(0)


def test_the_post_page_says_what_will_be_adapted_and_each_renditions_state(app, client, auth, post):
    _rendition(app, post["photo"], Platform.INSTAGRAM, RenditionStatus.READY, **READY)
    _rendition(app, post["photo"], Platform.X, RenditionStatus.PENDING)
    auth.login("editor")
    html = client.get(post["url"], headers=EN).get_data(as_text=True)
    instagram, x = _box(html, "instagram"), _box(html, "x")
    # Instagram: the 1920-px photo will be resized (a note, not a refusal); its rendition is ready.
    assert 'data-testid="adapted"' in instagram and "resized to 1440 px wide" in instagram
    assert 'data-testid="refused"' not in instagram
    assert 'data-state="ready"' in instagram and "resized to 1440 px, cropped to 1440×1800, 2.1\xa0MB" in instagram
    assert "hx-get" not in instagram  # nothing being made: no polling
    # X: being made, so the box polls itself.
    assert 'data-state="pending"' in x and 'hx-trigger="every 2s"' in x


def test_a_target_that_cannot_be_sent_says_why(app, client, auth, post):
    with app.app_context():
        from app.models import ContentObject

        db.session.get(ContentObject, post["object"]).message = "Salon " * 60  # too long for X
        db.session.commit()
    auth.login("editor")
    x = _box(client.get(post["url"], headers=EN).get_data(as_text=True), "x")
    assert 'data-testid="refused"' in x and "the limit is 280" in x


def test_the_box_polls_while_pending_and_stops_with_286(app, client, auth, post):
    rendition_id = _rendition(app, post["photo"], Platform.INSTAGRAM, RenditionStatus.PENDING)
    auth.login("editor")
    url = f"{post['url']}/renditions/{post['scenarios']['instagram']}"
    pending = client.get(url, headers=HX)
    assert pending.status_code == 200 and 'hx-trigger="every 2s"' in pending.get_data(as_text=True)
    with app.app_context():
        db.session.execute(
            sa.update(Rendition).where(Rendition.id == rendition_id).values(status=RenditionStatus.READY, **READY)
        )
        db.session.commit()
    done = client.get(url, headers=HX)
    assert done.status_code == 286 and 'data-state="ready"' in done.get_data(as_text=True)
    assert "<html" not in done.get_data(as_text=True)


def test_a_failed_rendition_shows_its_reason_and_try_again_queues_it(app, client, auth, post):
    rendition_id = _rendition(
        app,
        post["photo"],
        Platform.INSTAGRAM,
        RenditionStatus.FAILED,
        failure_reason="the decoder stopped: truncated file",
    )
    auth.login("editor")
    html = client.get(post["url"], headers=EN).get_data(as_text=True)
    box = _box(html, "instagram")
    assert 'data-state="failed"' in box and "truncated file" in box and 'data-testid="retry-rendition"' in box
    retry = f"{post['url']}/renditions/{post['scenarios']['instagram']}/retry/{rendition_id}"
    assert retry in box
    answer = client.post(retry, data={"csrf_token": csrf_token(client, post["url"])}, headers=HX)
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert 'data-state="pending"' in body and 'hx-trigger="every 2s"' in body and "<html" not in body
    with app.app_context():
        assert db.session.get(Rendition, rendition_id).status is RenditionStatus.PENDING
    # Without JavaScript: back to the post page.
    with app.app_context():
        db.session.execute(
            sa.update(Rendition)
            .where(Rendition.id == rendition_id)
            .values(status=RenditionStatus.FAILED, failure_reason="again")
        )
        db.session.commit()
    plain = client.post(retry, data={"csrf_token": csrf_token(client, post["url"])}, headers=EN)
    assert plain.status_code == 303 and plain.headers["Location"].endswith(post["url"])


def test_try_again_is_for_this_posts_files_and_for_editors(app, client, auth, post):
    with app.app_context():
        other = make_asset("Autre")
        db.session.commit()
        other_id = other.id
    foreign = _rendition(app, other_id, Platform.INSTAGRAM, RenditionStatus.FAILED, failure_reason="x")
    mine = _rendition(app, post["photo"], Platform.INSTAGRAM, RenditionStatus.FAILED, failure_reason="x")
    base = f"{post['url']}/renditions/{post['scenarios']['instagram']}"
    auth.login("editor")
    token = csrf_token(client, post["url"])
    assert client.post(f"{base}/retry/{foreign}", data={"csrf_token": token}).status_code == 404
    assert client.post(f"{post['url']}/renditions/999999/retry/{mine}", data={"csrf_token": token}).status_code == 404
    assert client.post(f"{base}/retry/{mine}").status_code == 400  # no CSRF token
    auth.logout()
    auth.login("approver")
    token = csrf_token(client, "/reviews/")
    assert client.post(f"{base}/retry/{mine}", data={"csrf_token": token}).status_code == 403
    assert client.get(base).status_code == 403
    with app.app_context():
        assert db.session.get(Rendition, mine).status is RenditionStatus.FAILED


def test_previews_show_a_ready_rendition_at_its_proportions_else_the_original_being_prepared(app, client, auth, post):
    _rendition(app, post["photo"], Platform.INSTAGRAM, RenditionStatus.READY, **READY)
    auth.login("editor")
    html = client.get(post["url"], headers=EN).get_data(as_text=True)
    instagram = re.search(r'data-testid="preview-instagram".*?</li>\s*</ul>', html, re.S).group(0)
    image = re.search(r'<img src="(/m/r/[^"]+)" width="1440" height="1800"', instagram)
    assert image, instagram
    x = re.search(r'data-testid="preview-x".*?</li>\s*</ul>', html, re.S).group(0)
    assert "/m/r/" not in x and 'data-testid="being-prepared"' in x and "Not made yet" in x
    # The approver's previews show the same rendition.
    auth.logout()
    auth.login("approver")
    previews = client.get(f"/reviews/objects/{post['object']}/previews", headers=EN).get_data(as_text=True)
    assert 'width="1440" height="1800"' in previews and "/m/r/" in previews
    assert 'data-testid="renditions-' not in previews  # the retry boxes are the editor's


def test_the_focal_point_is_saved_per_version_and_queues_the_crops(app, client, auth, post):
    auth.login("editor")
    url = f"/media/{post['photo']}/focal-point"
    page = client.get(f"/media/{post['photo']}", headers=EN).get_data(as_text=True)
    assert f'hx-get="{url}"' in page
    box = client.get(url, headers=HX).get_data(as_text=True)
    assert 'name="x" value="50.0"' in box and 'name="y" value="50.0"' in box and "<html" not in box
    saved = client.post(url, data={"x": "30", "y": "72.5", "csrf_token": csrf_token(client, url)}, headers=HX)
    assert saved.status_code == 200 and 'data-testid="focal-saved"' in saved.get_data(as_text=True)
    with app.app_context():
        point = db.session.get(FocalPoint, (post["photo"], 1))
        assert (float(point.x), float(point.y)) == (0.3, 0.725)
        crops = set(
            db.session.scalars(
                sa.select(Rendition.profile).where(
                    Rendition.asset_id == post["photo"], Rendition.crop == "focal-0.300-0.725"
                )
            )
        )
        # The post in review goes to Instagram and X: both crops are queued around the point.
        assert crops == {service.profile(Platform.INSTAGRAM), service.profile(Platform.X)}
    again = client.get(url, headers=HX).get_data(as_text=True)
    assert 'name="x" value="30.0"' in again and 'name="y" value="72.5"' in again


@pytest.mark.parametrize("x, y", [("150", "50"), ("-1", "20"), ("abc", "20"), ("", "")])
def test_a_focal_point_outside_the_picture_is_refused_with_422_keeping_the_input(app, client, auth, post, x, y):
    auth.login("editor")
    url = f"/media/{post['photo']}/focal-point"
    answer = client.post(
        url, data={"x": x, "y": y, "csrf_token": csrf_token(client, url)}, headers={"HX-Request": "true"}
    )
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'data-testid="focal-error"' in body
    assert f'name="x" value="{x}"' in body
    assert "0 à 100" in body  # French by default
    with app.app_context():
        assert db.session.get(FocalPoint, (post["photo"], 1)) is None


def test_the_focal_point_is_for_editors_and_pictures(app, client, auth, post):
    url = f"/media/{post['photo']}/focal-point"
    auth.login("approver")
    token = csrf_token(client, "/reviews/")
    assert client.post(url, data={"x": "10", "y": "10", "csrf_token": token}).status_code == 403
    assert client.get(url).status_code == 403
    page = client.get(f"/media/{post['photo']}", headers=EN).get_data(as_text=True)
    assert "focal-point" not in page  # approvers read the asset without the box
    auth.logout()
    auth.login("editor")
    token = csrf_token(client, url)
    assert (
        client.post(
            f"/media/{post['document']}/focal-point", data={"x": "10", "y": "10", "csrf_token": token}
        ).status_code
        == 404
    )


def test_a_small_rendition_reads_in_kilobytes(app):
    small = Rendition(
        status=RenditionStatus.READY,
        mime="image/jpeg",
        size_bytes=30_000,
        width=1080,
        height=1080,
        changes={"resized": True},
    )
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert service.note(small) == "redimensionné à 1080 px, 29,3\xa0Ko"
