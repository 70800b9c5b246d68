"""The publishing health page tells the truth, in the reader's language.

- a failure that a retry has since published is no longer listed (only targets whose latest
  generation failed or has no answer are);
- statuses, callback outcomes and system notes are words, numbers are formatted by locale,
  callbacks are named by post, network and account (never by their event id);
- "settle by hand" takes only a safe address (422 with the error in place, nothing lost), and
  the post's history shows an unsafe address recorded earlier as text, never as a link."""

import json
import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    CallbackEvent,
    Campaign,
    ContentObject,
    ObjectStatus,
    Platform,
    Publication,
    PublicationStatus as P,
)
from app.models.base import utcnow
from tests.conftest import csrf_token
from tests.targets_support import add_target

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}


@pytest.fixture
def desk(app):
    """A post whose Instagram target failed and was retried; a Facebook target with no answer;
    a second post whose LinkedIn target failed and was not retried."""
    with app.app_context():
        campaign = Campaign(name="Salon")
        first = ContentObject(campaign=campaign, title="Affiche du salon", message="m", status=ObjectStatus.FAILED)
        second = ContentObject(campaign=campaign, title="Programme", message="m", status=ObjectStatus.FAILED)
        db.session.add_all([first, second])
        db.session.flush()
        instagram = add_target(campaign, Platform.INSTAGRAM, "Insta FR")
        facebook = add_target(campaign, Platform.FACEBOOK, "Page FR")
        linkedin = add_target(campaign, Platform.LINKEDIN, "Page LinkedIn")

        def publication(obj, scenario, status, generation=1, **fields):
            row = Publication(
                object_id=obj.id,
                campaign_scenario_id=scenario,
                fingerprint="sha256:x",
                generation=generation,
                idempotency_key=f"o{obj.id}-s{scenario}-g{generation}",
                status=status,
                attempts=1,
                **fields,
            )
            db.session.add(row)
            db.session.flush()
            return row.id

        ids = {
            "retried_failure": publication(first, instagram, P.FAILED, last_error="HTTP 400: bad media"),
            "unknown": publication(first, facebook, P.UNKNOWN, last_error="no callback"),
            "failure": publication(second, linkedin, P.FAILED, last_error="marked failed by hand"),
        }
        db.session.commit()
        return {"first": first.id, "second": second.id, **ids}


def test_a_failure_published_by_a_retry_is_no_longer_listed(app, client, auth, desk):
    auth.login("admin")
    response = client.post(
        f"/hooks/publications/{desk['retried_failure']}/retry", data={"csrf_token": csrf_token(client, "/hooks/")}
    )
    assert response.status_code == 303
    with app.app_context():  # the retry's new generation is published
        fresh = db.session.scalar(
            sa.select(Publication).where(Publication.object_id == desk["first"], Publication.generation == 2)
        )
        fresh.status, fresh.completed_at = P.PUBLISHED, utcnow()
        db.session.commit()
    html = client.get("/hooks/", headers=EN).get_data(as_text=True)
    assert f'data-testid="attention-{desk["retried_failure"]}"' not in html
    assert f'data-testid="attention-{desk["unknown"]}"' in html
    assert f'data-testid="attention-{desk["failure"]}"' in html
    assert "Needing attention (2)" in html


def test_a_retry_that_failed_again_is_listed_once(app, client, auth, desk):
    auth.login("admin")
    client.post(
        f"/hooks/publications/{desk['retried_failure']}/retry", data={"csrf_token": csrf_token(client, "/hooks/")}
    )
    with app.app_context():
        fresh = db.session.scalar(
            sa.select(Publication).where(Publication.object_id == desk["first"], Publication.generation == 2)
        )
        fresh.status, fresh_id = P.FAILED, fresh.id
        db.session.commit()
    html = client.get("/hooks/", headers=EN).get_data(as_text=True)
    assert f'data-testid="attention-{fresh_id}"' in html
    assert f'data-testid="attention-{desk["retried_failure"]}"' not in html
    assert "Needing attention (3)" in html


def test_callbacks_are_named_by_post_network_and_account_in_french(app, client, auth, desk):
    with app.app_context():
        for n, (status, outcome) in enumerate((("published", "applied"), ("failed", "stale"))):
            db.session.add(
                CallbackEvent(
                    webhook_id=f"pub-{desk['unknown']}:{status}:{n}",
                    publication_id=desk["unknown"],
                    status=status,
                    outcome=outcome,
                    raw_body="{}",
                    applied_at=utcnow(),
                )
            )
        db.session.add(
            CallbackEvent(
                webhook_id="pub-99999:published:1",
                status="published",
                outcome="unknown_publication",
                raw_body="{}",
                applied_at=utcnow(),
            )
        )
        db.session.commit()
    auth.login("admin")
    html = client.get("/hooks/", headers=FR).get_data(as_text=True)
    table = html[html.index('data-testid="callbacks"') :]
    assert "pub-" not in html  # no event ids shown to people
    assert "Affiche du salon" in table and "Facebook · Page FR" in table
    assert "Publié" in table and "Échec" in table
    assert "enregistré" in table and "déjà connu" in table and "Publication inconnue" in table
    words = set(re.findall(r">\s*([a-z_]+)\s*<", table))
    assert not words & {"published", "failed", "applied", "stale", "unknown_publication"}


def test_system_notes_and_statuses_read_in_french(app, client, auth, desk):
    auth.login("admin")
    client.post(
        f"/hooks/publications/{desk['retried_failure']}/retry", data={"csrf_token": csrf_token(client, "/hooks/")}
    )
    html = client.get("/hooks/", headers=FR).get_data(as_text=True)
    assert "marquée à la main comme non publiée" in html and "marked failed by hand" not in html
    card = html[html.index(f'data-testid="attention-{desk["unknown"]}"') :]
    assert '<span class="badge badge-warn">Sans réponse</span>' in card[:600]
    history = client.get(f"/reviews/objects/{desk['first']}/history", headers=FR).get_data(as_text=True)
    assert "<blockquote>publication relancée</blockquote>" in history
    assert "<blockquote>retry</blockquote>" not in history


def test_the_media_replaced_note_reads_in_french(app, client, auth, desk):
    from app import workflow

    with app.app_context():
        obj = db.session.get(ContentObject, desk["second"])
        obj.status = ObjectStatus.APPROVED
        workflow.transition(obj, ObjectStatus.IN_REVIEW, actor=None, comment="media file replaced by a new version")
        db.session.commit()
    auth.login("editor")
    history = client.get(f"/reviews/objects/{desk['second']}/history", headers=FR).get_data(as_text=True)
    assert "un fichier média a été remplacé par une nouvelle version" in history
    english = client.get(f"/reviews/objects/{desk['second']}/history", headers=EN).get_data(as_text=True)
    assert "a media file was replaced by a new version" in english


def test_numbers_are_formatted_by_locale(app, client, auth, desk):
    with app.app_context():
        scenario = db.session.scalar(
            sa.select(Publication.campaign_scenario_id).where(Publication.id == desk["failure"])
        )
        db.session.execute(
            sa.insert(Publication),
            [
                {
                    "object_id": desk["second"],
                    "campaign_scenario_id": scenario,
                    "generation": n,
                    "fingerprint": "x",
                    "idempotency_key": f"bulk-{n}",
                    "status": P.PUBLISHED,
                }
                for n in range(2, 1236)
            ],
        )
        db.session.commit()
    auth.login("admin")
    french = client.get("/hooks/", headers=FR).get_data(as_text=True)
    english = client.get("/hooks/", headers=EN).get_data(as_text=True)
    # LinkedIn: 1,234 published (French groups digits with a narrow no-break space)
    assert re.search(r'<td data-label="Publié">1\u202f234</td>', french)
    assert re.search(r'<td data-label="Published">1,234</td>', english)


def test_settle_refuses_an_unsafe_address_and_keeps_what_was_typed(app, client, auth, desk):
    auth.login("admin")
    typed = "javascript:alert(document.cookie)"
    response = client.post(
        f"/hooks/publications/{desk['unknown']}/settle",
        headers=FR,
        data={"csrf_token": csrf_token(client, "/hooks/"), "published": "1", "external_url": typed},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    card = html[html.index(f'data-testid="attention-{desk["unknown"]}"') :]
    assert "<details open>" in card[:3000]
    assert 'value="javascript:alert(document.cookie)"' in card and 'aria-invalid="true"' in card
    assert "Saisissez l’adresse complète de la publication en ligne" in card
    with app.app_context():
        assert db.session.get(Publication, desk["unknown"]).status is P.UNKNOWN  # nothing recorded
    for address in (" javascript:alert(1)", "java\tscript:alert(1)", "data:text/html,x", "/relative", "ftp://x.org/a"):
        again = client.post(
            f"/hooks/publications/{desk['unknown']}/settle",
            headers=EN,
            data={"csrf_token": csrf_token(client, "/hooks/"), "published": "1", "external_url": address},
        )
        assert again.status_code == 422, address
    fine = client.post(
        f"/hooks/publications/{desk['unknown']}/settle",
        data={
            "csrf_token": csrf_token(client, "/hooks/"),
            "published": "1",
            "external_url": "https://www.facebook.com/salon/posts/1",
        },
    )
    assert fine.status_code == 303
    with app.app_context():
        publication = db.session.get(Publication, desk["unknown"])
        assert (publication.status, publication.external_url) == (P.PUBLISHED, "https://www.facebook.com/salon/posts/1")


def test_history_shows_an_unsafe_address_as_text_only(app, client, auth, desk):
    with app.app_context():
        db.session.execute(
            sa.update(Publication)
            .where(Publication.id == desk["unknown"])
            .values(status=P.PUBLISHED, external_url="javascript:alert(document.domain)")
        )
        db.session.execute(
            sa.update(Publication)
            .where(Publication.id == desk["retried_failure"])
            .values(status=P.PUBLISHED, external_url="https://www.instagram.com/p/abc")
        )
        db.session.commit()
    auth.login("editor")
    html = client.get(f"/reviews/objects/{desk['first']}/history", headers=EN).get_data(as_text=True)
    assert 'href="javascript:' not in html
    assert "<code>javascript:alert(document.domain)</code>" in html
    assert 'href="https://www.instagram.com/p/abc"' in html


def test_events_set_aside_are_listed_for_admins(app, client, auth, desk):
    with app.app_context():
        db.session.add(
            CallbackEvent(
                webhook_id=f"pub-{desk['unknown']}:failed:7",
                publication_id=desk["unknown"],
                status="failed",
                outcome="could_not_apply",
                raw_body=json.dumps({"status": "failed", "error": "Media rejected"}),
                attempts=5,
                last_error="AttributeError: 'str' object has no attribute 'get'",
                applied_at=utcnow(),
            )
        )
        db.session.commit()
    auth.login("admin")
    html = client.get("/hooks/", headers=FR).get_data(as_text=True)
    section = html[html.index('id="could-not-apply"') : html.index('id="attention"')]
    assert "Retours de Make qui n’ont pas pu être appliqués (1)" in section
    assert "Affiche du salon" in section and "Facebook · Page FR" in section
    assert "Le message de Make n’a pas la forme attendue" in section
    assert "<code>failed</code>" in section and "5 tentatives" in section
    assert "pub-" not in html
    auth.logout()
    auth.login("editor")
    assert client.get("/hooks/").status_code == 403
