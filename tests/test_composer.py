"""The post form's versions per network and its live preview (app/campaigns/composer.py): a tab
overrides the text, link or files of one network, follows the base again, keeps what was typed
when the form is refused, sends an approved post back to review; the preview and the tab's
counter read the form without saving it."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app import versions
from app.extensions import db
from app.models import AuditEvent, ContentObject, ObjectStatus, ObjectVariant, Platform, Publication
from app.reviews import service as reviews
from tests.conftest import csrf_token
from tests.objects_support import seed_campaign
from tests.test_approval_chains import team  # noqa: F401 (fixture)
from tests.test_reviews import in_review  # noqa: F401 (fixture)

EN = {"Accept-Language": "en"}


@pytest.fixture
def seed(app):
    with app.app_context():
        return seed_campaign(extra_statuses=())


def _form(seed, **overrides):
    data = {
        "title": "Teaser",
        "message": "Rendez-vous au salon, stand B12, toute la semaine. #salon",
        "link": "https://example.org/salon",
        "media_ids": seed.media,
        "targets": [seed.scenarios["x"], seed.scenarios["linkedin"]],
        "scheduled_date": "",
        "scheduled_time": "",
        "version-x": "1",
        "version-x-follow-message": "1",
        "version-x-link-mode": "base",
        "version-x-media-mode": "base",
        "version-linkedin": "1",
        "version-linkedin-follow-message": "1",
        "version-linkedin-link-mode": "base",
        "version-linkedin-media-mode": "base",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _post(client, url, data):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/campaigns/")}, headers=EN)


def _create(client, seed, **overrides):
    response = _post(client, f"/campaigns/{seed.campaign_id}/objects", _form(seed, **overrides))
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _versions(app, object_id):
    with app.app_context():
        return versions.versions(db.session.get(ContentObject, object_id))


def test_a_tab_overrides_text_link_and_media_then_follows_the_base_again(app, client, auth, seed):
    auth.login("editor")
    object_id = _create(
        client,
        seed,
        **{
            "version-x-follow-message": None,
            "version-x-message": "Court pour X #salon",
            "version-x-link-mode": "none",
            "version-linkedin-media-mode": "own",
            "version-linkedin-media": [seed.media[1]],
        },
    )
    found = _versions(app, object_id)
    assert found[Platform.X].message == "Court pour X #salon" and found[Platform.X].link is None
    assert found[Platform.X].overridden == {"message", "link"}
    assert found[Platform.LINKEDIN].media_ids == [seed.media[1]] and found[Platform.LINKEDIN].overridden == {"media"}
    assert found[Platform.LINKEDIN].message.startswith("Rendez-vous")
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(
                AuditEvent.action == "object_versions_updated", AuditEvent.subject_id == object_id
            )
        )
        assert set(event.data) == {"x", "linkedin"}

    # The edit page shows each tab as saved: X writes its own text, LinkedIn its own files.
    url = f"/campaigns/{seed.campaign_id}/objects/{object_id}"
    page = client.get(url + "/edit", headers=EN).get_data(as_text=True)
    assert ">Court pour X #salon</textarea>" in page
    assert 'name="version-x-link-mode" value="none" checked' in page
    assert f"version-linkedin-media={seed.media[1]}" in page
    assert page.count("data-modified hidden") == 1  # X and LinkedIn say "modified", Instagram not

    # A base edit flows into what follows it; a form without a tab leaves that tab as it is.
    form = _form(
        seed,
        message="Nouveau texte de base",
        **{
            "version-x-follow-message": None,
            "version-x-message": "Court pour X #salon",
            "version-x-link-mode": "none",
            "version-linkedin-media-mode": "own",
            "version-linkedin-media": [seed.media[1]],
        },
    )
    assert _post(client, url, form).status_code == 303
    found = _versions(app, object_id)
    assert (
        found[Platform.LINKEDIN].message == "Nouveau texte de base"
        and found[Platform.X].message == "Court pour X #salon"
    )
    bare = {k: v for k, v in _form(seed, message="Encore").items() if not k.startswith("version-")}
    assert _post(client, url, bare).status_code == 303
    assert _versions(app, object_id)[Platform.X].message == "Court pour X #salon"

    # Following the base again everywhere: no version row is left.
    assert _post(client, url, _form(seed, message="Encore")).status_code == 303
    found = _versions(app, object_id)
    assert not found[Platform.X].overridden and not found[Platform.LINKEDIN].overridden
    assert found[Platform.X].message == "Encore" and found[Platform.X].link == "https://example.org/salon"
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(ObjectVariant).where(ObjectVariant.object_id == object_id)
            )
            == 0
        )


def test_a_refused_form_keeps_every_tab_as_typed_with_422(app, client, auth, seed):
    auth.login("editor")
    long_text = "Une version LinkedIn gardée telle que tapée."
    response = _post(
        client,
        f"/campaigns/{seed.campaign_id}/objects",
        _form(
            seed,
            **{
                "version-x-follow-message": None,
                "version-x-message": "Mon texte X",
                "version-x-link-mode": "own",
                "version-x-link": "javascript:alert(1)",
                "version-linkedin-follow-message": None,
                "version-linkedin-message": long_text,
                "version-linkedin-media-mode": "own",
                "version-linkedin-media": [seed.media[1], seed.media[0]],
            },
        ),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a web address starting with http:// or https://." in html
    assert ">Mon texte X</textarea>" in html and long_text in html
    assert 'value="javascript:alert(1)"' in html
    assert f"version-linkedin-media={seed.media[1]}&amp;version-linkedin-media={seed.media[0]}" in html
    # The tab with the problem is the one open, marked to fix; nothing was saved.
    assert re.search(r'id="version-x-tab"[^>]*aria-selected="true"', html)
    assert "to fix" in html
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(ContentObject)
                .where(ContentObject.campaign_id == seed.campaign_id)
            )
            == 0
        )


def _panel_tag(html, network):
    return re.search(r'<section class="version-panel" id="version-%s-panel"[^>]*>' % network, html).group(0)


def test_without_javascript_every_ticked_network_tab_is_shown_under_its_heading(app, client, auth, seed):
    """The tab bar waits for composer.js; the server shows the base and each ticked network's tab
    one under the other (with the link field), so a browser without JavaScript can write them."""
    auth.login("editor")
    object_id = _create(client, seed)
    url = f"/campaigns/{seed.campaign_id}/objects/{object_id}"
    html = client.get(url + "/edit", headers=EN).get_data(as_text=True)
    assert re.search(r'role="tablist"[^>]*data-version-tablist hidden>', html)
    for network in ("x", "linkedin"):
        assert " hidden" not in _panel_tag(html, network)
        assert f'id="version-{network}-heading"' in html
    assert 'id="version-x-heading">X</h2>' in html
    assert " hidden" in _panel_tag(html, "instagram")  # not ticked
    assert 'id="version-base-panel" data-testid="version-base">' in html
    assert "<div data-own-link>" in html
    # Instagram ticked since the page was drawn: the form refused shows its tab too.
    response = _post(client, url, _form(seed, title="", targets=[seed.scenarios["x"], seed.scenarios["instagram"]]))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert " hidden" not in _panel_tag(html, "instagram") and " hidden" not in _panel_tag(html, "x")
    assert " hidden" in _panel_tag(html, "linkedin")
    # A text typed while "Use the base text" stays ticked (no script empties it) is not dropped
    # silently: the form comes back with it and says what to do.
    response = _post(client, url, _form(seed, **{"version-x-message": "Écrit sans décocher"}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "“Use the base text” is ticked" in html and ">Écrit sans décocher</textarea>" in html
    assert not _versions(app, object_id)[Platform.X].overridden


def test_an_own_link_must_be_given_and_unticked_networks_are_not_checked(app, client, auth, seed):
    auth.login("editor")
    response = _post(
        client,
        f"/campaigns/{seed.campaign_id}/objects",
        _form(seed, **{"version-x-link-mode": "own", "version-x-link": ""}),
    )
    assert response.status_code == 422 and "Enter this network&#39;s link" in response.get_data(as_text=True)
    # Instagram is not ticked: its tab is neither checked nor saved.
    object_id = _create(
        client,
        seed,
        **{"version-instagram": "1", "version-instagram-link-mode": "own", "version-instagram-link": "pas une adresse"},
    )
    with app.app_context():
        assert db.session.get(ObjectVariant, (object_id, Platform.INSTAGRAM)) is None


def test_editing_a_version_of_an_approved_post_sends_it_back_to_review(app, client, auth, seed, make_user):
    auth.login("editor")
    object_id = _create(client, seed)
    with app.app_context():
        from app.models import User

        obj = db.session.get(ContentObject, object_id)
        reviews.submit(obj, by=db.session.get(User, auth.user_id))
        reviews.approve(obj, by=db.session.get(User, make_user("approver")[0]))
        db.session.commit()
    url = f"/campaigns/{seed.campaign_id}/objects/{object_id}"
    assert _post(client, url, _form(seed)).status_code == 303  # the same tabs: nothing changes
    assert _versions(app, object_id)[Platform.X].overridden == frozenset()
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.APPROVED
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(ObjectVariant).where(ObjectVariant.object_id == object_id)
            )
            == 0
        )  # no empty rows
    response = _post(client, url, _form(seed, **{"version-x-follow-message": None, "version-x-message": "Pour X"}))
    assert response.status_code == 303
    with app.app_context():
        obj = db.session.get(ContentObject, object_id)
        assert obj.status is ObjectStatus.IN_REVIEW
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Publication).where(Publication.object_id == object_id)
            )
            == 0
        )  # withdrawn
        actions = list(
            db.session.scalars(
                sa.select(AuditEvent.action)
                .where(AuditEvent.subject_type == "content_objects", AuditEvent.subject_id == object_id)
                .order_by(AuditEvent.id)
            )
        )
    assert actions[-2:] == ["object_versions_updated", "status:in_review"]


def test_the_preview_and_a_tabs_counter_read_the_form_without_saving(app, client, auth, seed):
    auth.login("editor")
    x_text = "Famille \U0001f468\u200d\U0001f469\u200d\U0001f467 au salon"
    form = _form(
        seed,
        **{
            "version-x-follow-message": None,
            "version-x-message": x_text,
            "version-linkedin-follow-message": None,
            "version-linkedin-message": "L" * 1500,
            "preview-platform": "linkedin",
        },
    )
    response = _post(client, f"/campaigns/{seed.campaign_id}/objects/preview", form)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-show="linkedin"' in html and 'data-preview-platform="x"' in html
    assert x_text in html and "19 / 280 characters" in html and "1500 / 3000 characters" in html
    counter = _post(client, f"/campaigns/{seed.campaign_id}/objects/count", {**form, "platform": "x"})
    assert counter.status_code == 200
    assert 'data-platform="x"' in counter.get_data(as_text=True) and "19 / 280" in counter.get_data(as_text=True)
    assert "linkedin" not in counter.get_data(as_text=True)
    # Following the base, the tab counts the base text.
    following = _post(
        client, f"/campaigns/{seed.campaign_id}/objects/count", {**_form(seed, message="abc"), "platform": "x"}
    ).get_data(as_text=True)
    assert "3 / 280" in following
    assert (
        _post(client, f"/campaigns/{seed.campaign_id}/objects/count", {**form, "platform": "myspace"}).status_code
        == 400
    )
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(ContentObject)
                .where(ContentObject.campaign_id == seed.campaign_id)
            )
            == 0
        )


def test_a_networks_settings_are_saved_with_its_tab_or_alone(app, client, auth, seed):
    auth.login("editor")
    object_id = _create(client, seed, **{"options-linkedin-shown": "1", "options-linkedin-visibility": "LOGGED_IN"})
    assert _versions(app, object_id)[Platform.LINKEDIN].options == {"visibility": "LOGGED_IN"}
    # A form that shows the settings without the rest of the tab leaves the text as it was.
    url = f"/campaigns/{seed.campaign_id}/objects/{object_id}"
    assert (
        _post(client, url, _form(seed, **{"version-x-follow-message": None, "version-x-message": "X seul"})).status_code
        == 303
    )
    alone = {k: v for k, v in _form(seed).items() if not k.startswith("version-")}
    assert (
        _post(client, url, {**alone, "options-x-shown": "1", "options-x-reply_settings": "following"}).status_code
        == 303
    )
    found = _versions(app, object_id)
    assert found[Platform.X].message == "X seul" and found[Platform.X].options == {"reply_settings": "following"}
    assert found[Platform.LINKEDIN].options == {"visibility": "LOGGED_IN"}  # not shown: kept as saved


def test_the_preview_without_a_target_says_what_to_do(client, auth, seed):
    auth.login("editor")
    response = _post(client, f"/campaigns/{seed.campaign_id}/objects/preview", _form(seed, targets=[]))
    assert response.status_code == 200 and 'data-testid="preview-empty"' in response.get_data(as_text=True)


def test_a_version_edited_in_review_restarts_an_approval_chain(app, client, auth, in_review, team):
    """Only a network's text changes, after the chain's first step approved: the post goes back
    to the first step at once, as an edit of the base does (docs/approval-chains.md)."""
    from app.campaigns import objects
    from app.models import StepRule
    from tests.test_approval_chains import _approve, _chain, _queue

    [object_id] = in_review(1)
    _chain(
        app,
        object_id,
        team,
        ("Communication", StepRule.ANY, ["Marie"], None),
        ("Juridique", StepRule.ANY, ["Jean"], None),
    )
    _approve(app, object_id, team["Marie"])
    assert _queue(app, team["Jean"]) == [object_id]
    with app.app_context():
        obj = db.session.get(ContentObject, object_id)
        form = {
            "title": obj.title,
            "message": obj.message,
            "link": obj.link,
            "targets": objects.target_ids(obj),
            "scheduled_date": "",
            "scheduled_time": "",
            "version-linkedin": "1",
            "version-linkedin-message": "Pour LinkedIn",
            "version-linkedin-link-mode": "base",
            "version-linkedin-media-mode": "base",
        }
        campaign_id = obj.campaign_id
    auth.login("editor")
    assert _post(client, f"/campaigns/{campaign_id}/objects/{object_id}", form).status_code == 303
    assert _versions(app, object_id)[Platform.LINKEDIN].message == "Pour LinkedIn"
    assert _queue(app, team["Marie"]) == [object_id] and _queue(app, team["Jean"]) == []


def test_linkedin_alt_text_fields_follow_the_tab_files(app, client, auth, seed):
    """The per-image alt texts are drawn again from the tab's files as the form holds them
    (htmx, when the selection changes): its own files, or the base's while it follows them; a
    text typed stays, an image new to the form shows its stored text."""
    auth.login("editor")
    first, second = seed.media
    object_id = _create(
        client, seed, **{"options-linkedin-shown": "1", f"options-linkedin-alt_texts-{second}": "Texte enregistré"}
    )
    url = f"/campaigns/{seed.campaign_id}/objects/alt-texts/linkedin"
    own = _form(
        seed,
        object_id=str(object_id),
        **{
            "version-linkedin-media-mode": "own",
            "version-linkedin-media": [first],
            "options-linkedin-shown": "1",
            f"options-linkedin-alt_texts-{first}": "Une affiche bleue",
        },
    )
    response = _post(client, url, own)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'name="options-linkedin-alt_texts-{first}"' in html and ">Une affiche bleue</textarea>" in html
    assert f"alt_texts-{second}" not in html
    # Back to the base's two files: the second comes back with its stored text.
    response = _post(client, url, {**own, "version-linkedin-media-mode": "base"})
    html = response.get_data(as_text=True)
    assert ">Une affiche bleue</textarea>" in html and ">Texte enregistré</textarea>" in html
    # No image at all, and a network without alt texts or unknown.
    html = _post(client, url, {**own, "version-linkedin-media": []}).get_data(as_text=True)
    assert "No image in this version." in html and "<textarea" not in html
    assert _post(client, f"/campaigns/{seed.campaign_id}/objects/alt-texts/x", own).status_code == 404
    assert _post(client, f"/campaigns/{seed.campaign_id}/objects/alt-texts/myspace", own).status_code == 404
