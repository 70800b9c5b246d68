"""Content objects: create and edit with validation that loses nothing, per-network checks and
previews, submission refused while a target network would refuse the post."""

import re
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    AuditEvent,
    CampaignScenario,
    ContentObject,
    ObjectMedia,
    ObjectStatus,
    Platform,
    Publication,
    object_targets,
)
from app.reviews import service as reviews
from tests.conftest import csrf_token
from tests.media_support import media_root  # noqa: F401
from tests.objects_support import make_asset, seed_campaign

EN = {"Accept-Language": "en"}


@pytest.fixture
def seed(app):
    with app.app_context():
        return seed_campaign()


def _form(seed, **overrides):
    data = {
        "title": "Teaser",
        "message": "Rendez-vous au salon #salon",
        "link": "https://example.org/salon",
        "media_ids": seed.media,
        "targets": [seed.scenarios["instagram"], seed.scenarios["linkedin"]],
        "scheduled_date": "",
        "scheduled_time": "",
    }
    data.update(overrides)
    return data


def _post(client, url, data):
    token = csrf_token(client, "/campaigns/")
    return client.post(url, data={**data, "csrf_token": token}, headers=EN)


def _obj(app, object_id=None):
    with app.app_context():
        query = sa.select(ContentObject).order_by(ContentObject.id.desc())
        obj = db.session.get(ContentObject, object_id) if object_id else db.session.scalar(query)
        media = list(
            db.session.scalars(
                sa.select(ObjectMedia.media_asset_id)
                .where(ObjectMedia.object_id == obj.id)
                .order_by(ObjectMedia.position)
            )
        )
        targets = sorted(
            db.session.scalars(
                sa.select(object_targets.c.campaign_scenario_id).where(object_targets.c.object_id == obj.id)
            )
        )
        return obj, media, targets


def test_create_keeps_media_order_targets_and_schedule_in_utc(app, client, auth, seed):
    auth.login("editor")
    url = f"/campaigns/{seed.campaign_id}/objects"
    form_page = client.get(url + "/new", headers=EN).get_data(as_text=True)
    # Only ready or provisioning scenarios are offered; the failed one is not.
    assert f'value="{seed.scenarios["instagram"]}"' in form_page
    assert f'value="{seed.scenarios["failed"]}"' not in form_page
    assert "/media/picker?field=media_ids" in form_page
    year = datetime.now(timezone.utc).year + 1
    response = _post(
        client,
        url,
        _form(seed, media_ids=list(reversed(seed.media)), scheduled_date=f"14/07/{year}", scheduled_time="12:00"),
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    obj, media, targets = _obj(app)
    assert media == list(reversed(seed.media))
    assert targets == sorted([seed.scenarios["instagram"], seed.scenarios["linkedin"]])
    assert obj.status is ObjectStatus.DRAFT and obj.author_id == auth.user_id
    assert obj.scheduled_at == datetime(year, 7, 14, 10, 0, tzinfo=timezone.utc)  # 12:00 in Paris in July
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(AuditEvent.action).where(
                    AuditEvent.subject_id == obj.id, AuditEvent.subject_type == "content_objects"
                )
            )
            == "object_created"
        )


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"title": ""}, "This field is required."),
        ({"link": "javascript:alert(1)"}, "starting with http:// or https://"),
        ({"link": "ftp://example.org/x"}, "starting with http:// or https://"),
        ({"targets": []}, "Choose at least one account"),
        ({"scheduled_date": "01/01/2020", "scheduled_time": "10:00"}, "Choose a moment in the future."),
        ({"scheduled_date": "31/02/2030", "scheduled_time": "10:00"}, "Enter the date as DD/MM/YYYY"),
        ({"scheduled_date": "14/07/2030", "scheduled_time": "25:00"}, "Enter the time as HH:MM"),
        ({"scheduled_date": "14/07/2030"}, "Enter the time as well as the date."),
        ({"scheduled_time": "09:30"}, "Enter the date as well as the time."),
    ],
)
def test_invalid_form_comes_back_as_typed_with_422(client, auth, seed, overrides, message):
    auth.login("editor")
    response = _post(client, f"/campaigns/{seed.campaign_id}/objects", _form(seed, **overrides))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert "Rendez-vous au salon #salon" in html  # what was typed is kept
    assert f"media_ids={seed.media[0]}&amp;media_ids={seed.media[1]}" in html  # the picker reloads the choice


def test_targets_must_be_offered_scenarios(client, auth, seed):
    auth.login("editor")
    response = _post(client, f"/campaigns/{seed.campaign_id}/objects", _form(seed, targets=[seed.scenarios["failed"]]))
    assert response.status_code == 422


def test_media_still_processing_is_refused(app, client, auth, seed):
    with app.app_context():
        from app.models import MediaStatus

        pending = make_asset("En cours", status=MediaStatus.PROCESSING).id
        db.session.commit()
    auth.login("editor")
    response = _post(client, f"/campaigns/{seed.campaign_id}/objects", _form(seed, media_ids=[pending]))
    assert response.status_code == 422 and "is not ready yet" in response.get_data(as_text=True)


def test_without_javascript_the_ticked_boxes_are_the_files(app, client, auth, seed):
    """`media_choice=noscript` (sent only from the form's <noscript> list): the boxes ticked
    there are the post's files, in their order, and the picker's hidden fields are ignored."""
    auth.login("editor")
    first, second = seed.media
    page = client.get(f"/campaigns/{seed.campaign_id}/objects/new", headers=EN).get_data(as_text=True)
    boxes = re.search(r'<ul class="noscript-media".*?</ul>', page, re.S).group(0)
    assert boxes.count('name="media_ids_noscript"') >= 2 and "checked" not in boxes
    data = _form(seed, media_ids=[first], media_choice="noscript", media_ids_noscript=[second, first])
    object_id = _create(client, seed, **data)
    assert _obj(app, object_id)[1] == [second, first]
    edit = client.get(f"/campaigns/{seed.campaign_id}/objects/{object_id}/edit", headers=EN).get_data(as_text=True)
    boxes = re.findall(r'name="media_ids_noscript" value="(\d+)"( checked)?', edit)
    assert boxes[:2] == [(str(second), " checked"), (str(first), " checked")]  # chosen first, in order
    refused = _post(client, f"/campaigns/{seed.campaign_id}/objects", {**data, "title": ""})
    assert refused.status_code == 422  # comes back with the boxes as ticked
    assert re.findall(r'name="media_ids_noscript" value="(\d+)" checked', refused.get_data(as_text=True)) == [
        str(second),
        str(first),
    ]


def _create(client, seed, **overrides):
    response = _post(client, f"/campaigns/{seed.campaign_id}/objects", _form(seed, **overrides))
    assert response.status_code == 303
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_object_page_shows_one_preview_per_target_with_problems(client, auth, seed):
    auth.login("editor")
    long_text = "Salon " * 60  # 360 characters: too long for X only
    object_id = _create(client, seed, message=long_text, targets=[seed.scenarios["x"], seed.scenarios["instagram"]])
    html = client.get(f"/campaigns/{seed.campaign_id}/objects/{object_id}", headers=EN).get_data(as_text=True)
    assert 'data-testid="preview-x"' in html and 'data-testid="preview-instagram"' in html
    assert 'data-testid="preview-linkedin"' not in html
    assert "the limit is 280" in html  # X counts its own way (the link weighs 23)
    assert '<del class="overflow"' in html  # the part X would cut is shown struck
    assert "Fits this network" in html  # Instagram takes it
    assert html.count('data-testid="link-not-posted"') == 2  # neither scenario posts the link field


def test_linkedin_previews_the_link_as_a_card_only_in_a_post_without_files(client, auth, seed):
    """LinkedIn's image post takes no link (app/integrations/blueprints/): the preview says so
    instead of showing a link card that would not be published."""
    auth.login("editor")
    page = "/campaigns/{}/objects/{}"
    with_files = _create(client, seed, targets=[seed.scenarios["linkedin"]])
    html = client.get(page.format(seed.campaign_id, with_files), headers=EN).get_data(as_text=True)
    assert 'class="preview-link"' not in html
    assert "With files, this network posts no link: put it in the message if it should appear." in html
    without = _create(client, seed, targets=[seed.scenarios["linkedin"]], media_ids=[])
    html = client.get(page.format(seed.campaign_id, without), headers=EN).get_data(as_text=True)
    assert '<p class="preview-link"><a href="https://example.org/salon"' in html
    assert 'data-testid="link-not-posted"' not in html


def test_submit_is_refused_with_the_problems_then_accepted(app, client, auth, seed):
    auth.login("editor")
    object_id = _create(client, seed, media_ids=[], targets=[seed.scenarios["instagram"]])
    url = f"/campaigns/{seed.campaign_id}/objects/{object_id}"
    token = csrf_token(client, url)
    refused = client.post(url + "/submit", data={"csrf_token": token}, headers=EN)
    # Back to the post's own address (not …/submit), with the refusal and each network's problem.
    assert refused.status_code == 303 and refused.headers["Location"] == url
    html = client.get(url, headers=EN).get_data(as_text=True)
    assert 'role="alert" data-testid="flash">Not sent to review: fix what the networks below would refuse.' in html
    assert "This network needs at least one photo or video." in html
    assert _obj(app, object_id)[0].status is ObjectStatus.DRAFT
    # Fix it (add the media), then submit.
    saved = _post(client, url, _form(seed, targets=[seed.scenarios["instagram"]]))
    assert saved.status_code == 303
    assert ">Post saved.</p>" in client.get(url, headers=EN).get_data(as_text=True)
    done = client.post(url + "/submit", data={"csrf_token": token}, headers=EN)
    assert done.status_code == 303
    assert "Sent to review" in client.get(url, headers=EN).get_data(as_text=True)
    assert _obj(app, object_id)[0].status is ObjectStatus.IN_REVIEW
    again = client.post(url + "/submit", data={"csrf_token": token}, headers=EN)
    assert again.status_code == 409


def test_editing_an_approved_object_sends_it_back_to_review(app, client, auth, seed, make_user):
    auth.login("editor")
    object_id = _create(client, seed)
    with app.app_context():
        from app.models import User

        approver = db.session.get(User, make_user("approver")[0])
        editor = db.session.get(User, auth.user_id)
        obj = db.session.get(ContentObject, object_id)
        reviews.submit(obj, by=editor)
        reviews.approve(obj, by=approver)
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Publication)) == 2
    url = f"/campaigns/{seed.campaign_id}/objects/{object_id}"
    assert "sends it back to review" in client.get(url + "/edit", headers=EN).get_data(as_text=True)
    # Saving without a change changes nothing.
    assert _post(client, url, _form(seed)).status_code == 303
    assert _obj(app, object_id)[0].status is ObjectStatus.APPROVED
    assert _post(client, url, _form(seed, message="Nouveau texte")).status_code == 303
    obj = _obj(app, object_id)[0]
    assert obj.status is ObjectStatus.IN_REVIEW and obj.message == "Nouveau texte"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Publication)) == 0  # withdrawn
        actions = list(
            db.session.scalars(
                sa.select(AuditEvent.action)
                .where(AuditEvent.subject_type == "content_objects", AuditEvent.subject_id == object_id)
                .order_by(AuditEvent.id)
            )
        )
    assert actions[-2:] == ["object_updated", "status:in_review"]


def test_a_published_object_cannot_be_edited(app, client, auth, seed):
    auth.login("editor")
    object_id = _create(client, seed)
    with app.app_context():
        db.session.execute(
            sa.update(ContentObject).where(ContentObject.id == object_id).values(status=ObjectStatus.PUBLISHED)
        )
        db.session.commit()
    url = f"/campaigns/{seed.campaign_id}/objects/{object_id}"
    assert client.get(url + "/edit").status_code == 409
    token = csrf_token(client, url)
    assert client.post(url, data={**_form(seed), "csrf_token": token}).status_code == 409


def test_an_object_of_another_campaign_is_not_found(app, client, auth, seed):
    auth.login("editor")
    object_id = _create(client, seed)
    with app.app_context():
        other = seed_campaign(platforms=(Platform.X,), extra_statuses=(), media=0)
    assert client.get(f"/campaigns/{other.campaign_id}/objects/{object_id}").status_code == 404


def test_approvers_cannot_open_the_editor_pages(client, auth, seed):
    auth.login("approver")
    assert client.get(f"/campaigns/{seed.campaign_id}/objects/new").status_code == 403
    assert client.get(f"/campaigns/{seed.campaign_id}/board").status_code == 403


def test_demo_seed_adds_a_draft_and_a_post_in_review_with_pictures(app, media_root):
    from app.cli import seed_demo
    from app.models import MediaAsset, ObjectMedia

    with app.app_context():
        before = set(db.session.scalars(sa.select(ContentObject.id)))
        seed_demo(social=True)
        seeded = db.session.scalars(
            sa.select(ContentObject).where(ContentObject.id.not_in(before)).order_by(ContentObject.status)
        ).all()
        assert [obj.status.value for obj in seeded] == ["draft", "in_review"]
        pictures = {
            obj.status.value: db.session.scalars(
                sa.select(MediaAsset.filename)
                .join(ObjectMedia)
                .where(ObjectMedia.object_id == obj.id)
                .order_by(ObjectMedia.position)
            ).all()
            for obj in seeded
        }
        assert pictures == {
            "draft": ["banniere-programme.jpg"],
            "in_review": ["affiche-salon-2026.jpg", "coulisses-du-stand.jpg"],
        }
        poster = db.session.scalar(sa.select(MediaAsset).where(MediaAsset.filename == "affiche-salon-2026.jpg"))
        assert poster.mime == "image/jpeg" and [t.name for t in poster.tags] == ["Affiche", "Salon 2026"]
    assert len([f for f in media_root.joinpath("objects").rglob("*") if f.is_file()]) == 3  # stored like uploads


def test_cut_keeps_what_the_network_counts_within_its_limit():
    from app.campaigns.objects import cut

    assert cut("abc", "chars", 5) == ("abc", "")
    assert cut("é" * 10, "utf8_bytes", 5) == ("éé", "é" * 8)  # 2 bytes each
    kept, overflow = cut("日本" * 100, "x_weighted", 280)  # weight 2 each on X
    assert len(kept) == 140 and kept + overflow == "日本" * 100


def test_the_edit_form_shows_the_schedule_in_paris_time(app, client, auth, seed):
    auth.login("editor")
    year = datetime.now(timezone.utc).year + 1
    object_id = _create(client, seed, scheduled_date=f"20.1.{year}", scheduled_time="9h30")  # as typed on a phone
    assert _obj(app, object_id)[0].scheduled_at == datetime(year, 1, 20, 8, 30, tzinfo=timezone.utc)  # winter: UTC+1
    html = client.get(f"/campaigns/{seed.campaign_id}/objects/{object_id}/edit", headers=EN).get_data(as_text=True)
    assert f'value="20/01/{year}"' in html and 'value="09:30"' in html
    assert 'lang="en"' in html and "DD/MM/YYYY" in html  # a visible hint of the format


def test_saving_and_submitting_over_htmx_say_so_on_the_post_page(app, client, auth, seed):
    auth.login("editor")
    object_id = _create(client, seed, targets=[seed.scenarios["instagram"]])
    url = f"/campaigns/{seed.campaign_id}/objects/{object_id}"
    token = csrf_token(client, url)
    done = client.post(url + "/submit", data={"csrf_token": token}, headers={**EN, "HX-Request": "true"})
    assert done.status_code == 204 and done.headers["HX-Location"] == url
    assert "Sent to review" in client.get(url, headers=EN).get_data(as_text=True)


def test_the_post_page_links_each_live_post_and_shows_no_seconds(app, client, auth, seed):
    auth.login("editor")
    year = datetime.now(timezone.utc).year + 1
    object_id = _create(client, seed, scheduled_date=f"14/07/{year}", scheduled_time="12:00")
    with app.app_context():
        db.session.execute(
            sa.update(ContentObject).where(ContentObject.id == object_id).values(status=ObjectStatus.PUBLISHED)
        )
        for generation, (scenario, url) in enumerate(
            (
                (seed.scenarios["instagram"], "https://www.instagram.com/p/old/"),
                (seed.scenarios["instagram"], "https://www.instagram.com/p/new/"),
                (seed.scenarios["linkedin"], "javascript:alert(1)"),
            ),
            1,
        ):
            db.session.add(
                Publication(
                    object_id=object_id,
                    campaign_scenario_id=scenario,
                    generation=generation,
                    idempotency_key=f"live-{object_id}-{generation}",
                    fingerprint="f",
                    status="published",
                    external_url=url,
                )
            )
        db.session.commit()
    html = client.get(f"/campaigns/{seed.campaign_id}/objects/{object_id}", headers={"Accept-Language": "fr"}).get_data(
        as_text=True
    )
    live = html[html.index('data-testid="live-links"') :]
    live = live[: live.index("</ul>")]
    assert 'href="https://www.instagram.com/p/new/"' in live and "/p/old/" not in live  # the newest generation
    assert "javascript:" not in html and "sans adresse utilisable" in live
    assert f"14/07/{year} 12:00" in html and f"14/07/{year} 12:00:00" not in html


def test_french_quotes_take_non_breaking_spaces():
    """« … » with a non-breaking space inside, so a line never starts with a lone guillemet."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    path = Path(__file__).resolve().parent.parent / "app/translations/fr/LC_MESSAGES/messages.po"
    with path.open("rb") as f:
        catalog = read_po(f)
    wrong = [
        message.id
        for message in catalog
        if message.id
        for text in (message.string if isinstance(message.string, tuple) else (message.string,))
        if text and ("« " in text or " »" in text or "“" in text or "”" in text)
    ]
    assert wrong == []


def test_make_ids_only_for_admins(app, client, auth, seed):
    with app.app_context():
        db.session.execute(
            sa.update(CampaignScenario)
            .where(CampaignScenario.id == seed.scenarios["instagram"])
            .values(make_scenario_id=926)
        )
        db.session.commit()
    for role, shown in (("editor", False), ("admin", True)):
        auth.login(role)
        html = client.get(f"/campaigns/{seed.campaign_id}", headers=EN).get_data(as_text=True)
        assert ("Make scenario 926" in html) is shown, role
        auth.logout()
