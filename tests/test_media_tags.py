"""Tags: normalisation, inline add and remove, autocomplete, bulk tagging, rename and merge,
with an audit event for every change."""

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.media.tags import normalize
from app.models import AuditEvent, MediaAsset, Tag, media_tags
from tests.conftest import csrf_token
from tests.media_support import EN, editor, image, media_root, upload  # noqa: F401

HX = {"HX-Request": "true", **EN}


@pytest.mark.parametrize(
    "raw,normalized",
    [
        ("Été 2026", "été 2026"),
        ("  été   2026 ", "été 2026"),
        ("ÉTÉ\t2026", "été 2026"),
        ("Ete 2026", "ete 2026"),
        ("Straße", "strasse"),
        ("E\u0301te\u0301", "été"),
    ],
)
def test_normalisation_folds_case_and_spaces_but_keeps_accents(raw, normalized):
    assert normalize(raw) == normalized


def _assets(client, n):
    return [upload(client, image("PNG", color=(i, 7, 7)), f"file{i}.png").get_json()["id"] for i in range(n)]


def _tag_names(app, asset_id):
    with app.app_context():
        return [t.name for t in db.session.get(MediaAsset, asset_id).tags]


def _events(app, action):
    with app.app_context():
        return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()


def test_inline_tags_are_one_per_normalised_name(app, client, editor, media_root):
    (asset_id,) = _assets(client, 1)
    token = csrf_token(client, f"/media/{asset_id}")
    first = client.post(f"/media/{asset_id}/tags", data={"tag": "Été  2026", "csrf_token": token}, headers=HX)
    assert first.status_code == 200 and first.data.lstrip().startswith(b'<section id="asset-tags"')
    again = client.post(f"/media/{asset_id}/tags", data={"tag": "été 2026", "csrf_token": token}, headers=HX)
    assert again.status_code == 200 and again.get_data(as_text=True).count('class="chip"') == 1
    assert _tag_names(app, asset_id) == ["Été 2026"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Tag)) == 1
    assert len(_events(app, "media.tagged")) == 1  # the second add changed nothing


def test_an_empty_tag_is_refused_where_it_was_typed(app, client, editor, media_root):
    (asset_id,) = _assets(client, 1)
    token = csrf_token(client, f"/media/{asset_id}")
    response = client.post(f"/media/{asset_id}/tags", data={"tag": "   ", "csrf_token": token}, headers=HX)
    assert response.status_code == 422 and "Type a tag." in response.get_data(as_text=True)
    too_long = client.post(f"/media/{asset_id}/tags", data={"tag": "x" * 81, "csrf_token": token}, headers=HX)
    assert too_long.status_code == 422 and "at most 80 characters" in too_long.get_data(as_text=True)


def test_removing_a_tag_inline(app, client, editor, media_root):
    (asset_id,) = _assets(client, 1)
    token = csrf_token(client, f"/media/{asset_id}")
    client.post(f"/media/{asset_id}/tags", data={"tag": "Salon", "csrf_token": token}, headers=HX)
    with app.app_context():
        tag_id = db.session.scalar(sa.select(Tag.id))
    response = client.post(f"/media/{asset_id}/tags/{tag_id}/delete", data={"csrf_token": token}, headers=HX)
    assert response.status_code == 200 and "No tags yet." in response.get_data(as_text=True)
    assert _tag_names(app, asset_id) == [] and len(_events(app, "media.untagged")) == 1


def test_without_javascript_the_tag_forms_go_back_to_the_page(app, client, editor, media_root):
    (asset_id,) = _assets(client, 1)
    token = csrf_token(client, f"/media/{asset_id}")
    response = client.post(f"/media/{asset_id}/tags", data={"tag": "Presse", "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == f"/media/{asset_id}"


def test_autocomplete_offers_existing_tags_by_prefix(app, client, editor, media_root):
    (asset_id,) = _assets(client, 1)
    token = csrf_token(client, f"/media/{asset_id}")
    for name in ("Été 2026", "Été 2025", "Salon", "100%_off"):
        client.post(f"/media/{asset_id}/tags", data={"tag": name, "csrf_token": token}, headers=HX)
    options = client.get("/media/tags/options?tag=ÉTÉ", headers=HX).get_data(as_text=True)
    assert options.startswith('<datalist id="tag-options">')
    assert re.findall(r'<option value="([^"]+)">', options) == ["Été 2025", "Été 2026"]
    assert re.findall(
        r'<option value="([^"]+)">', client.get("/media/tags/options?tag=100%_").get_data(as_text=True)
    ) == ["100%_off"]
    assert client.get("/media/tags/options?tag=1_").get_data(as_text=True).count("<option") == 0


def test_bulk_tag_and_untag_in_one_action(app, client, editor, media_root):
    a, b, c = _assets(client, 3)
    token = csrf_token(client, "/media/")
    response = client.post(
        "/media/bulk-tags",
        data={"ids": [a, c], "tag": "Campagne été", "action": "add", "csrf_token": token},
        headers=HX,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Tag “Campagne été” added to 2 files." in html
    assert html.count('hx-swap-oob="true"') == 2  # both cards re-rendered in place
    assert _tag_names(app, a) == _tag_names(app, c) == ["Campagne été"] and _tag_names(app, b) == []
    listing = client.get("/media/?tag=campagne+%C3%A9t%C3%A9", headers=EN).get_data(as_text=True)
    assert sorted(re.findall(r'id="tile-(\d+)"', listing)) == sorted([str(a), str(c)])
    again = client.post(
        "/media/bulk-tags",
        data={"ids": [a, b], "tag": "CAMPAGNE  ÉTÉ", "action": "add", "csrf_token": token},
        headers=HX,
    )
    assert "added to 1 file." in again.get_data(as_text=True)
    removed = client.post(
        "/media/bulk-tags",
        data={"ids": [a, b, c], "tag": "campagne été", "action": "remove", "csrf_token": token},
        headers=HX,
    )
    assert "removed from 3 files." in removed.get_data(as_text=True)
    assert all(_tag_names(app, x) == [] for x in (a, b, c))
    assert len(_events(app, "media.tagged")) == 3 and len(_events(app, "media.untagged")) == 3


@pytest.mark.parametrize(
    "data,message",
    [
        ({"tag": "x", "action": "add"}, "Select at least one file."),
        ({"tag": "nothing like it", "action": "remove", "ids": ["__ID__"]}, "No tag is named “nothing like it”."),
    ],
)
def test_bulk_mistakes_are_explained(app, client, editor, media_root, data, message):
    (asset_id,) = _assets(client, 1)
    data = {k: ([asset_id] if v == ["__ID__"] else v) for k, v in data.items()}
    response = client.post("/media/bulk-tags", data={**data, "csrf_token": csrf_token(client, "/media/")}, headers=HX)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def _admin_token(client):
    return csrf_token(client, "/media/tags")


def _tag(app, name):
    with app.app_context():
        return db.session.scalar(sa.select(Tag).where(Tag.normalized == normalize(name)))


def test_rename_keeps_the_assets(app, client, auth, media_root):
    auth.login("admin")
    (asset_id,) = _assets(client, 1)
    client.post(f"/media/{asset_id}/tags", data={"tag": "salon", "csrf_token": _admin_token(client)}, headers=HX)
    tag_id = _tag(app, "salon").id
    response = client.post(
        f"/media/tags/{tag_id}/rename",
        data={"name": "Salon du livre", "csrf_token": _admin_token(client)},
        headers=EN,
        follow_redirects=True,
    )
    assert "Renamed to “Salon du livre”." in response.get_data(as_text=True)
    assert _tag_names(app, asset_id) == ["Salon du livre"] and _tag(app, "salon") is None
    assert [e.data for e in _events(app, "tag.renamed")] == [{"from": "salon", "to": "Salon du livre"}]


def test_renaming_to_another_tags_name_merges_them(app, client, auth, media_root):
    auth.login("admin")
    a, b, both = _assets(client, 3)
    token = _admin_token(client)
    for asset_id, name in ((a, "Été"), (b, "Summer"), (both, "Été"), (both, "Summer")):
        client.post(f"/media/{asset_id}/tags", data={"tag": name, "csrf_token": token}, headers=HX)
    summer, ete = _tag(app, "summer"), _tag(app, "été")
    response = client.post(
        f"/media/tags/{summer.id}/rename", data={"name": "ÉTÉ", "csrf_token": token}, headers=EN, follow_redirects=True
    )
    assert "“Summer” was merged into “Été”." in response.get_data(as_text=True)
    assert _tag_names(app, a) == _tag_names(app, b) == _tag_names(app, both) == ["Été"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(media_tags)) == 3
    assert [e.subject_id for e in _events(app, "tag.merged")] == [ete.id]


def test_the_merge_form_and_its_mistakes(app, client, auth, media_root):
    auth.login("admin")
    (asset_id,) = _assets(client, 1)
    token = _admin_token(client)
    for name in ("Presse", "Press"):
        client.post(f"/media/{asset_id}/tags", data={"tag": name, "csrf_token": token}, headers=HX)
    press = _tag(app, "press")
    self_merge = client.post(
        f"/media/tags/{press.id}/merge",
        data={"target": "press", "csrf_token": token},
        headers=EN,
        follow_redirects=True,
    )
    assert "cannot be merged into itself" in self_merge.get_data(as_text=True)
    assert client.post(f"/media/tags/{press.id}/merge", data={"target": "nope", "csrf_token": token}).status_code == 404
    merged = client.post(
        f"/media/tags/{press.id}/merge",
        data={"target": "presse", "csrf_token": token},
        headers=EN,
        follow_redirects=True,
    )
    page = merged.get_data(as_text=True)
    assert "“Press” was merged into “Presse”." in page and _tag_names(app, asset_id) == ["Presse"]
    assert re.search(r"Presse</a></td>\s*<td>1</td>", page)


def test_only_admins_rename_and_merge(app, client, editor, media_root):
    assert client.get("/media/tags").status_code == 403
    assert "Manage tags" not in client.get("/media/", headers=EN).get_data(as_text=True)
