"""Uploads through the Flask stack: every accepted type, every refusal with its message and
nothing left behind, size limits enforced while the body streams, duplicates, replacements."""

import io
import json

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.media.sniff import clean_filename
from app.media.uploads import CHUNK
from app.models import AuditEvent, MediaAsset, MediaKind
from tests.conftest import csrf_token
from tests.media_support import (
    AVIF_HEAD,
    EN,
    HTML,
    SVG,
    editor,  # noqa: F401 (a fixture)
    image,
    media_root,  # noqa: F401 (a fixture)
    noisy_jpeg,
    pdf,
    png_header_only,
    stored_files,
    upload,
    upload_headers,
    video,
)

ACCEPTED = [
    ("photo.jpg", lambda: image("JPEG"), "image/jpeg", MediaKind.IMAGE),
    ("scan.PNG", lambda: image("PNG"), "image/png", MediaKind.IMAGE),
    ("web.webp", lambda: image("WEBP"), "image/webp", MediaKind.IMAGE),
    ("anim.gif", lambda: image("GIF"), "image/gif", MediaKind.IMAGE),
    ("iphone.heic", lambda: image("HEIF"), "image/heic", MediaKind.IMAGE),
    ("clip.mp4", lambda: video("mp4", "libx264"), "video/mp4", MediaKind.VIDEO),
    ("camera.mov", lambda: video("mov", "mpeg4"), "video/quicktime", MediaKind.VIDEO),
    ("web.webm", lambda: video("webm", "libvpx"), "video/webm", MediaKind.VIDEO),
    ("brochure.pdf", lambda: pdf(), "application/pdf", MediaKind.DOCUMENT),
    ("no-extension", lambda: image("PNG", color=(1, 2, 3)), "image/png", MediaKind.IMAGE),
]


def _count(model=MediaAsset):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize("name,make,mime,kind", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_accepted_types_are_stored_and_queued_for_processing(app, client, editor, media_root, name, make, mime, kind):
    data = make()
    response = upload(client, data, name)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["duplicate"] is False and body["message"] == "Uploaded; previews are being made."
    assert f'id="tile-{body["id"]}"' in body["tile"] and "hx-trigger=\"every 2s\"" in body["tile"]
    with app.app_context():
        asset = db.session.get(MediaAsset, body["id"])
        assert (asset.mime, asset.kind, asset.size_bytes, asset.filename) == (mime, kind, len(data), name)
        assert asset.status.value == "processing" and asset.version == 1 and asset.storage_version == "1"
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.subject_type == "media_assets", AuditEvent.subject_id == asset.id)
        ).all()
        assert [e.action for e in events] == ["media.uploaded"]
    files = stored_files(media_root)
    assert len(files) == 1 and files[0].read_bytes() == data
    assert files[0].relative_to(media_root).parts[0] == "objects"


REFUSED = [
    (
        "notes.txt",
        b"Just some words.\n" * 10,
        415,
        "This type of file is not accepted. Accepted types: JPEG, PNG, WebP, GIF, HEIC, MP4, MOV, WebM, PDF.",
    ),
    ("logo.svg", SVG, 415, "SVG and HTML files are refused: they can carry scripts."),
    ("logo.png", SVG, 415, "SVG and HTML files are refused: they can carry scripts."),
    ("page.html", HTML, 415, "SVG and HTML files are refused: they can carry scripts."),
    (
        "film.mkv",
        None,
        415,
        "This type of file is not accepted. Accepted types: JPEG, PNG, WebP, GIF, HEIC, MP4, MOV, WebM, PDF.",
    ),
    (
        "photo.avif",
        AVIF_HEAD,
        415,
        "This type of file is not accepted. Accepted types: JPEG, PNG, WebP, GIF, HEIC, MP4, MOV, WebM, PDF.",
    ),
    ("photo.jpg", None, 422, "The content of “photo.jpg” is PDF, which contradicts its name."),
    ("clip.mp4", None, 422, "The content of “clip.mp4” is PNG, which contradicts its name."),
    ("empty.jpg", b"", 400, "The file is empty."),
    ("bomb.png", png_header_only(30000, 30000), 422, "The image has too many pixels: the limit is 80 million."),
]
MAKERS = {"film.mkv": lambda: video("matroska", "libx264"), "photo.jpg": pdf, "clip.mp4": lambda: image("PNG")}


@pytest.mark.parametrize("name,data,status,message", REFUSED, ids=[r[0] + "-" + str(r[2]) for r in REFUSED])
def test_refused_uploads_say_why_and_leave_nothing(app, client, editor, media_root, name, data, status, message):
    data = MAKERS[name]() if data is None else data
    response = upload(client, data, name)
    assert response.status_code == status
    assert response.get_json() == {"error": message}
    assert stored_files(media_root) == []
    with app.app_context():
        assert _count() == 0


def test_pixel_limit_is_configurable(app, client, editor, media_root, monkeypatch):
    monkeypatch.setitem(app.config, "MEDIA_MAX_IMAGE_PIXELS", 2_000_000)
    big = image("PNG", size=(2000, 1500))
    response = upload(client, big, "big.png")
    assert response.status_code == 422
    assert response.get_json()["error"] == "The image has too many pixels: the limit is 2 million."
    assert upload(client, image("PNG", size=(1000, 1000)), "ok.png").status_code == 200


class CountingStream(io.RawIOBase):
    """A body of `size` bytes made on demand (never held in memory); counts what was read."""

    def __init__(self, head: bytes, size: int):
        self.head, self.size, self.read_bytes = head, size, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.size - self.read_bytes)
        if n <= 0:
            return 0
        start = self.read_bytes
        chunk = (self.head[start : start + n] if start < len(self.head) else b"").ljust(n, b"\0")
        buffer[:n] = chunk
        self.read_bytes += n
        return n


def _stream_upload(client, body, name, content_length):
    """Hand `body` to the app as the socket stream (the test client would read it whole first)."""
    environ = {"wsgi.input": body, "CONTENT_LENGTH": "" if content_length is None else str(content_length)}
    if content_length is None:  # a chunked body: the server terminates the stream
        environ.update({"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    return client.post(
        "/media/upload",
        content_type="application/octet-stream",
        headers=upload_headers(client, name),
        environ_overrides=environ,
    )


def test_size_limit_is_checked_while_streaming_without_content_length(app, client, editor, media_root, monkeypatch):
    monkeypatch.setitem(app.config, "MEDIA_MAX_IMAGE_BYTES", 3 * CHUNK)
    body = CountingStream(noisy_jpeg((64, 64)), 200 * CHUNK)  # 200 MiB announced by nothing
    response = _stream_upload(client, body, "huge.jpg", None)
    assert response.status_code == 413
    assert response.get_json() == {"error": "JPEG files are limited to 3\u00a0MB."}
    assert body.read_bytes <= 5 * CHUNK  # stopped at the limit, far before the end of the body
    assert stored_files(media_root) == []


def test_a_body_larger_than_every_limit_is_refused_before_reading(app, client, editor, media_root):
    body = CountingStream(video(), 3 * 1024**3)
    response = _stream_upload(client, body, "huge.mp4", 3 * 1024**3)
    assert response.status_code == 413
    assert response.get_json() == {"error": "The file is larger than the largest accepted size (2\u00a0GB)."}
    assert body.read_bytes == 0 and stored_files(media_root) == []


def test_a_declared_length_over_the_kind_limit_is_refused_after_the_first_chunk(
    app, client, editor, media_root, monkeypatch
):
    monkeypatch.setitem(app.config, "MEDIA_MAX_DOCUMENT_BYTES", 10 * CHUNK)
    body = CountingStream(pdf(), 100 * CHUNK)
    response = _stream_upload(client, body, "big.pdf", 100 * CHUNK)
    assert response.status_code == 413 and response.get_json() == {"error": "PDF files are limited to 10\u00a0MB."}
    assert body.read_bytes <= 64 * 1024 and stored_files(media_root) == []


def test_an_interrupted_body_leaves_nothing(app, client, editor, media_root):
    data = image("PNG")
    body = CountingStream(data, len(data))
    response = _stream_upload(client, body, "cut.png", len(data) + 1000)  # the client went away
    assert response.status_code == 400
    assert response.get_json() == {"error": "The upload was interrupted before the end of the file."}
    assert stored_files(media_root) == []
    with app.app_context():
        assert _count() == 0


def test_a_form_post_is_not_an_upload(app, client, editor, media_root):
    response = client.post(
        "/media/upload",
        data={"file": (io.BytesIO(image("PNG")), "a.png")},
        headers={"X-CSRFToken": upload_headers(client, "a.png")["X-CSRFToken"], **EN},
    )
    assert response.status_code == 415
    assert "raw body" in response.get_json()["error"]
    assert not media_root.exists()


def test_the_same_bytes_twice_point_to_the_existing_asset(app, client, editor, media_root):
    data = image("JPEG", color=(10, 200, 10))
    first = upload(client, data, "summer.jpg").get_json()
    second = upload(client, data, "copy of summer.jpg")
    assert second.status_code == 200
    body = second.get_json()
    assert body["id"] == first["id"] and body["duplicate"] is True
    assert body["message"] == "Already in the library as “summer”: the existing file is used, nothing was copied."
    assert len(stored_files(media_root)) == 1
    with app.app_context():
        assert _count() == 1


@pytest.mark.parametrize(
    "raw,clean",
    [
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("C:\\Users\\me\\Pictures\\photo.jpg", "photo.jpg"),
        ("bad\x00name\x07.jpg", "badname.jpg"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("  Été   2026 .jpg ", "Été 2026 .jpg"),
        ("...", "file"),
        ("a" * 300 + ".jpeg", "a" * 195 + ".jpeg"),
    ],
)
def test_filenames_are_sanitised(raw, clean):
    assert clean_filename(raw) == clean


def test_the_sanitised_name_is_kept_for_display_and_never_used_as_a_path(app, client, editor, media_root):
    response = upload(client, image("JPEG"), "../../../tmp/Été\u202e 2026.jpg")
    with app.app_context():
        asset = db.session.get(MediaAsset, response.get_json()["id"])
        assert asset.filename == "Été 2026.jpg" and asset.title == "Été 2026"
    assert all(media_root in f.parents for f in stored_files(media_root))


def test_replacing_the_file_keeps_the_old_one_as_a_version(app, client, editor, media_root):
    first, second = image("JPEG", color=(1, 1, 1)), image("PNG", color=(2, 2, 2))
    asset_id = upload(client, first, "poster.jpg").get_json()["id"]
    response = upload(client, second, "poster-v2.png", url=f"/media/{asset_id}/file")
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        asset = db.session.get(MediaAsset, asset_id)
        assert (asset.version, asset.storage_version, asset.mime, asset.filename) == (
            2,
            "2",
            "image/png",
            "poster-v2.png",
        )
        actions = db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.subject_type == "media_assets", AuditEvent.subject_id == asset_id)
            .order_by(AuditEvent.id)
        ).all()
        assert actions == ["media.uploaded", "media.replaced"]
    assert sorted(f.read_bytes() for f in stored_files(media_root)) == sorted([first, second])
    html = client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert "Version 2" in html and "Version 1" in html and "current" in html
    old = client.get(f"/media/{asset_id}/file?version=1")
    assert old.data == first and old.headers["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize("case", ["other-kind", "same-bytes", "bytes-of-another-asset"])
def test_a_refused_replacement_changes_nothing(app, client, editor, media_root, case):
    original, other = image("JPEG", color=(5, 5, 5)), image("JPEG", color=(6, 6, 6))
    asset_id = upload(client, original, "a.jpg").get_json()["id"]
    upload(client, other, "b.jpg")
    new = {"other-kind": pdf(), "same-bytes": original, "bytes-of-another-asset": other}[case]
    response = upload(client, new, "new.pdf" if case == "other-kind" else "new.jpg", url=f"/media/{asset_id}/file")
    assert response.status_code in (409, 422)
    assert json.loads(response.data)["error"]
    with app.app_context():
        asset = db.session.get(MediaAsset, asset_id)
        assert asset.version == 1 and asset.filename == "a.jpg"
    assert len(stored_files(media_root)) == 2


def test_approvers_cannot_upload(app, client, auth, media_root):
    auth.login("approver")
    response = client.post(
        "/media/upload",
        data=image("PNG"),
        content_type="application/octet-stream",
        headers={"X-Filename": "a.png", "X-CSRFToken": csrf_token(client, "/reviews/"), "Accept": "application/json"},
    )
    assert response.status_code == 403
    assert stored_files(media_root) == []


def test_replacing_a_file_sends_the_approved_posts_using_it_back_to_review(app, client, editor, media_root):
    from app.models import Campaign, ContentObject, ObjectMedia, ObjectStatus

    asset_id = upload(client, image("JPEG", color=(9, 9, 9)), "visuel.jpg").get_json()["id"]
    with app.app_context():
        obj = ContentObject(campaign=Campaign(name="c"), title="t", message="m", status=ObjectStatus.APPROVED)
        db.session.add(obj)
        db.session.flush()
        db.session.add(ObjectMedia(object_id=obj.id, media_asset_id=asset_id, position=0))
        db.session.commit()
        object_id = obj.id
    assert (
        upload(client, image("JPEG", color=(8, 8, 8)), "visuel-v2.jpg", url=f"/media/{asset_id}/file").status_code
        == 200
    )
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.IN_REVIEW
