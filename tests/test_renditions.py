"""Renditions: the file each network gets, made from real files with Pillow and PyAV, cached per
(asset version, profile, crop), served at a signed URL, and sent in place of the original."""

from __future__ import annotations

import io
import os
import uuid

import av
import dramatiq
import httpx
import pytest
import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.models import (
    Campaign,
    CampaignScenario,
    ContentObject,
    MediaAsset,
    MediaStatus,
    ObjectMedia,
    ObjectStatus,
    Platform,
    Publication,
    PublicationStatus,
    Rendition,
    RenditionStatus,
    Role,
    ScenarioStatus,
    SocialAccount,
    User,
    object_targets,
)
from app.networks import RULES, check
from app.renditions import image, runner, video
from tests.media_support import image as make_image, noisy_jpeg, video as make_video

MB = 1024 * 1024


def render(tmp_path, kind, data: bytes, platform: Platform, settings=None, timeout=120):
    source, target = tmp_path / f"in-{uuid.uuid4().hex}", tmp_path / f"out-{uuid.uuid4().hex}"
    source.write_bytes(data)
    settings = settings or (image.Settings() if kind == "image" else video.Settings())
    result = runner.run(kind, str(source), str(target), RULES[platform], settings, timeout)
    return result, target.read_bytes()


def fits(platform, result) -> list[str]:
    from app.networks import MediaFacts

    facts = MediaFacts(
        "video" if result["mime"].startswith("video/") else "image",
        result["mime"],
        result["size"],
        result["width"],
        result["height"],
        duration_s=result.get("duration"),
        fps=result.get("fps"),
    )
    return [p.code for p in check(platform, "x", [facts], adapt=False)]


def photo_with_gps(size, orientation) -> bytes:
    picture = Image.new("RGB", size, (30, 120, 200))
    for x in range(0, size[0], 7):
        picture.putpixel((x, x % size[1]), (255, 255, 0))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "CameraMaker"
    gps = exif.get_ifd(0x8825)
    gps[2] = (48.0, 51.0, 29.0)  # GPSLatitude
    gps[4] = (2.0, 17.0, 40.0)  # GPSLongitude
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


# -- Images ----------------------------------------------------------------------------------


def test_a_rotated_photo_is_turned_resized_cropped_and_stripped_for_instagram(tmp_path):
    # Landscape pixels with orientation 6: a portrait photo 2000 wide x 3000 high as shown.
    result, data = render(tmp_path, "image", photo_with_gps((3000, 2000), 6), Platform.INSTAGRAM)
    with Image.open(io.BytesIO(data)) as out:
        assert out.format == "JPEG"
        assert out.size == (result["width"], result["height"]) == (1440, 1800)  # 4:5, the tallest allowed
        exif = out.getexif()
        assert 0x0112 not in exif and 0x010F not in exif and not exif.get_ifd(0x8825)  # no GPS, no camera
    assert result["changes"]["cropped"] and result["changes"]["resized"]
    assert fits(Platform.INSTAGRAM, result) == []


def test_keeping_metadata_is_an_admin_choice(tmp_path):
    result, data = render(
        tmp_path, "image", photo_with_gps((800, 600), 6), Platform.X, image.Settings(keep_metadata=True)
    )
    with Image.open(io.BytesIO(data)) as out:
        exif = out.getexif()
        assert exif.get(0x010F) == "CameraMaker" and exif.get_ifd(0x8825)
        assert exif.get(0x0112, 1) == 1 and out.size == (600, 800)  # orientation applied, not repeated


def test_a_png_with_alpha_becomes_a_jpeg_on_white_for_instagram_and_stays_png_for_x(tmp_path):
    picture = Image.new("RGBA", (1200, 1000), (0, 0, 0, 0))
    picture.paste((200, 0, 0, 255), (400, 300, 800, 700))
    out = io.BytesIO()
    picture.save(out, "PNG")
    result, data = render(tmp_path, "image", out.getvalue(), Platform.INSTAGRAM)
    with Image.open(io.BytesIO(data)) as jpeg:
        assert jpeg.format == "JPEG" and jpeg.mode == "RGB"
        assert jpeg.getpixel((5, 5)) == (255, 255, 255)  # transparency flattened onto white
        r, g, b = jpeg.getpixel((jpeg.width // 2, jpeg.height // 2))
        assert r > 150 and g < 60 and b < 60
    assert fits(Platform.INSTAGRAM, result) == []
    result, data = render(tmp_path, "image", out.getvalue(), Platform.X)
    assert result["mime"] == "image/png" and Image.open(io.BytesIO(data)).mode == "RGBA"


def test_webp_and_heic_are_converted_to_jpeg_where_only_jpeg_is_taken(tmp_path):
    for fmt in ("WEBP", "HEIF"):
        result, data = render(tmp_path, "image", make_image(fmt, size=(1600, 1200)), Platform.INSTAGRAM)
        assert result["mime"] == "image/jpeg" and data[:3] == b"\xff\xd8\xff"
        assert result["width"] == 1440 and fits(Platform.INSTAGRAM, result) == []


def test_a_wide_icc_profile_is_converted_to_srgb(tmp_path):
    from PIL import ImageCms

    lab_like = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    picture = Image.new("RGB", (400, 400), (10, 200, 30))
    out = io.BytesIO()
    picture.save(out, "JPEG", icc_profile=lab_like.tobytes())
    result, data = render(tmp_path, "image", out.getvalue(), Platform.FACEBOOK)
    with Image.open(io.BytesIO(data)) as jpeg:
        assert "icc_profile" not in jpeg.info  # converted, then no profile: sRGB is assumed
        r, g, b = jpeg.getpixel((200, 200))
        assert abs(g - 200) < 8 and r < 30


def test_a_13_mb_photo_is_brought_under_facebooks_limit(tmp_path):
    data = noisy_jpeg((4200, 3100))
    assert len(data) > 13 * MB
    result, out = render(tmp_path, "image", data, Platform.FACEBOOK)
    assert result["size"] == len(out) <= RULES[Platform.FACEBOOK].image_max_bytes
    assert result["width"] <= 2048 and fits(Platform.FACEBOOK, result) == []


def test_the_crop_follows_the_focal_point(tmp_path):
    picture = Image.new("RGB", (3000, 1000), (0, 0, 255))
    picture.paste((255, 0, 0), (2500, 0, 3000, 1000))  # red on the right edge
    out = io.BytesIO()
    picture.save(out, "PNG")
    _, centred = render(tmp_path, "image", out.getvalue(), Platform.INSTAGRAM)
    _, right = render(tmp_path, "image", out.getvalue(), Platform.INSTAGRAM, image.Settings(focal=(0.95, 0.5)))
    assert Image.open(io.BytesIO(centred)).getpixel((1430, 300))[2] > 200  # blue: the middle
    assert Image.open(io.BytesIO(right)).getpixel((1430, 300))[0] > 200  # red: the right side


def test_a_corrupt_file_and_a_timeout_fail_with_the_reason(tmp_path):
    data = noisy_jpeg((400, 300))
    with pytest.raises(runner.RenditionError) as broken:
        render(tmp_path, "image", b"\xff\xd8\xff\xe0" + os.urandom(2000), Platform.INSTAGRAM)
    assert "UnidentifiedImageError" in str(broken.value) or "OSError" in str(broken.value)
    with pytest.raises(runner.RenditionError, match="timed out"):
        render(tmp_path, "image", data, Platform.INSTAGRAM, timeout=0.001)


# -- Videos ----------------------------------------------------------------------------------


def test_a_60_fps_landscape_clip_is_reencoded_for_facebook_with_moov_first(tmp_path):
    clip = make_video(size=(640, 360), fps=60, frames=190)  # 3.2 s
    result, data = render(tmp_path, "video", clip, Platform.FACEBOOK)
    assert data.index(b"moov") < data.index(b"mdat")  # faststart
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.average_rate == 30
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 360)
    assert result["fps"] == 30 and abs(result["duration"] - 3.17) < 0.1
    assert fits(Platform.FACEBOOK, result) == []


def test_the_sound_is_resampled_to_48_khz_stereo_aac(tmp_path):
    from bench.renditions import _clip

    source = tmp_path / "with-sound.mp4"
    _clip(source, (320, 180), 25, 3.2)  # H.264 with an AAC stereo track
    result, data = render(tmp_path, "video", source.read_bytes(), Platform.INSTAGRAM)
    with av.open(io.BytesIO(data)) as container:
        [sound] = container.streams.audio
        assert sound.codec_context.name == "aac" and sound.rate == 48_000 and sound.channels == 2
        assert abs(float(sound.duration * sound.time_base) - 3.2) < 0.15
    assert fits(Platform.INSTAGRAM, result) == []


def test_a_very_tall_clip_is_letterboxed_or_cropped_into_xs_range(tmp_path):
    clip = make_video(size=(160, 640), fps=25, frames=20)  # 1:4, X takes 1:3 at most
    result, data = render(tmp_path, "video", clip, Platform.X)
    assert result["changes"]["letterboxed"] and abs(result["width"] / result["height"] - 1 / 3) < 0.02
    result, _ = render(tmp_path, "video", clip, Platform.X, video.Settings(fit="crop"))
    assert result["changes"]["cropped"] and (result["width"], result["height"]) == (160, 480)


# -- Rules -----------------------------------------------------------------------------------


def test_profiles_change_with_the_rules():
    from dataclasses import replace

    from app.renditions import service

    before = service.profile(Platform.INSTAGRAM)
    original = RULES[Platform.INSTAGRAM]
    RULES[Platform.INSTAGRAM] = replace(original, image_width=(320, 1080))
    try:
        assert service.profile(Platform.INSTAGRAM) != before
    finally:
        RULES[Platform.INSTAGRAM] = original
    assert before.startswith("instagram-") and service.profile(Platform.INSTAGRAM) == before


# -- The walk: real files, approved, published through the Make emulator ----------------------


@pytest.fixture
def stack(servers, tmp_path):
    from tests.publishing_stack import PublishingStack

    stack = PublishingStack(
        servers, SCHEDULER_RELAY_INTERVAL_S=0.1, MEDIA_ROOT=str(tmp_path / "media"), RENDITION_WAIT_S=0.2
    )
    yield stack
    stack.close()


def _upload(data: bytes, name: str, user) -> int:
    from app.media import processing, uploads

    received = uploads.receive(io.BytesIO(data), name, len(data))
    asset, _ = uploads.add_asset(received, user)
    db.session.commit()
    processing.process(asset.id)
    db.session.commit()
    asset = db.session.get(MediaAsset, asset.id)
    assert asset.status is MediaStatus.READY, asset.failure_reason
    return asset.id


def _seed(stack, media: dict[str, bytes]):
    from app.auth import service as accounts

    with stack.app.app_context():
        editor = accounts.create_user(
            f"e{uuid.uuid4().hex[:6]}@example.org", "Editor", Role.EDITOR, "an editor password"
        )
        approver = accounts.create_user(
            f"a{uuid.uuid4().hex[:6]}@example.org", "Approver", Role.APPROVER, "an approver password"
        )
        campaign = Campaign(name="Salon 2026")
        db.session.add(campaign)
        db.session.flush()
        scenarios = []
        for platform in (Platform.INSTAGRAM, Platform.FACEBOOK):
            account = SocialAccount(
                platform=platform,
                label=platform.value,
                make_connection_id=77,
                account_identifier=f"{uuid.uuid4().int % 10**12}",
            )
            db.session.add(account)
            db.session.flush()
            make_id, url = stack.provision(f"cms-test-c{campaign.id}-a{account.id}-{platform.value}")
            scenario = CampaignScenario(
                campaign_id=campaign.id,
                social_account_id=account.id,
                make_scenario_id=make_id,
                webhook_url=url,
                status=ScenarioStatus.READY,
            )
            db.session.add(scenario)
            db.session.flush()
            scenarios.append(scenario.id)
        db.session.commit()
        editor_id, approver_id, campaign_id = editor.id, approver.id, campaign.id
        editor = db.session.get(User, editor_id)
        asset_ids = {name: _upload(data, name, editor) for name, data in media.items()}
        objects = []
        for name, asset_id in asset_ids.items():
            obj = ContentObject(
                campaign_id=campaign_id,
                title=name,
                message=f"Bonjour {name}",
                status=ObjectStatus.DRAFT,
                author_id=editor_id,
            )
            db.session.add(obj)
            db.session.flush()
            db.session.add(ObjectMedia(object_id=obj.id, media_asset_id=asset_id, position=0))
            db.session.execute(
                object_targets.insert(), [{"object_id": obj.id, "campaign_scenario_id": s} for s in scenarios]
            )
            objects.append(obj.id)
        db.session.commit()
        return editor_id, approver_id, campaign_id, objects


def test_ordinary_files_are_adapted_approved_published_and_served_as_renditions(stack):
    from app.campaigns import objects as posts
    from app.publishing import payload
    from app.reviews import service as reviews
    from app.scheduler import Scheduler

    big = noisy_jpeg((4200, 3100))
    png = io.BytesIO()
    Image.new("RGBA", (1300, 1100), (0, 120, 0, 128)).save(png, "PNG")
    files = {
        "large.jpg": make_image("JPEG", size=(1920, 1280)),
        "logo.png": png.getvalue(),
        "photo-13mb.jpg": big,
        "clip.mp4": make_video(size=(640, 360), fps=60, frames=190),
    }
    editor_id, approver_id, campaign_id, object_ids = _seed(stack, files)
    with stack.app.test_request_context(headers={"Accept-Language": "en"}):
        editor, approver = db.session.get(User, editor_id), db.session.get(User, approver_id)
        for object_id in object_ids:
            obj = db.session.get(ContentObject, object_id)
            found = posts.checks(obj)
            assert all(not check.problems for check in found), [c.problems for c in found]
            posts.submit(obj, actor=editor)  # was refused before: now adapted
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Rendition)) == 8  # 4 files x 2 networks
        for object_id in object_ids:
            reviews.approve(db.session.get(ContentObject, object_id), by=approver)
        db.session.commit()
    worker = dramatiq.Worker(stack.app.extensions["dramatiq"], worker_threads=2)
    worker.start()
    scheduler = Scheduler(stack.app).start()
    try:

        def statuses():
            with stack.app.app_context():
                return dict(
                    db.session.execute(
                        sa.select(Publication.status, sa.func.count()).group_by(Publication.status)
                    ).all()
                )

        stack.wait_for(lambda: statuses() == {PublicationStatus.PUBLISHED: 8}, 240, interval=0.5)
    finally:
        scheduler.stop()
        worker.stop()
    assert stack.emulator("posts")["max_per_key"] == 1
    with stack.app.app_context():
        assert set(db.session.scalars(sa.select(Rendition.status))) == {RenditionStatus.READY}
        for publication in db.session.scalars(sa.select(Publication)):
            platform = db.session.scalar(
                sa.select(SocialAccount.platform)
                .join(CampaignScenario)
                .where(CampaignScenario.id == publication.campaign_scenario_id)
            )
            body = payload.build(publication)
            [item] = body["media"]
            assert "/m/r/" in item["url"]
            response = httpx.get(item["url"], timeout=30)
            assert response.status_code == 200 and response.headers["content-type"] == item["mime"]
            if item["mime"].startswith("video/"):
                assert response.content.index(b"moov") < response.content.index(b"mdat")
                assert item["mime"] == "video/mp4"
                continue
            picture = Image.open(io.BytesIO(response.content))
            assert picture.format == "JPEG" and len(response.content) == item["size"]
            assert (picture.width, picture.height) == (item["width"], item["height"])
            result = {"mime": item["mime"], "size": item["size"], "width": item["width"], "height": item["height"]}
            assert fits(platform, result) == [], (platform, item)


def test_the_sender_waits_for_a_missing_rendition_and_fails_on_a_failed_one(stack):
    from app.publishing import sender
    from app.reviews import service as reviews

    editor_id, approver_id, _, [object_id] = _seed(stack, {"a.jpg": make_image("JPEG", size=(1920, 1280))})
    with stack.app.app_context():
        reviews_obj = db.session.get(ContentObject, object_id)
        reviews_obj.status = ObjectStatus.IN_REVIEW
        reviews.approve(reviews_obj, by=db.session.get(User, approver_id))
        db.session.commit()
        ids = list(db.session.scalars(sa.select(Publication.id).order_by(Publication.id)))
        assert sender.send(ids[0]) == "waiting"  # nothing sent, the original least of all
        publication = db.session.get(Publication, ids[0])
        assert publication.status is PublicationStatus.PENDING and publication.attempts == 0
        assert publication.first_attempt_at is None and "rendition" in publication.last_error
        assert stack.emulator("deliveries")["deliveries"] == []
        rendition = db.session.scalar(
            sa.select(Rendition).where(Rendition.id == db.session.scalar(sa.select(sa.func.min(Rendition.id))))
        )
        rendition.status, rendition.failure_reason = RenditionStatus.FAILED, "OSError: broken data stream"
        db.session.commit()
        platform_of_first = db.session.scalar(
            sa.select(SocialAccount.platform)
            .join(CampaignScenario)
            .where(CampaignScenario.id == publication.campaign_scenario_id)
        )
        failed_id = next(
            p.id
            for p in db.session.scalars(sa.select(Publication))
            if db.session.scalar(
                sa.select(SocialAccount.platform)
                .join(CampaignScenario)
                .where(CampaignScenario.id == p.campaign_scenario_id)
            ).value
            == rendition.profile.split("-")[0]
        )
        db.session.execute(sa.update(Publication).values(next_attempt_at=None))
        db.session.commit()
        assert sender.send(failed_id) == "failed"
        failed = db.session.get(Publication, failed_id)
        assert "could not be adapted" in failed.last_error and "broken data stream" in failed.last_error
        assert platform_of_first is not None
        assert stack.emulator("deliveries")["deliveries"] == []


def test_renditions_are_reused_and_their_files_swept_with_the_orphans(stack):
    from app.media import service as media, sweeper
    from app.media.links import signed_rendition_url
    from app.renditions import service

    _, _, _, [object_id] = _seed(stack, {"b.jpg": make_image("JPEG", size=(1920, 1280))})
    with stack.app.app_context():
        asset = db.session.scalar(sa.select(MediaAsset))
        first = service.request(asset, Platform.INSTAGRAM)
        db.session.commit()
        assert service.request(asset, Platform.INSTAGRAM).id == first.id  # one per key
        assert service.make(first.id) == "ready"
        assert service.make(first.id) == "skipped"  # twice: harmless
        rendition = db.session.get(Rendition, first.id)
        url = signed_rendition_url(rendition)
        part = httpx.get(url, headers={"Range": "bytes=0-9"}, timeout=10)
        assert (
            part.status_code == 206 and part.content == b"\xff\xd8\xff" + part.content[3:] and len(part.content) == 10
        )
        assert httpx.get(url[:-3] + "abc", timeout=10).status_code == 404
        stack.app.config["MEDIA_LINK_MAX_AGE"] = -1
        assert httpx.get(url, timeout=10).status_code == 410
        folder = sweeper.media_root() / "objects" / rendition.storage_item_id
        assert folder.is_dir()
        stack.app.config["MEDIA_ORPHAN_MIN_AGE_S"] = 0
        sweeper.sweep_local()
        assert folder.is_dir()  # its row holds it
        db.session.execute(sa.delete(ObjectMedia))
        media.delete_asset(db.session.get(MediaAsset, asset.id), None)
        db.session.commit()
        sweeper.sweep_local()
        assert not folder.exists()


def test_a_focal_point_per_version_moves_the_crop_and_makes_its_own_rendition(stack):
    from app.renditions import service
    from app.storage import get_storage

    picture = Image.new("RGB", (3000, 1000), (0, 0, 255))
    picture.paste((255, 0, 0), (2500, 0, 3000, 1000))  # red on the right edge
    out = io.BytesIO()
    picture.save(out, "PNG")
    _seed(stack, {"wide.png": out.getvalue()})

    def pixel(rendition):
        data = b"".join(
            get_storage(rendition.storage_backend).read(rendition.storage_item_id, rendition.storage_version)
        )
        return Image.open(io.BytesIO(data)).getpixel((1430, 300))

    with stack.app.app_context():
        asset = db.session.scalar(sa.select(MediaAsset))
        centred = service.request(asset, Platform.INSTAGRAM)
        service.set_focal_point(asset, 0.95, 0.5)
        db.session.commit()
        moved = service.request(asset, Platform.INSTAGRAM)
        db.session.commit()
        assert moved.id != centred.id and moved.crop == "focal-0.950-0.500" and centred.crop == "auto"
        assert service.make(centred.id) == "ready" and service.make(moved.id) == "ready"
        assert pixel(db.session.get(Rendition, centred.id))[2] > 200  # blue: the middle
        assert pixel(db.session.get(Rendition, moved.id))[0] > 200  # red: around the focal point
        with pytest.raises(ValueError):
            service.set_focal_point(asset, 1.5, 0.5)
        asset.version += 1  # a new file: back to the centre
        assert service.focal_point(asset) == (0.5, 0.5)
        db.session.rollback()
