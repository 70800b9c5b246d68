"""Processing on the real pipeline: uploads through the app, the message leaves after the commit
on the Redis broker, a Dramatiq worker measures the files and makes the previews."""

import hashlib
import time
import uuid
from decimal import Decimal

import dramatiq
import pytest
import sqlalchemy as sa
from PIL import Image

from app.auth import service as accounts
from app.extensions import db
from app.media import processing
from app.models import MediaAsset, MediaStatus, Role
from tests.conftest import PASSWORD, SESSION_TAG, csrf_token, create_migrated_database, drop_database, make_test_app
from tests.media_support import EN, image, pdf, truncated_jpeg, upload, video


@pytest.fixture(scope="module")
def pipeline(servers, tmp_path_factory):
    url = create_migrated_database(servers)
    root = tmp_path_factory.mktemp("media")
    app = make_test_app(servers, url, MEDIA_ROOT=str(root), DRAMATIQ_NAMESPACE=f"cms-test-{SESSION_TAG}:media")
    with app.app_context():
        email = f"editor-{uuid.uuid4().hex[:6]}@example.org"
        accounts.create_user(email, "Éditrice", Role.EDITOR, PASSWORD)
        db.session.commit()
    worker = dramatiq.Worker(app.extensions["dramatiq"], worker_threads=2)
    worker.start()
    try:
        yield app, root, email
    finally:
        worker.stop()
        app.extensions["dramatiq"].flush_all()
        with app.app_context():
            db.engine.dispose()
        drop_database(servers.database_url, url)


@pytest.fixture
def client(pipeline):
    app, _, email = pipeline
    client = app.test_client()
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    return client


def settle(app, ids, timeout=60):
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            assets = {a.id: a for a in db.session.scalars(sa.select(MediaAsset).where(MediaAsset.id.in_(ids)))}
            if all(a.status is not MediaStatus.PROCESSING for a in assets.values()):
                return assets
            db.session.rollback()
            time.sleep(0.1)
    raise AssertionError("processing did not finish")


def send(client, files):
    ids = {}
    for name, data in files.items():
        response = upload(client, data, name)
        assert response.status_code == 200, response.get_data(as_text=True)
        ids[name] = response.get_json()["id"]
    return ids


def test_images_get_dimensions_thumbnail_and_preview(pipeline, client):
    app, root, _ = pipeline
    ids = send(
        client,
        {
            "rotated.jpg": image("JPEG", size=(64, 48), exif_orientation=6),
            "large.jpg": image("JPEG", size=(1600, 1200)),
            "shot.png": image("PNG", size=(80, 60)),
            "web.webp": image("WEBP", size=(90, 30)),
            "anim.gif": image("GIF", size=(40, 40)),
            "iphone.heic": image("HEIF", size=(120, 90)),
        },
    )
    assets = settle(app, ids.values())
    expected = {
        "rotated.jpg": (48, 64),
        "large.jpg": (1600, 1200),
        "shot.png": (80, 60),
        "web.webp": (90, 30),
        "anim.gif": (40, 40),
        "iphone.heic": (120, 90),
    }
    for name, size in expected.items():
        asset = assets[ids[name]]
        assert asset.status is MediaStatus.READY, (name, asset.failure_reason)
        assert (asset.width, asset.height) == size, name
        with Image.open(root / asset.thumb_path) as thumb, Image.open(root / asset.preview_path) as preview:
            assert thumb.format == preview.format == "WEBP"
            assert max(thumb.size) <= processing.THUMB_SIZE and max(preview.size) <= processing.PREVIEW_SIZE
            assert (thumb.width > thumb.height) == (size[0] > size[1]) or size[0] == size[1]
    with Image.open(root / assets[ids["large.jpg"]].thumb_path) as thumb:
        assert thumb.size == (320, 240)
    response = client.get(f"/media/{ids['large.jpg']}/thumb")
    assert response.status_code == 200 and response.mimetype == "image/webp"
    assert "private" in response.headers["Cache-Control"]


def test_videos_get_duration_frame_rate_codec_and_a_poster(pipeline, client):
    app, root, _ = pipeline
    ids = send(
        client,
        {
            "clip.mp4": video("mp4", "libx264", size=(64, 48), fps=25, frames=50),
            "camera.mov": video("mov", "mpeg4", size=(96, 64), fps=30, frames=30),
            "web.webm": video("webm", "libvpx", size=(80, 48), fps=24, frames=48),
            "portrait.mp4": video("mp4", "libx264", size=(96, 48), fps=30, frames=15, rotation=90),
        },
    )
    assets = settle(app, ids.values())
    expected = {
        "clip.mp4": ((64, 48), Decimal("2.0"), Decimal("25"), "h264"),
        "camera.mov": ((96, 64), Decimal("1.0"), Decimal("30"), "mpeg4"),
        "web.webm": ((80, 48), Decimal("2.0"), Decimal("24"), "vp8"),
        "portrait.mp4": ((48, 96), Decimal("0.5"), Decimal("30"), "h264"),
    }
    for name, (size, duration, rate, codec) in expected.items():
        asset = assets[ids[name]]
        assert asset.status is MediaStatus.READY, (name, asset.failure_reason)
        assert (asset.width, asset.height) == size
        assert abs(asset.duration_s - duration) <= Decimal("0.1"), (name, asset.duration_s)
        assert asset.frame_rate == rate and asset.video_codec == codec
        with Image.open(root / asset.preview_path) as poster:
            assert poster.size == size  # a frame of the video, never enlarged
    html = client.get(f"/media/{ids['clip.mp4']}", headers=EN).get_data(as_text=True)
    assert "<video controls" in html and "0:02" in html and "25&nbsp;frames/s" in html and "h264" in html
    # Numbers in the reader's locale: a decimal comma in French.
    with app.app_context():
        db.session.execute(
            sa.update(MediaAsset).where(MediaAsset.id == ids["camera.mov"]).values(frame_rate=Decimal("29.97"))
        )
        db.session.commit()
    french = client.get(f"/media/{ids['camera.mov']}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "29,97&nbsp;images/s" in french


def test_pdf_gets_its_page_count_and_first_page(pipeline, client):
    app, root, _ = pipeline
    ids = send(client, {"brochure.pdf": pdf(pages=3)})
    asset = settle(app, ids.values())[ids["brochure.pdf"]]
    assert asset.status is MediaStatus.READY and asset.page_count == 3
    with Image.open(root / asset.preview_path) as page:
        assert page.height == processing.PREVIEW_SIZE and abs(page.width / page.height - 595 / 842) < 0.01


def stored_unchecked(app, files):
    """Assets whose stored files cannot be decoded, which the upload's check refuses: put in
    storage directly, as a file damaged in storage (or a version found in SharePoint) is."""
    from app.media.sniff import sniff
    from app.storage import get_storage, media_root
    from app.tasks import send_after_commit
    from app.tasks.media import process_media

    ids = {}
    with app.app_context():
        storage = get_storage()
        for name, data in files.items():
            source = media_root() / "tmp" / f"unchecked-{uuid.uuid4().hex}"
            source.parent.mkdir(parents=True, exist_ok=True)
            source.write_bytes(data)
            stored, found = storage.put(source, name=name), sniff(data)
            asset = MediaAsset(
                title=name,
                filename=name,
                mime=found.mime,
                kind=found.kind,
                size_bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                storage_backend=storage.backend,
                storage_item_id=stored.ref,
                storage_version=stored.id,
                status=MediaStatus.PROCESSING,
            )
            db.session.add(asset)
            db.session.flush()
            ids[name] = asset.id
            send_after_commit(db.session(), process_media, asset.id)
        db.session.commit()
    return ids


def test_corrupt_files_fail_with_the_reason(pipeline, client):
    app, root, _ = pipeline
    fake_mp4 = video()[:32] + bytes(range(256)) * 40  # an MP4 header, then noise
    ids = stored_unchecked(app, {"broken.jpg": truncated_jpeg(), "broken.mp4": fake_mp4})
    assets = settle(app, ids.values())
    for name in ids:
        asset = assets[ids[name]]
        assert asset.status is MediaStatus.FAILED and asset.failure_reason, name
        assert str(root) not in asset.failure_reason and asset.thumb_path is None
    assert "truncated" in assets[ids["broken.jpg"]].failure_reason
    card = client.get(f"/media/{ids['broken.jpg']}/card", headers={"HX-Request": "true", **EN})
    assert card.status_code == 286 and "Failed" in card.get_data(as_text=True)
    assert "hx-trigger" not in card.get_data(as_text=True)
    page = client.get(f"/media/{ids['broken.jpg']}", headers=EN).get_data(as_text=True)
    assert "Processing failed." in page and "truncated" in page


def test_a_replaced_file_is_processed_again_and_old_previews_go(pipeline, client):
    app, root, _ = pipeline
    asset_id = send(client, {"poster.png": image("PNG", size=(100, 50), color=(9, 9, 9))})["poster.png"]
    first = settle(app, [asset_id])[asset_id]
    old_thumb = first.thumb_path
    response = upload(
        client, image("PNG", size=(50, 100), color=(8, 8, 8)), "poster.png", url=f"/media/{asset_id}/file"
    )
    assert response.status_code == 200
    second = settle(app, [asset_id])[asset_id]
    assert second.status is MediaStatus.READY and second.version == 2 and (second.width, second.height) == (50, 100)
    assert second.thumb_path != old_thumb and not (root / old_thumb).exists() and (root / second.thumb_path).exists()


def test_processing_twice_changes_nothing(pipeline, client):
    app, _, _ = pipeline
    asset_id = send(client, {"twice.gif": image("GIF", size=(30, 20), color=(4, 4, 4))})["twice.gif"]
    before = settle(app, [asset_id])[asset_id]
    with app.app_context():
        processing.process(asset_id)  # a redelivered message
        db.session.commit()
        after = db.session.get(MediaAsset, asset_id)
        assert (after.updated_at, after.thumb_path, after.status) == (
            before.updated_at,
            before.thumb_path,
            before.status,
        )
