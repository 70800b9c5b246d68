"""Publishing health, publications needing attention (retry, settle by hand), delivery timeline."""

import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    AuditEvent,
    Campaign,
    CampaignScenario,
    ContentObject,
    ObjectStatus,
    Platform,
    Publication,
    PublicationStatus as P,
    SocialAccount,
)
from tests.conftest import csrf_token

EN = {"Accept-Language": "en"}


@pytest.fixture
def troubled(app):
    """An object that failed: one target failed (4xx), one sent without news (unknown)."""
    with app.app_context():
        campaign = Campaign(name="Salon")
        obj = ContentObject(campaign=campaign, title="Teaser", message="m", status=ObjectStatus.FAILED)
        db.session.add(obj)
        ids = {}
        for platform, status in ((Platform.INSTAGRAM, P.FAILED), (Platform.FACEBOOK, P.UNKNOWN)):
            account = SocialAccount(
                platform=platform,
                label=f"{platform.value} FR",
                make_connection_id=77,
                account_identifier=str(uuid.uuid4().int % 10**12),
            )
            db.session.add(account)
            db.session.flush()
            scenario = CampaignScenario(campaign=campaign, social_account_id=account.id, status="ready")
            db.session.add(scenario)
            db.session.flush()
            pub = Publication(
                object_id=obj.id,
                campaign_scenario_id=scenario.id,
                fingerprint="sha256:x",
                idempotency_key=f"o{obj.id}-s{scenario.id}-g1",
                status=status,
                attempts=1,
                last_error="HTTP 400: bad media" if status is P.FAILED else "no callback",
            )
            db.session.add(pub)
            db.session.flush()
            ids[status] = pub.id
        db.session.commit()
        return obj.id, ids


def test_health_page_counts_per_network_and_lists_what_needs_attention(client, auth, troubled):
    auth.login("admin")
    html = client.get("/hooks/", headers=EN).get_data(as_text=True)
    assert "Instagram" in html and "Facebook" in html
    assert "Needing attention (2)" in html and "HTTP 400: bad media" in html


def test_retry_of_a_failed_publication_starts_a_new_generation(app, client, auth, troubled):
    object_id, ids = troubled
    auth.login("editor")
    response = client.post(
        f"/hooks/publications/{ids[P.FAILED]}/retry", data={"csrf_token": csrf_token(client, "/campaigns/")}
    )
    assert response.status_code == 303
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Publication).where(Publication.object_id == object_id).order_by(Publication.id)
        ).all()
        fresh = rows[-1]
        assert (fresh.generation, fresh.status) == (2, P.PENDING)
        assert fresh.idempotency_key.endswith("-g2") and fresh.fingerprint == "sha256:x"
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.PUBLISHING
    again = client.post(
        f"/hooks/publications/{ids[P.FAILED]}/retry",
        data={"csrf_token": csrf_token(client, "/campaigns/")},
        follow_redirects=True,
        headers=EN,
    )
    assert "already retried" in again.get_data(as_text=True)


def test_retry_of_an_unknown_publication_keeps_its_key(app, client, auth, troubled):
    _, ids = troubled
    auth.login("admin")
    client.post(f"/hooks/publications/{ids[P.UNKNOWN]}/retry", data={"csrf_token": csrf_token(client, "/hooks/")})
    with app.app_context():
        publication = db.session.get(Publication, ids[P.UNKNOWN])
        assert publication.status is P.PENDING and publication.generation == 1
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "publication_retried"))
        assert event.data == {"same_key": True} and event.actor_id == auth.user_id


def test_settle_by_hand_is_audited_and_the_object_follows(app, client, auth, troubled):
    object_id, ids = troubled
    auth.login("admin")
    client.post(
        f"/hooks/publications/{ids[P.UNKNOWN]}/settle",
        data={
            "csrf_token": csrf_token(client, "/hooks/"),
            "published": "1",
            "external_url": "https://www.facebook.com/post/1",
        },
    )
    with app.app_context():
        publication = db.session.get(Publication, ids[P.UNKNOWN])
        assert publication.status is P.PUBLISHED and publication.external_url == "https://www.facebook.com/post/1"
        assert (
            db.session.scalar(sa.select(AuditEvent.actor_id).where(AuditEvent.action == "publication_settled"))
            == auth.user_id
        )
        # one target still failed, none in flight: the object stays failed (shown as partial)
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.FAILED


def test_settle_refuses_a_publication_that_is_not_unknown(client, auth, troubled):
    _, ids = troubled
    auth.login("admin")
    page = client.post(
        f"/hooks/publications/{ids[P.FAILED]}/settle",
        data={"csrf_token": csrf_token(client, "/hooks/"), "published": "0"},
        follow_redirects=True,
        headers=EN,
    )
    assert "Only a publication without news from Make" in page.get_data(as_text=True)


def test_delivery_timeline_on_the_object_history(client, auth, troubled):
    object_id, _ = troubled
    auth.login("editor")
    html = client.get(f"/reviews/objects/{object_id}/history", headers=EN).get_data(as_text=True)
    assert 'data-testid="deliveries"' in html
    assert "Instagram · instagram FR" in html and "HTTP 400: bad media" in html


def test_the_timeline_speaks_the_users_language(app, client, auth, troubled):
    from app import audit
    from app.models import CallbackEvent

    object_id, ids = troubled
    with app.app_context():
        failed = db.session.get(Publication, ids[P.FAILED])
        audit.record("publish_attempt", failed, data={"attempt": 1, "outcome": "failed", "detail": "HTTP 400"})
        db.session.add(
            CallbackEvent(
                webhook_id=f"pub-{failed.id}:published:1",
                publication_id=failed.id,
                status="published",
                outcome="stale",
                raw_body="{}",
            )
        )
        db.session.commit()
    auth.login("editor")
    english = client.get(f"/reviews/objects/{object_id}/history", headers=EN).get_data(as_text=True)
    assert "Attempt 1: refused — HTTP 400" in english
    assert "Make called back: Published (already known)" in english
    french = client.get(f"/reviews/objects/{object_id}/history").get_data(as_text=True)
    assert "Tentative 1 : refusée — HTTP 400" in french
    assert "Retour de Make : Publié (déjà connu)" in french
