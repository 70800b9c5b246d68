"""The library page: keyset pagination, filters kept in the URL, fragments for htmx, live tiles,
the detail page with the campaigns using an asset, and deletion."""

import hashlib
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.media import service
from app.models import Campaign, ContentObject, MediaAsset, MediaKind, MediaStatus, ObjectMedia, Tag, User, media_tags
from tests.media_support import EN, editor, image, media_root, stored_files, upload  # noqa: F401
from tests.objects_support import in_review_with

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)


def make_asset(title, *, kind=MediaKind.IMAGE, created_at=T0, status=MediaStatus.READY, uploader=None, tags=()):
    asset = MediaAsset(
        title=title,
        filename=title + ".jpg",
        mime="image/jpeg",
        kind=kind,
        size_bytes=10,
        sha256=hashlib.sha256(title.encode()).hexdigest(),
        storage_backend="local",
        status=status,
        uploaded_by_id=uploader,
        created_at=created_at,
    )
    db.session.add(asset)
    db.session.flush()
    for name in tags:
        tag = db.session.scalar(sa.select(Tag).where(Tag.normalized == name.casefold())) or Tag(
            name=name, normalized=name.casefold()
        )
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
    cases = {
        "kind=video": ["clip"],
        "tag=%C3%A9t%C3%A9++2026": ["beach"],
        f"uploader={someone}": ["beach"],
        "date_from=2026-03-10&date_to=2026-03-10": ["beach"],
        "date_from=2026-03-11": ["flyer"],
        "kind=document&tag=salon": ["flyer"],
        "kind=nonsense&date_from=yesterday": ["flyer", "beach", "clip"],
    }
    for query, expected in cases.items():
        html = client.get("/media/?" + query, headers=EN).get_data(as_text=True)
        assert titles(html) == expected, query
    html = client.get("/media/?kind=video&tag=Salon", headers=EN).get_data(as_text=True)
    assert "Nothing matches these filters" in html and 'value="Salon"' in html
    assert '<option value="video" selected>' in html and "Clear filters" in html


def test_date_filters_read_typed_day_first_dates_and_iso_links_and_say_when_a_date_is_not_one(app, client, editor):
    with app.app_context():
        make_asset("beach")
        make_asset("flyer", kind=MediaKind.DOCUMENT, created_at=T0 + timedelta(days=3))
        db.session.commit()
    typed = client.get("/media/?date_from=13%2F03%2F2026", headers=EN).get_data(as_text=True)
    iso = client.get("/media/?date_from=2026-03-13", headers=EN).get_data(as_text=True)
    assert titles(typed) == titles(iso) == ["flyer"]
    for html in (typed, iso):  # shown day first, in a text field with its format, never a native date input
        assert 'value="13/03/2026"' in html and 'type="date"' not in html and "DD/MM/YYYY" in html
    swapped = client.get("/media/?date_from=13.03.2026", headers={"HX-Request": "true", **EN})
    assert swapped.headers["HX-Push-Url"] == "/media/?date_from=2026-03-13"  # links keep ISO
    wrong = client.get("/media/?date_from=31%2F02%2F2026&date_to=2026-03-10", headers={"Accept-Language": "fr"})
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 200 and titles(html) == ["beach"]  # the readable filter still applies
    assert "Saisissez la date sous la forme JJ/MM/AAAA, par exemple 14/07/2027." in html
    assert 'value="31/02/2026"' in html and 'aria-invalid="true"' in html and 'value="10/03/2026"' in html


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
    assert "No media yet" in html and "Or drop files anywhere on the library." in html


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
    assert ">Salon 2026</a></li>" in html and "Delete this file" not in html
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
        asset = make_asset("for review")
        in_review_with(asset)
        asset_id = asset.id
        db.session.commit()
    auth.login("approver")
    assert client.get("/media/").status_code == 403
    html = client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert "for review" in html and "Replace the file" not in html and 'name="tag"' not in html


@pytest.mark.parametrize("path", ["/media/999999", "/media/999999/card", "/media/999999/thumb", "/media/999999/file"])
def test_unknown_assets_are_404(client, editor, path):
    assert client.get(path).status_code == 404


# -- Title, description and alt text -------------------------------------------------------


def _field_post(client, asset_id, name, value, htmx=True):
    from tests.conftest import csrf_token

    token = csrf_token(client, f"/media/{asset_id}")
    headers = {"HX-Request": "true", **EN} if htmx else EN
    return client.post(f"/media/{asset_id}/fields/{name}", data={"value": value, "csrf_token": token}, headers=headers)


def test_each_field_saves_on_its_own_in_place(app, client, editor):
    with app.app_context():
        asset_id = make_asset("IMG 2041").id
        db.session.commit()
    page = client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    for name in ("title", "description", "alt_text"):
        assert f'id="field-{name}"' in page and f'hx-post="/media/{asset_id}/fields/{name}"' in page

    saved = _field_post(client, asset_id, "title", "  Affiche   du salon ")
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "<html" not in html
    assert html.count('id="field-') == 1 and 'value="Affiche du salon"' in html and 'data-testid="saved"' in html
    assert '<h1 id="asset-title" class="asset-title" hx-swap-oob="true">Affiche du salon</h1>' in html
    alt = _field_post(client, asset_id, "alt_text", "Une affiche bleue,\nle logo du salon en haut.")
    assert alt.status_code == 200 and 'id="field-alt_text"' in alt.get_data(as_text=True)
    assert "hx-swap-oob" not in alt.get_data(as_text=True)
    with app.app_context():
        asset = db.session.get(MediaAsset, asset_id)
        assert (asset.title, asset.alt_text) == ("Affiche du salon", "Une affiche bleue,\nle logo du salon en haut.")
        actions = db.session.scalars(
            sa.text(
                "SELECT action FROM audit_events WHERE subject_id = :id AND subject_type = 'media_assets' ORDER BY id"
            ),
            {"id": asset_id},
        ).all()
        assert actions == ["media.title_changed", "media.alt_text_changed"]


def test_a_refused_field_keeps_what_was_typed_with_the_error(app, client, editor):
    with app.app_context():
        asset_id = make_asset("poster").id
        db.session.commit()
    empty = _field_post(client, asset_id, "title", "   ")
    assert empty.status_code == 422 and "The title cannot be empty." in empty.get_data(as_text=True)
    assert 'aria-invalid="true"' in empty.get_data(as_text=True)
    long = _field_post(client, asset_id, "alt_text", "x" * 1001)
    assert long.status_code == 422 and "At most 1000 characters." in long.get_data(as_text=True)
    assert "x" * 1001 in long.get_data(as_text=True)  # nothing typed is lost
    # Without JavaScript: the whole page, with the error beside the field, 422; then a save goes back.
    plain = _field_post(client, asset_id, "title", "", htmx=False)
    assert plain.status_code == 422 and "<html" in plain.get_data(as_text=True)
    assert "The title cannot be empty." in plain.get_data(as_text=True)
    ok = _field_post(client, asset_id, "description", "Salon 2026, stand B", htmx=False)
    assert ok.status_code == 303 and ok.headers["Location"] == f"/media/{asset_id}"
    assert _field_post(client, asset_id, "filename", "x").status_code == 404
    with app.app_context():
        asset = db.session.get(MediaAsset, asset_id)
        assert (asset.title, asset.description, asset.alt_text) == ("poster", "Salon 2026, stand B", "")


def test_the_fields_are_read_only_for_approvers(app, client, auth):
    with app.app_context():
        asset = make_asset("poster")
        asset.alt_text = "Une affiche"
        in_review_with(asset)
        db.session.commit()
        asset_id = asset.id
    auth.login("approver")
    html = client.get(f"/media/{asset_id}", headers=EN).get_data(as_text=True)
    assert "Une affiche" in html and "/fields/" not in html
    assert _field_post(client, asset_id, "title", "x").status_code == 403


@pytest.mark.parametrize(
    "filename, title",
    [
        ("IMG_20260312_093045.jpg", "IMG 20260312 093045"),
        ("affiche-salon--finale.v2.PNG", "affiche salon finale v2"),
        ("Plan d'accès.pdf", "Plan d'accès"),
        ("noext", "noext"),
    ],
)
def test_a_new_upload_is_titled_after_its_cleaned_file_name(filename, title):
    assert service.clean_title(filename) == title


def test_uploads_get_the_cleaned_title(app, client, editor, media_root):
    response = upload(client, image("png"), "Salon_2026-affiche_finale.png")
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(MediaAsset, response.json["id"]).title == "Salon 2026 affiche finale"


def test_alt_text_is_required_before_review_when_the_setting_says_so(app, client, auth, monkeypatch):
    from tests.objects_support import seed_campaign
    from tests.test_objects import _create

    with app.app_context():
        seed = seed_campaign()
        db.session.get(MediaAsset, seed.media[1]).alt_text = "Le stand B"
        db.session.commit()
    auth.login("editor")
    object_id = _create(client, seed)
    url = f"/campaigns/{seed.campaign_id}/objects/{object_id}"
    from tests.conftest import csrf_token

    monkeypatch.setitem(app.config, "MEDIA_ALT_TEXT_REQUIRED", True)
    refused = client.post(url + "/submit", data={"csrf_token": csrf_token(client, url)}, headers=EN)
    assert refused.status_code == 303
    html = client.get(url, headers=EN).get_data(as_text=True)
    assert "“Affiche 0” has no alt text" in html and "“Affiche 1” has no alt text" not in html
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status.value == "draft"
        db.session.get(MediaAsset, seed.media[0]).alt_text = "Une affiche"
        db.session.commit()
    done = client.post(url + "/submit", data={"csrf_token": csrf_token(client, url)}, headers=EN)
    assert done.status_code == 303
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status.value == "in_review"


def test_the_payload_carries_each_media_alt_text(app):
    from app.models import Publication
    from app.publishing import payload
    from tests.objects_support import make_objects, seed_campaign

    with app.test_request_context():
        seed = seed_campaign(media=0)
        flyer = make_asset("flyer", kind=MediaKind.DOCUMENT)  # sent as it is, with no rendition
        flyer.alt_text = "Le programme du salon, jour par jour"
        [object_id] = make_objects(seed.campaign_id, [seed.scenarios["linkedin"]], [flyer.id], 1)
        publication = Publication(
            object_id=object_id,
            campaign_scenario_id=seed.scenarios["linkedin"],
            idempotency_key="alt-text-1",
            fingerprint="f",
        )
        db.session.add(publication)
        db.session.flush()
        [item] = payload.build(publication)["media"]
        assert item["alt_text"] == "Le programme du salon, jour par jour"


def test_the_facets_fetch_themselves_again_after_changes(app, client, editor):
    from tests.conftest import csrf_token

    with app.app_context():
        ids = [make_asset(name, tags=["Salon"]).id for name in ("one", "two")]
        make_asset("clip", kind=MediaKind.VIDEO)
        db.session.commit()
    page = client.get("/media/?kind=image", headers=EN).get_data(as_text=True)
    assert 'hx-get="/media/facets?kind=image"' in page and 'hx-trigger="media-changed from:body delay:300ms"' in page
    fragment = client.get("/media/facets?kind=image", headers={"HX-Request": "true", **EN})
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in html and html.count('id="media-facets"') == 1
    assert 'data-facet="tags"' in html and "Video" not in html  # the counts of the search shown
    assert client.get("/media/facets?kind=image", headers=EN).headers["Location"] == "/media/?kind=image"
    # Bulk tagging announces the change, so the counts follow it.
    tagged = client.post(
        "/media/bulk-tags",
        data={"ids": ids, "tag": "Presse", "action": "add", "csrf_token": csrf_token(client, "/media/")},
        headers={"HX-Request": "true", **EN},
    )
    assert tagged.status_code == 200 and tagged.headers["HX-Trigger"] == "media-changed"
    refused = client.post(
        "/media/bulk-tags",
        data={"ids": ids, "tag": "", "action": "add", "csrf_token": csrf_token(client, "/media/")},
        headers={"HX-Request": "true", **EN},
    )
    assert refused.status_code == 422 and "HX-Trigger" not in refused.headers


def test_a_video_tile_has_a_play_mark(app, client, editor):
    with app.app_context():
        clip = make_asset("clip", kind=MediaKind.VIDEO)
        clip.thumb_path, clip.duration_s = "derived/x/thumb.webp", 75
        make_asset("photo").thumb_path = "derived/y/thumb.webp"
        db.session.commit()
    html = client.get("/media/", headers=EN).get_data(as_text=True)
    assert html.count('data-testid="play-mark"') == 1 and '<span class="tile-duration">1:15</span>' in html
