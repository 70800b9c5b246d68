"""Duplicate a post (app/campaigns/duplicate.py): into its campaign or another active one, with
its media order, its per-network versions and the targets the destination can take."""

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from app import versions
from app.campaigns import duplicate as duplicating, objects
from app.extensions import db
from app.models import (
    AuditEvent,
    Campaign,
    CampaignScenario,
    CampaignStatus,
    ContentObject,
    ObjectStatus,
    Platform,
    ScenarioStatus,
    SocialAccount,
    User,
)
from tests.conftest import csrf_token
from tests.objects_support import make_objects, seed_campaign

EN = {"Accept-Language": "en"}


def _source(seed, *, status=ObjectStatus.APPROVED):
    """A post to X and LinkedIn, approved and scheduled, with an X version of its own."""
    [object_id] = make_objects(
        seed.campaign_id,
        [seed.scenarios["x"], seed.scenarios["linkedin"]],
        list(reversed(seed.media)),
        1,
        statuses=(status,),
        scheduled_at=datetime.now(timezone.utc) + timedelta(days=3),
    )
    obj = db.session.get(ContentObject, object_id)
    versions.save(
        obj,
        Platform.X,
        message="Court pour X #salon",
        media=[seed.media[1]],
        crops={str(seed.media[1]): {"x": 0.4, "y": 0.5}},
    )
    versions.save(obj, Platform.LINKEDIN, link="", options={"visibility": "CONNECTIONS"})
    db.session.commit()
    return obj


def _editor():
    user = User(email=f"dup-{datetime.now().timestamp()}@example.org", name="Dup Licata", role="editor")
    db.session.add(user)
    db.session.flush()
    return user


def test_a_copy_in_the_same_campaign_is_a_fresh_draft_with_every_version(app):
    with app.test_request_context(headers=EN):
        seed = seed_campaign(media=2)
        source = _source(seed)
        actor = _editor()
        done = duplicating.duplicate(source, source.campaign, actor=actor)
        copy = done.copy
        assert copy.id != source.id and copy.campaign_id == source.campaign_id
        assert copy.title == "Post 0 (copy)" and copy.status is ObjectStatus.DRAFT
        assert copy.author_id == actor.id and copy.scheduled_at is None
        assert (copy.message, copy.link) == (source.message, source.link)
        assert objects.media_ids(copy) == list(reversed(seed.media))
        assert sorted(objects.target_ids(copy)) == sorted([seed.scenarios["x"], seed.scenarios["linkedin"]])
        assert [a.platform for a in done.kept] == [Platform.LINKEDIN, Platform.X] and done.dropped == []
        mine, theirs = versions.versions(copy), versions.versions(source)
        for platform in (Platform.X, Platform.LINKEDIN):
            assert (
                mine[platform].message,
                mine[platform].link,
                mine[platform].media_ids,
                mine[platform].options,
                mine[platform].crops,
                mine[platform].overridden,
            ) == (
                theirs[platform].message,
                theirs[platform].link,
                theirs[platform].media_ids,
                theirs[platform].options,
                theirs[platform].crops,
                theirs[platform].overridden,
            )
        assert mine[Platform.X].message == "Court pour X #salon" and mine[Platform.X].media_ids == [seed.media[1]]
        assert mine[Platform.LINKEDIN].link is None and mine[Platform.LINKEDIN].options == {"visibility": "CONNECTIONS"}
        # The copy's versions are its own: editing them leaves the source alone.
        versions.save(copy, Platform.X, message="Autre")
        assert versions.version(source, Platform.X).message == "Court pour X #salon"
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "object_duplicated", AuditEvent.subject_id == copy.id)
        )
        assert event.actor_id == actor.id and event.data["from_object"] == source.id
        assert event.data["versions"] == ["linkedin", "x"] and event.data["dropped_accounts"] == []


def test_a_copy_in_another_campaign_keeps_only_the_accounts_it_publishes_to(app):
    with app.test_request_context(headers=EN):
        seed = seed_campaign(media=2)
        source = _source(seed)
        other = Campaign(name="Rentrée")
        db.session.add(other)
        db.session.flush()
        x_account = db.session.get(CampaignScenario, seed.scenarios["x"]).social_account_id
        linkedin = db.session.get(CampaignScenario, seed.scenarios["linkedin"]).social_account_id
        kept = CampaignScenario(campaign_id=other.id, social_account_id=x_account, status=ScenarioStatus.READY)
        # LinkedIn's scenario failed there: the form would not offer it, so the copy does not take it.
        failed = CampaignScenario(campaign_id=other.id, social_account_id=linkedin, status=ScenarioStatus.FAILED)
        db.session.add_all([kept, failed])
        db.session.flush()
        done = duplicating.duplicate(source, other, actor=None)
        assert done.copy.campaign_id == other.id
        assert objects.target_ids(done.copy) == [kept.id]
        assert [a.id for a in done.kept] == [x_account] and [a.id for a in done.dropped] == [linkedin]
        # Only X is targeted now; the LinkedIn version comes along for when the account is added.
        assert list(versions.versions(done.copy)) == [Platform.X]
        assert versions.version(done.copy, Platform.LINKEDIN).options == {"visibility": "CONNECTIONS"}
        assert versions.version(done.copy, Platform.X).message == "Court pour X #salon"


def test_a_long_title_stays_within_the_column_with_its_suffix_in_french(app):
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert duplicating.copy_title("A" * 200) == "A" * (200 - len(" (copie)")) + " (copie)"
        assert duplicating.copy_title("Teaser") == "Teaser (copie)"


def test_the_post_page_offers_the_copy_and_the_form_defaults_to_this_campaign(app, client, auth):
    auth.login("editor")
    with app.app_context():
        seed = seed_campaign(media=2)
        source = _source(seed)
        archived = Campaign(name="Archivée", status=CampaignStatus.ARCHIVED)
        db.session.add(archived)
        db.session.commit()
        url = f"/campaigns/{seed.campaign_id}/objects/{source.id}"
        archived_id = archived.id
    page = client.get(url, headers=EN).get_data(as_text=True)
    assert f'href="{url}/duplicate"' in page
    board = client.get(f"/campaigns/{seed.campaign_id}/board", headers=EN).get_data(as_text=True)
    assert f'href="{url}/duplicate" data-testid="card-duplicate">Duplicate</a>' in board
    form = client.get(url + "/duplicate", headers=EN).get_data(as_text=True)
    assert f'<option value="{seed.campaign_id}" selected>' in form
    assert f'value="{archived_id}"' not in form  # archived campaigns take no new post
    token = csrf_token(client, url + "/duplicate")
    refused = client.post(url + "/duplicate", data={"campaign_id": archived_id, "csrf_token": token}, headers=EN)
    assert refused.status_code == 422 and "Choose an active campaign" in refused.get_data(as_text=True)
    response = client.post(url + "/duplicate", data={"campaign_id": seed.campaign_id, "csrf_token": token}, headers=EN)
    assert response.status_code == 303
    with app.app_context():
        copy = db.session.scalar(sa.select(ContentObject).order_by(ContentObject.id.desc()))
        assert response.headers["Location"].endswith(f"/campaigns/{seed.campaign_id}/objects/{copy.id}")
        assert copy.author_id == auth.user_id and copy.title == "Post 0 (copy)"
    shown = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Copy saved as a draft." in shown


def test_copying_into_a_campaign_without_an_account_says_which_ones_were_not_kept(app, client, auth):
    auth.login("editor")
    with app.app_context():
        seed = seed_campaign(media=2)
        source = _source(seed)
        other = Campaign(name="Rentrée")
        db.session.add(other)
        db.session.commit()
        url = f"/campaigns/{seed.campaign_id}/objects/{source.id}/duplicate"
        other_id = other.id
        labels = sorted(
            a.label
            for a in db.session.scalars(
                sa.select(SocialAccount)
                .join(CampaignScenario)
                .where(CampaignScenario.id.in_([seed.scenarios["x"], seed.scenarios["linkedin"]]))
            )
        )
    token = csrf_token(client, url)
    response = client.post(url, data={"campaign_id": other_id, "csrf_token": token}, headers=EN, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Copy saved as a draft in “Rentrée”." in body
    assert "Not kept, the campaign does not publish to them:" in body
    assert f"LinkedIn — {labels[0]}" in body and f"X — {labels[1]}" in body
