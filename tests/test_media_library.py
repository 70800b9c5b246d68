"""The library page: keyset pagination, filters kept in the URL, fragments for htmx, live tiles,
the detail page with the campaigns using an asset, and deletion."""
import hashlib
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.media import service
from app.models import (Campaign, ContentObject, MediaAsset, MediaKind, MediaStatus, ObjectMedia, Tag,
                        User, media_tags)
from tests.media_support import EN, editor, image, media_root, stored_files, upload  # noqa: F401

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)


def make_asset(title, *, kind=MediaKind.IMAGE, created_at=T0, status=MediaStatus.READY, uploader=None, tags=()):
    asset = MediaAsset(title=title, filename=title + ".jpg", mime="image/jpeg", kind=kind, size_bytes=10,
                       sha256=hashlib.sha256(title.encode()).hexdigest(), storage_backend="local",
                       status=status, uploaded_by_id=uploader, created_at=created_at)
    db.session.add(asset)
    db.session.flush()
    for name in tags:
        tag = db.session.scalar(sa.select(Tag).where(Tag.normalized == name.casefold())) or Tag(name=name, normalized=name.casefold())
        db.session.add(tag)
        db.session.flush()
        db.session.execute(media_tags.insert().values(media_asset_id=asset.id, tag_id=tag.id))
    return asset


def titles(html):
    return re.findall(r'class="media-title">([^<]+)<', html)


def test_keyset_pages_follow_each_other_without_gaps_or_repeats(app, client, editor):
    with app.app_context():
        for i in range(30):  # ties on created_at are broken by id
            make_asset(f"a{i:02d}", created_at=T0 + timedelta(minutes=i // 2))
        db.session.commit()
    first = client.get("/media/", headers=EN).get_data(as_text=True)
    shown = titles(first)
    assert len(shown) == service.PAGE_SIZE and shown[:3] == ["a29", "a28", "a27"]
    more = re.search(r'hx-get="(/media/\?cursor=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(more, headers={"HX-Request": "true", **EN})
    rest = titles(second.get_data(as_text=True))
    assert b"<html" not in second.data and b"media-listing" not in second.data  # only the next tiles
    assert shown + rest == [f"a{i:02d}" for i in range(29, -1, -1)]
    assert b"load-more" not in second.data


def test_filters_narrow_the_grid_and_stay_in_the_url(app, client, editor):
    with app.app_context():
        someone = db.session.scalar(sa.select(User.id).order_by(User.id.desc()))
        make_asset("beach", tags=["Été 2026"], uploader=someone)
        make_asset("clip", kind=MediaKind.VIDEO, created_at=T0 - timedelta(days=3))
        make_asset("flyer", kind=MediaKind.DOCUMENT, tags=["Salon"], created_at=T0 + timedelta(days=3))
        db.session.commit()
    cases = {"kind=video": ["clip"], "tag=%C3%A9t%C3%A9++2026": ["beach"], f"uploader={someone}": ["beach"],
             "date_from=2026-03-10&date_to=2026-03-10": ["beach"], "date_from=2026-03-11": ["flyer"],
             "kind=document&tag=salon": ["flyer"], "kind=nonsense&date_from=yesterday": ["flyer", "beach", "clip"]}
    for query, expected in cases.items():
        html = client.get("/media/?" + query, headers=EN).get_data(as_text=True)
        assert titles(html) == expected, query
    html = client.get("/media/?kind=video&tag=Salon", headers=EN).get_data(as_text=True)
    assert "Nothing matches these filters" in html and 'value="Salon"' in html
    assert '<option value="video" selected>' in html and "Clear filters" in html


def test_the_filter_form_swaps_the_listing_and_pushes_the_url(app, client, editor):
    page = client.get("/media/", headers=EN).get_data(as_text=True)
    assert 'hx-push-url="true"' in page and 'hx-target="#media-listing"' in page
    assert "instant search (search issue) plugs in here" not in page  # a template comment only
    fragment = client.get("/media/?kind=image", headers={"HX-Request": "true", **EN})
    assert fragment.status_code == 200 and b"<html" not in fragment.data
    assert fragment.data.lstrip().startswith(b'<section id="media-listing"')
    assert "HX-Request" in fragment.headers["Vary"]


def test_empty_library(client, editor):
    html = client.get("/media/", headers=EN).get_data(as_text=True)
    assert "No media yet" in html and "Drop photos, videos or PDFs here" in html


def test_a_processing_tile_polls_until_it_settles(app, client, editor):
    with app.app_context():
        asset = make_asset("busy", status=MediaStatus.PROCESSING)
        db.session.commit()
        asset_id = asset.id
    polled = client.get(f"/media/{asset_id}/card", headers={"HX-Request": "true", **EN})
    assert polled.status_code == 200 and 'hx-trigger="every 2s"' in polled.get_data(as_text=True)
    with app.app_context():
        db.session.get(MediaAsset, asset_id).status = MediaStatus.READY
        db.session.commit()
    done = client.get(f"/media/{asset_id}/card", headers={"HX-Request": "true", **EN})
    assert done.status_code == 286 and "hx-trigger" not in done.get_data(as_text=True)
    assert "Ready" in done.get_data(as_text=True)
    panel = client.get(f"/media/{asset_id}", headers={"HX-Request": "true", **EN})
    assert panel.status_code == 286 and b'id="asset-panel"' in panel.data and b"<html" not in panel.data


def test_the_detail_page_lists_the_campaigns_using_the_asset(app, client, editor, media_root):
    asset_id = upload(client, image("JPEG"), "hero.jpg").get_json()["id"]
    html = client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert "Not used in any campaign yet." in html and "Delete this file" in html
    with app.app_context():
        campaign = Campaign(name="Salon 2026")
        db.session.add(campaign)
        db.session.flush()
        obj = ContentObject(campaign_id=campaign.id, title="Teaser")
        db.session.add(obj)
        db.session.flush()
        db.session.add(ObjectMedia(object_id=obj.id, media_asset_id=asset_id, position=0))
        db.session.commit()
    html = client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert "<li>Salon 2026</li>" in html and "Delete this file" not in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    refused = client.post(f"/media/{asset_id}/delete", data={"csrf_token": token}, headers=EN, follow_redirects=True)
    assert "used in a campaign and cannot be deleted" in refused.get_data(as_text=True)
    assert len(stored_files(media_root)) == 1


def test_deleting_removes_the_row_the_versions_and_the_previews(app, client, editor, media_root):
    asset_id = upload(client, image("PNG"), "old.png").get_json()["id"]
    upload(client, image("PNG", color=(0, 0, 9)), "older.png", url=f"/media/{asset_id}/file")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/media/").get_data(as_text=True)).group(1)
    response = client.post(f"/media/{asset_id}/delete", data={"csrf_token": token}, headers=EN)
    assert response.status_code == 303 and response.headers["Location"] == "/media/"
    assert stored_files(media_root) == []
    with app.app_context():
        assert db.session.get(MediaAsset, asset_id) is None


def test_approvers_see_assets_but_not_the_library_or_the_editing_tools(app, client, auth, media_root):
    with app.app_context():
        asset_id = make_asset("for review").id
        db.session.commit()
    auth.login("approver")
    assert client.get("/media/").status_code == 403
    html = client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert "for review" in html and "Replace the file" not in html and 'name="tag"' not in html


@pytest.mark.parametrize("path", ["/media/999999", "/media/999999/card", "/media/999999/thumb", "/media/999999/file"])
def test_unknown_assets_are_404(client, editor, path):
    assert client.get(path).status_code == 404
