"""The team's hashtag groups and text snippets (app/snippets): validation, the management page
(errors keep what was typed, search beyond 20), and the composer's "Insert…" list."""

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, HashtagGroup, TextSnippet
from app.snippets import service
from tests.conftest import csrf_token

EN = {"Accept-Language": "en"}


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("#Salon2027 #Paris", ["#Salon2027", "#Paris"]),
        ("#salon, #Paris\n#SALON ;#été_2027", ["#salon", "#Paris", "#été_2027"]),  # #SALON is #salon again
        ("  #a  ", ["#a"]),
    ],
)
def test_hashtags_are_split_checked_and_deduplicated_in_order(app, raw, expected):
    with app.test_request_context(headers=EN):
        assert service.parse_hashtags(raw) == (expected, [])


def test_each_wrong_hashtag_is_named_in_the_readers_language(app):
    with app.test_request_context(headers=EN):
        found, errors = service.parse_hashtags("#salon paris #ok! #")
        assert found == ["#salon"]
        assert errors[0].startswith("“paris” does not start with #. A hashtag has no spaces")
        assert errors[1] == "“#ok!”: after the #, only letters, digits and _."
        assert errors[2] == "“#”: after the #, only letters, digits and _."
        assert service.parse_hashtags(" , ")[1] == ["Enter at least one hashtag, e.g. #Salon2027."]
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert service.parse_hashtags("paris")[1][0].startswith("«\u00a0paris\u00a0» ne commence pas par #.")


def test_save_refuses_a_taken_name_whatever_its_case_and_audits_each_change(app):
    with app.test_request_context(headers=EN):
        group = service.save("hashtags", None, name="Salon", text="#Salon #salon #Paris", actor=None)
        assert group.hashtags == ["#Salon", "#Paris"] and group.text == "#Salon #Paris"
        with pytest.raises(service.Invalid) as refused:
            service.save("hashtags", None, name=" salon ", text="#x", actor=None)
        assert refused.value.errors == {"name": ["“salon” already exists: choose another name."]}
        # The same name is free among the texts, and an edit may keep its own name.
        snippet = service.save("texts", None, name="Salon", text="  Rendez-vous au stand B12.  ", actor=None)
        assert snippet.text == "Rendez-vous au stand B12."
        service.save("hashtags", group, name="Salon", text="#Salon2027", actor=None)
        assert group.hashtags == ["#Salon2027"]
        with pytest.raises(service.Invalid) as refused:
            service.save("texts", None, name="", text="", actor=None)
        assert set(refused.value.errors) == {"name", "text"}
        service.delete("texts", snippet, actor=None)
        actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
        assert actions == ["snippet_created", "snippet_created", "snippet_updated", "snippet_deleted"]


def test_the_page_starts_empty_and_creates_edits_and_deletes(app, client, auth):
    auth.login("editor")
    page = client.get("/snippets/", headers=EN).get_data(as_text=True)
    assert "No snippet or hashtag group yet" in page and 'type="search"' not in page
    token = csrf_token(client, "/snippets/hashtags/new")
    response = client.post(
        "/snippets/hashtags",
        data={"name": "Salon", "text": "#Salon2027 #Paris #paris", "csrf_token": token},
        headers=EN,
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/snippets/")
    page = client.get("/snippets/", headers=EN).get_data(as_text=True)
    assert "“Salon” saved." in page and "#Salon2027 #Paris" in page
    with app.app_context():
        group_id = db.session.scalar(sa.select(HashtagGroup.id))
    edit = client.get(f"/snippets/hashtags/{group_id}/edit", headers=EN).get_data(as_text=True)
    assert ">#Salon2027 #Paris</textarea>" in edit
    client.post(
        f"/snippets/hashtags/{group_id}",
        data={"name": "Salon 2027", "text": "#Salon2027", "csrf_token": token},
        headers=EN,
    )
    with app.app_context():
        assert db.session.get(HashtagGroup, group_id).name == "Salon 2027"
    response = client.post(
        f"/snippets/hashtags/{group_id}/delete", data={"csrf_token": token}, headers=EN, follow_redirects=True
    )
    assert "“Salon 2027” deleted." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(HashtagGroup, group_id) is None
    assert client.get("/snippets/texts/999999/edit", headers=EN).status_code == 404


def test_a_refused_form_keeps_what_was_typed_and_says_what_is_wrong(app, client, auth):
    auth.login("editor")
    token = csrf_token(client, "/snippets/hashtags/new")
    response = client.post(
        "/snippets/hashtags", data={"name": "Rentrée", "text": "#ok rentree #bad!", "csrf_token": token}, headers=EN
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Rentrée"' in body and ">#ok rentree #bad!</textarea>" in body
    assert "“rentree” does not start with #." in body and "“#bad!”: after the #" in body
    assert 'aria-invalid="true"' in body
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(HashtagGroup)) == 0
    # The French page, by default.
    french = client.post("/snippets/texts", data={"name": "", "text": "Signature", "csrf_token": token})
    assert french.status_code == 422 and "Donnez-lui un nom." in french.get_data(as_text=True)
    assert ">Signature</textarea>" in french.get_data(as_text=True)


def test_search_appears_beyond_twenty_and_filters_names_texts_and_hashtags(app, client, auth):
    auth.login("editor")
    with app.app_context():
        db.session.add_all([TextSnippet(name=f"Texte {n:02d}", text=f"Signature {n}") for n in range(20)])
        db.session.add(HashtagGroup(name="Rentrée", hashtags=["#Rentree2027", "#Ecole"]))
        db.session.commit()
    page = client.get("/snippets/", headers=EN).get_data(as_text=True)
    assert 'type="search"' in page
    found = client.get("/snippets/?q=ecole", headers=EN).get_data(as_text=True)
    assert "Rentrée" in found and "Texte 01" not in found
    fragment = client.get("/snippets/?q=Signature 1", headers={**EN, "HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="snippet-listing"')
    assert "Texte 01" in fragment and "Texte 10" in fragment and "Texte 02" not in fragment
    nothing = client.get("/snippets/?q=zzz", headers=EN).get_data(as_text=True)
    assert "Nothing matches “zzz”" in nothing


def test_the_insert_list_offers_groups_then_texts_filtered_by_what_is_typed(app, client, auth):
    auth.login("editor")
    with app.app_context():
        db.session.add_all(
            [
                HashtagGroup(name="Salon", hashtags=["#Salon2027", "#Paris"]),
                TextSnippet(name="Signature", text="L’équipe du salon <3"),
                TextSnippet(name="Appel", text="Inscrivez-vous !"),
            ]
        )
        db.session.commit()
    body = client.get("/snippets/pick", headers=EN).get_data(as_text=True)
    inserts = re.findall(r'data-insert="([^"]*)"', body)
    assert inserts == ["#Salon2027 #Paris", "Inscrivez-vous !", "L’équipe du salon &lt;3"]
    assert re.findall(
        r'data-insert="([^"]*)"', client.get("/snippets/pick?q=salon", headers=EN).get_data(as_text=True)
    ) == ["#Salon2027 #Paris", "L’équipe du salon &lt;3"]
    assert "Nothing matches “zzz”." in client.get("/snippets/pick?q=zzz", headers=EN).get_data(as_text=True)


def test_approvers_cannot_read_or_change_the_snippets(app, client, auth):
    auth.login("approver")
    assert client.get("/snippets/").status_code == 403
    assert client.get("/snippets/pick").status_code == 403


def test_the_post_form_offers_insert_next_to_the_message(app, client, auth):
    from tests.objects_support import seed_campaign

    auth.login("editor")
    with app.app_context():
        seed = seed_campaign(media=0)
    page = client.get(f"/campaigns/{seed.campaign_id}/objects/new").get_data(as_text=True)
    picker = page[page.index('data-testid="snippet-picker"') :]
    assert "Insérer…" in picker and 'hx-get="/snippets/pick"' in picker
    # The filter is not one of the post's fields: it is tied to no form.
    assert 'form="snippet-filter-form"' in picker and 'id="snippet-filter-form"' not in page
    assert page.index('name="message"') < page.index('data-testid="snippet-picker"')
