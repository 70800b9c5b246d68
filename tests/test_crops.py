"""A post's crop per network (app/renditions/crops.py): stored in the network's version, the
rendition keyed and made by it, the payload sending it, the cache shared by posts with the same
crop, an approved post going back to review; a video made vertical with black bands or cropped
around a point (issue 11, points 1 and 2)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app import versions
from app.extensions import db
from app.models import (
    AuditEvent,
    Campaign,
    ContentObject,
    MediaAsset,
    MediaKind,
    ObjectStatus,
    Platform,
    Publication,
    Rendition,
    RenditionStatus,
    Role,
)
from app.renditions import crops, screen, service
from tests.conftest import csrf_token
from tests.objects_support import _scenario, make_asset, make_objects, seed_campaign

EN = {"Accept-Language": "en"}
HX = {**EN, "HX-Request": "true"}
READY = {
    "storage_item_id": "renditions/x.jpg",
    "storage_version": "1",
    "mime": "image/jpeg",
    "size_bytes": 200_000,
    "width": 1440,
    "height": 754,
    "changes": {"cropped": True},
}


def _post(seed, asset_id, status=ObjectStatus.DRAFT) -> ContentObject:
    [object_id] = make_objects(seed.campaign_id, list(seed.scenarios.values()), [asset_id], 1, statuses=(status,))
    return db.session.get(ContentObject, object_id)


def _wide(seed_title="Panorama") -> MediaAsset:
    return make_asset(seed_title, size=(3000, 1000))  # 3:1, wider than Instagram's 1.91:1


def _rendition(asset, platform) -> Rendition | None:
    return db.session.scalar(
        sa.select(Rendition)
        .where(Rendition.asset_id == asset.id, Rendition.profile == service.profile(platform))
        .order_by(Rendition.id.desc())
    )


def test_a_crop_is_saved_for_one_network_and_its_rendition_is_keyed_and_sent_by_it(app):
    from app.campaigns import composer, objects
    from app.publishing import payload
    from app.renditions.service import RenditionPending

    with app.test_request_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.X), extra_statuses=(), media=0)
        photo = _wide()
        obj = _post(seed, photo.id)
        # Instagram crops this photo: the editor may move its crop there; X takes it whole.
        assert crops.adjustable(photo, Platform.INSTAGRAM) and not crops.adjustable(photo, Platform.X)
        wanted = crops.parse(photo, MultiDict({"x": "90", "y": "50"}))
        assert wanted == {"x": 0.9, "y": 0.5}
        assert crops.move(obj, Platform.INSTAGRAM, photo, wanted, actor=None)
        assert not crops.move(obj, Platform.INSTAGRAM, photo, wanted, actor=None)  # the same: nothing changes
        own = versions.versions(obj)
        assert own[Platform.INSTAGRAM].crops == {str(photo.id): {"x": 0.9, "y": 0.5}}
        assert own[Platform.X].crops == {}
        # The rendition is keyed by the network's crop and queued at once (the page shows it being made).
        made = _rendition(photo, Platform.INSTAGRAM)
        assert made.crop == "focal-0.900-0.500" and made.status is RenditionStatus.PENDING
        assert service.crop_key(photo) == "auto"  # the file's own focal point did not move
        shown = {p: screen.for_target([photo], p, own[p].crops)[0] for p in (Platform.INSTAGRAM, Platform.X)}
        assert {p: item.crop for p, item in shown.items()} == {
            Platform.INSTAGRAM: "focal-0.900-0.500",
            Platform.X: "auto",
        }
        assert shown[Platform.INSTAGRAM].own == {"x": 0.9, "y": 0.5} and shown[Platform.X].framing is None
        framing = crops.framing(photo, Platform.INSTAGRAM, "focal-0.900-0.500")
        left, top, width, height = framing.frame
        assert (framing.x, framing.y) == (90.0, 50.0) and top == 0 and height == 1
        assert abs(width - 1910 / 3000) < 0.001 and abs(left + width - 1) < 0.001  # pushed to the right edge
        # The post form's live preview shows the rendition around the network's crop too.
        campaign = db.session.get(Campaign, seed.campaign_id)
        form = MultiDict([("targets", str(s)) for s in seed.scenarios.values()] + [("media_ids", str(photo.id))])
        previewed, _, _ = composer.preview(campaign, objects.offered_scenarios(campaign, obj), form, obj)
        assert {check.account.platform: check.renditions[0].crop for check in previewed} == {
            Platform.INSTAGRAM: "focal-0.900-0.500",
            Platform.X: "auto",
        }
        audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "object_crop_moved"))
        assert audit.data == {"platform": "instagram", "asset": photo.id, "crop": {"x": 0.9, "y": 0.5}}
        # The payload sends the rendition around that crop: pending, then the one made.
        publication = Publication(
            object_id=obj.id,
            campaign_scenario_id=seed.scenarios["instagram"],
            idempotency_key=f"c-{uuid.uuid4().hex[:6]}",
            fingerprint="f",
        )
        db.session.add(publication)
        db.session.flush()
        with pytest.raises(RenditionPending) as waiting:
            payload.build(publication)
        assert waiting.value.rendition_id == made.id
        db.session.execute(
            sa.update(Rendition).where(Rendition.id == made.id).values(status=RenditionStatus.READY, **READY)
        )
        db.session.expire_all()
        body = payload.build(publication)
        assert [(item["width"], item["height"]) for item in body["media"]] == [(1440, 754)]
        assert body["media"][0]["url"].split("/m/r/")[1]  # the rendition's signed link


def test_posts_with_the_same_crop_share_one_rendition_and_submission_requests_it(app):
    from app.auth import service as accounts
    from app.campaigns import objects

    with app.test_request_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM,), extra_statuses=(), media=0)
        photo = _wide()
        editor = accounts.create_user(
            f"e{uuid.uuid4().hex[:6]}@example.org", "Eliott", Role.EDITOR, "an editor password"
        )
        first, second = _post(seed, photo.id), _post(seed, photo.id)
        crops.move(first, Platform.INSTAGRAM, photo, {"x": 0.2, "y": 0.5}, actor=None)
        versions.save(second, Platform.INSTAGRAM, crops={str(photo.id): {"x": 0.2, "y": 0.5}})
        objects.submit(second, actor=editor)
        rows = list(db.session.scalars(sa.select(Rendition).where(Rendition.asset_id == photo.id)))
        assert [(row.crop, row.profile) for row in rows] == [("focal-0.200-0.500", service.profile(Platform.INSTAGRAM))]
        # A third post without a crop of its own follows the file's focal point: a rendition of its own.
        third = _post(seed, photo.id)
        objects.submit(third, actor=editor)
        assert sorted(db.session.scalars(sa.select(Rendition.crop).where(Rendition.asset_id == photo.id))) == [
            "auto",
            "focal-0.200-0.500",
        ]
        # Moving the file's focal point re-queues the posts that follow it, not the one with its own crop.
        db.session.get(ContentObject, first.id).status = ObjectStatus.IN_REVIEW
        screen.move_focal_point(photo, 0.7, 0.5)
        assert sorted(db.session.scalars(sa.select(Rendition.crop).where(Rendition.asset_id == photo.id))) == [
            "auto",
            "focal-0.200-0.500",
            "focal-0.700-0.500",
        ]


def test_moving_a_crop_after_approval_sends_the_post_back_to_review(app):
    from app.publishing import outbox

    with app.test_request_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM,), extra_statuses=(), media=0)
        photo = _wide()
        obj = _post(seed, photo.id, ObjectStatus.APPROVED)
        approved = outbox.fingerprint(obj)
        crops.move(obj, Platform.INSTAGRAM, photo, {"x": 0.1, "y": 0.5}, actor=None)
        assert obj.status is ObjectStatus.IN_REVIEW
        assert outbox.fingerprint(obj) != approved  # what the approvers see changed
        # Back to the file's focal point: nothing of its own left, the version row goes.
        crops.move(obj, Platform.INSTAGRAM, photo, None, actor=None)
        assert versions.variants(obj) == {} and outbox.fingerprint(obj) == approved


def test_a_video_is_made_vertical_with_black_bands_or_cropped_around_a_point(app, tmp_path):
    from app.renditions import runner, video
    from tests.media_support import video as make_video

    with app.test_request_context():
        clip_asset = make_asset("Clip", mime="video/mp4", kind=MediaKind.VIDEO, size=(320, 180))
        assert crops.adjustable(clip_asset, Platform.INSTAGRAM) and crops.adjustable(clip_asset, Platform.TIKTOK)
        assert not crops.adjustable(
            make_asset("Vertical", mime="video/mp4", kind=MediaKind.VIDEO, size=(180, 320)), Platform.TIKTOK
        )
        # Without a choice: today's default, its own shape (the focal point's key, as before).
        assert service.crop_for(clip_asset, {}) == "auto"
        assert crops.parse(clip_asset, MultiDict({"fit": ""})) is None
        letterbox = crops.parse(clip_asset, MultiDict({"fit": "letterbox", "x": "80", "y": "50"}))
        around = crops.parse(clip_asset, MultiDict({"fit": "crop", "x": "80", "y": "50"}))
        assert letterbox == {"fit": "letterbox"} and around == {"fit": "crop", "x": 0.8, "y": 0.5}
        assert crops.parse(clip_asset, MultiDict({"fit": "crop"})) == {"fit": "crop"}  # the file's point
        assert crops.parse(clip_asset, MultiDict({"fit": "crop", "x": "80", "y": "50", "reset": "1"})) == {
            "fit": "crop"
        }
        with pytest.raises(crops.CropError):
            crops.parse(clip_asset, MultiDict({"fit": "stretch"}))
        with pytest.raises(crops.CropError):
            crops.parse(clip_asset, MultiDict({"fit": "crop", "x": "120", "y": "50"}))
        assert service.crop_for(clip_asset, {str(clip_asset.id): letterbox}) == "letterbox"
        assert service.crop_for(clip_asset, {str(clip_asset.id): around}) == "crop-0.800-0.500"
        assert service.crop_for(clip_asset, {str(clip_asset.id): {"fit": "crop"}}) == "crop-0.500-0.500"
        assert crops.framing(clip_asset, Platform.TIKTOK, "letterbox").frame is None
        assert not crops.framing(clip_asset, Platform.TIKTOK, "auto").movable
        # Made by the renditions' own code, to the rules and settings each key asks for.
        clip = make_video(size=(320, 180), fps=25, frames=10)
        source = tmp_path / "clip.mp4"
        source.write_bytes(clip)
        results = {}
        for key in ("auto", "letterbox", "crop-0.800-0.500"):
            rules, settings = service.recipe(MediaKind.VIDEO, Platform.TIKTOK, key)
            results[key] = runner.run("video", str(source), str(tmp_path / f"{key}.mp4"), rules, settings, 120)
        kept = results["auto"]
        assert (kept["width"], kept["height"]) == (640, 360)  # its shape, up to TikTok's 360 px minimum
        assert not kept["changes"]["letterboxed"] and not kept["changes"]["cropped"]
        assert (
            results["letterbox"]["changes"]["letterboxed"]
            and results["letterbox"]["width"] < results["letterbox"]["height"]
        )
        assert abs(results["letterbox"]["width"] / results["letterbox"]["height"] - 9 / 16) < 0.02
        cropped = results["crop-0.800-0.500"]
        assert cropped["changes"]["cropped"] and not cropped["changes"]["letterboxed"]
        assert abs(cropped["width"] / cropped["height"] - 9 / 16) < 0.02
        # Cropped around the point: the kept part is near the right edge of the frame.
        rules, settings = service.recipe(MediaKind.VIDEO, Platform.TIKTOK, "crop-0.800-0.500")
        w, _h, x, _y = video.plan(rules, 1280, 720, 25, 2, settings).crop
        assert (w, x) == (405, 822)


@pytest.fixture
def page(app):
    """A post in review to Instagram and X with a 3000x1000 photo (Instagram crops it)."""
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.X), extra_statuses=(), media=0)
        seed.scenarios["instagram-2"] = _scenario(
            db.session.get(Campaign, seed.campaign_id), Platform.INSTAGRAM, "ready"
        )  # a second Instagram account
        photo = _wide()
        photo.preview_path = "derived/panorama.webp"
        db.session.commit()
        obj = _post(seed, photo.id, ObjectStatus.IN_REVIEW)
        db.session.commit()
        url = f"/campaigns/{seed.campaign_id}/objects/{obj.id}"
        return {
            "url": url,
            "object": obj.id,
            "photo": photo.id,
            "scenarios": seed.scenarios,
            "move": f"{url}/renditions/{seed.scenarios['instagram']}/crop/{photo.id}",
        }


def test_the_post_page_moves_a_crop_for_one_network(app, client, auth, page):
    auth.login("editor")
    html = client.get(page["url"], headers=EN).get_data(as_text=True)
    assert page["move"] in html and html.count('data-testid="crop-picture"') == 2  # the two Instagram accounts
    token = csrf_token(client, page["url"])
    refused = client.post(page["move"], data={"csrf_token": token, "x": "150", "y": "50"}, headers=HX)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'data-testid="crop-error"' in body and 'value="150"' in body
    with app.app_context():
        assert versions.variants(db.session.get(ContentObject, page["object"])) == {}
    saved = client.post(page["move"], data={"csrf_token": token, "x": "90", "y": "50"}, headers=HX)
    body = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "<html" not in body and 'data-testid="crop-saved"' in body
    assert 'data-crop="focal-0.900-0.500"' in body and 'hx-trigger="every 2s"' in body  # being made
    assert 'data-testid="crop-reset"' in body
    # The other Instagram account's box shows the same crop: it comes along, swapped out of band.
    assert (
        body.count('hx-swap-oob="true"') == 1
        and f'id="renditions-{page["object"]}-{page["scenarios"]["instagram-2"]}"' in body
    )
    assert body.count('data-crop="focal-0.900-0.500"') == 2
    # Without JavaScript: back to the post page with the message.
    plain = client.post(page["move"], data={"csrf_token": token, "reset": "1"}, headers=EN)
    assert plain.status_code == 303 and plain.headers["Location"].endswith(page["url"])
    with app.app_context():
        assert versions.variants(db.session.get(ContentObject, page["object"])) == {}
    # X takes the photo whole: nothing to move there; a published post can no longer be changed.
    x_move = f"{page['url']}/renditions/{page['scenarios']['x']}/crop/{page['photo']}"
    assert client.post(x_move, data={"csrf_token": token, "x": "50", "y": "50"}, headers=HX).status_code == 404
    with app.app_context():
        db.session.get(ContentObject, page["object"]).status = ObjectStatus.PUBLISHED
        db.session.commit()
    gone = client.post(page["move"], data={"csrf_token": token, "x": "50", "y": "50"}, headers=HX)
    assert gone.status_code == 409 and "can no longer be changed" in gone.get_data(as_text=True)
