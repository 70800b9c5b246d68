"""Static files under content-hashed names, compressed and cached for a year; pages compressed;
thumbnails cacheable by the browser with a validator that changes with the asset's version."""

import gzip
import re
from pathlib import Path

from PIL import Image

from app.extensions import db
from app.models import MediaAsset
from app.static_files import hashed_name
from app.storage import media_root
from tests.media_support import EN, editor  # noqa: F401
from tests.test_media_library import make_asset


def _asset_link(html: str, name: str) -> str:
    stem, ext = name.rsplit(".", 1)
    return re.search(rf'"(/static/{re.escape(stem)}\.[0-9a-f]{{12}}\.{ext})"', html).group(1)


def test_pages_link_hashed_names_served_compressed_and_immutable(app, client):
    page = client.get("/login", headers=EN).get_data(as_text=True)
    link = _asset_link(page, "htmx.min.js")
    original = (Path(app.static_folder) / "htmx.min.js").read_bytes()
    assert link == "/static/" + hashed_name("htmx.min.js", original)

    plain = client.get(link)
    assert plain.data == original
    assert plain.headers["Cache-Control"] == "max-age=31536000, public, immutable"
    zipped = client.get(link, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == original and len(zipped.data) < len(original) / 2
    brotli = client.get(link, headers={"Accept-Encoding": "br, gzip"})
    assert brotli.headers["Content-Encoding"] == "br" and len(brotli.data) < len(zipped.data)

    # The plain name still answers (an old page, a bookmark), but is not cached for long.
    assert client.get("/static/htmx.min.js").headers["Cache-Control"] == "max-age=60, public"
    # A stylesheet of the page as well, and the page itself compressed on the fly.
    assert client.get(_asset_link(page, "app.css")).status_code == 200
    compressed = client.get("/login", headers={"Accept-Encoding": "gzip", **EN})
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert b"<html" in gzip.decompress(compressed.data)


def test_a_changed_file_gets_a_new_name():
    assert hashed_name("app.css", b"a") != hashed_name("app.css", b"b")
    assert re.fullmatch(r"sub/app\.[0-9a-f]{12}\.css", hashed_name("sub/app.css", b"a"))


def test_thumbnails_revalidate_with_an_etag_of_the_version(app, client, editor):
    with app.app_context():
        asset = make_asset("poster")
        asset.thumb_path = f"derived/{asset.id}/thumb.webp"
        (media_root() / asset.thumb_path).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (32, 32), (200, 10, 10)).save(media_root() / asset.thumb_path, "WEBP")
        db.session.commit()
        asset_id = asset.id
    first = client.get(f"/media/{asset_id}/thumb")
    assert first.status_code == 200 and first.headers["Content-Type"] == "image/webp"
    assert first.headers["Cache-Control"] == "max-age=3600, private"
    etag = first.headers["ETag"]
    assert etag == f'"{asset_id}-v1-thumb"'

    again = client.get(f"/media/{asset_id}/thumb", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["Cache-Control"] == "max-age=3600, private"

    with app.app_context():
        db.session.get(MediaAsset, asset_id).version = 2
        db.session.commit()
    replaced = client.get(f"/media/{asset_id}/thumb", headers={"If-None-Match": etag})
    assert replaced.status_code == 200 and replaced.headers["ETag"] != etag
