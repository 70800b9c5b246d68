"""The review queue: approve in one tap (writing the outbox), request changes with a comment."""

import re
import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import (
    Approval,
    Campaign,
    CampaignScenario,
    ContentObject,
    Decision,
    ObjectStatus,
    Platform,
    Publication,
    PublicationStatus,
    SocialAccount,
    object_targets,
)
from tests.conftest import csrf_token

HX = {"HX-Request": "true", "Accept-Language": "en"}


@pytest.fixture
def in_review(app):
    def make(count=1, targets=2):
        with app.app_context():
            campaign = Campaign(name="Salon 2026")
            db.session.add(campaign)
            db.session.flush()
            scenarios = []
            for n, platform in enumerate((Platform.INSTAGRAM, Platform.LINKEDIN)[:targets]):
                account = SocialAccount(
                    platform=platform,
                    label=f"Compte {n}",
                    make_connection_id=77,
                    account_identifier=f"{n}{uuid.uuid4().int % 10**12}",
                )
                db.session.add(account)
                db.session.flush()
                scenario = CampaignScenario(
                    campaign_id=campaign.id,
                    social_account_id=account.id,
                    status="ready",
                    webhook_url="http://127.0.0.1:9/hook",
                )
                db.session.add(scenario)
                db.session.flush()
                scenarios.append(scenario.id)
            ids = []
            for n in range(count):
                obj = ContentObject(
                    campaign_id=campaign.id,
                    title=f"Teaser {n}",
                    message="Rendez-vous au salon",
                    link="https://example.org/salon",
                    status=ObjectStatus.IN_REVIEW,
                )
                db.session.add(obj)
                db.session.flush()
                ids.append(obj.id)
                db.session.execute(
                    object_targets.insert(), [{"object_id": obj.id, "campaign_scenario_id": s} for s in scenarios]
                )
            db.session.commit()
            return ids

    return make


def test_queue_shows_each_post_with_its_targets(client, auth, in_review):
    in_review(2)
    auth.login("approver")
    html = client.get("/reviews/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html.count('data-testid="review-card"') == 2
    assert "Instagram · Compte 0" in html and "LinkedIn · Compte 1" in html
    assert "2 posts wait for your decision." in html


def test_per_network_previews_load_into_the_card_on_demand(client, auth, in_review):
    [object_id] = in_review(1)
    auth.login("approver")
    html = client.get("/reviews/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'hx-get="/reviews/objects/{object_id}/previews"' in html and 'data-testid="preview-' not in html
    fragment = client.get(
        f"/reviews/objects/{object_id}/previews", headers={"Accept-Language": "en", "HX-Request": "true"}
    )
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert 'data-testid="preview-instagram"' in body and 'data-testid="preview-linkedin"' in body
    instagram = body.split('data-testid="preview-instagram"')[1].split("</li>\n  \n")[0]
    assert "This network needs at least one photo or video." in instagram  # the approver sees why
    assert client.get("/reviews/objects/999999/previews").status_code == 404


def test_approve_writes_the_outbox_in_the_same_transaction(app, client, auth, in_review):
    [object_id] = in_review(1)
    auth.login("approver")
    response = client.post(
        f"/reviews/{object_id}/approve", headers={**HX, "X-CSRFToken": csrf_token(client, "/reviews/")}
    )
    assert response.status_code == 200
    assert 'data-testid="review-decided"' in response.get_data(as_text=True)
    with app.app_context():
        obj = db.session.get(ContentObject, object_id)
        assert obj.status is ObjectStatus.APPROVED
        approval = db.session.scalar(sa.select(Approval))
        assert approval.decision is Decision.APPROVED and approval.fingerprint.startswith("sha256:")
        pubs = db.session.scalars(sa.select(Publication)).all()
        assert len(pubs) == 2 and {p.status for p in pubs} == {PublicationStatus.PENDING}
        assert {p.fingerprint for p in pubs} == {approval.fingerprint}
        assert len({p.idempotency_key for p in pubs}) == 2


def test_request_changes_needs_a_comment_and_keeps_it(app, client, auth, in_review):
    [object_id] = in_review(1)
    auth.login("approver")
    token = csrf_token(client, "/reviews/")
    empty = client.post(f"/reviews/{object_id}/changes", data={"comment": "  "}, headers={**HX, "X-CSRFToken": token})
    assert empty.status_code == 422
    assert "A comment is required: say what should change" in empty.get_data(as_text=True)
    done = client.post(
        f"/reviews/{object_id}/changes", data={"comment": "Le visuel est flou"}, headers={**HX, "X-CSRFToken": token}
    )
    assert done.status_code == 200
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.CHANGES_REQUESTED
        assert db.session.scalar(sa.select(Approval.comment)) == "Le visuel est flou"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Publication)) == 0
    history = client.get(f"/reviews/objects/{object_id}/history", headers={"Accept-Language": "en"})
    text = history.get_data(as_text=True)
    assert "Le visuel est flou" in text and "moved to Changes requested" in text


def test_second_decision_is_told_it_was_already_handled(app, client, auth, in_review, make_user):
    [object_id] = in_review(1)
    auth.login("approver")
    token = csrf_token(client, "/reviews/")
    assert client.post(f"/reviews/{object_id}/approve", headers={**HX, "X-CSRFToken": token}).status_code == 200
    again = client.post(f"/reviews/{object_id}/approve", headers={**HX, "X-CSRFToken": token})
    assert again.status_code == 409 and "already handled" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Publication)) == 2


def test_without_javascript_a_decision_redirects_to_the_queue(client, auth, in_review):
    [object_id] = in_review(1)
    auth.login("approver")
    response = client.post(f"/reviews/{object_id}/approve", data={"csrf_token": csrf_token(client, "/reviews/")})
    assert response.status_code == 303 and response.headers["Location"] == "/reviews/"


def _count_queries(app, client):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        bind = db.engine
    sa.event.listen(bind, "before_cursor_execute", count)
    try:
        assert client.get("/reviews/").status_code == 200
    finally:
        sa.event.remove(bind, "before_cursor_execute", count)
    return len(statements)


def test_queue_query_count_does_not_grow_with_the_page(app, client, auth, in_review):
    auth.login("approver")
    in_review(2)
    few = _count_queries(app, client)
    in_review(15)
    many = _count_queries(app, client)
    assert few == many


def test_a_change_after_approval_sends_the_post_back_and_withdraws_unsent_publications(
    app, client, auth, in_review, make_user
):
    [object_id] = in_review(1)
    auth.login("approver")
    client.post(f"/reviews/{object_id}/approve", headers={**HX, "X-CSRFToken": csrf_token(client, "/reviews/")})
    editor_id, _ = make_user("editor")
    from app.models import User
    from app.reviews import service

    with app.app_context():
        editor = db.session.get(User, editor_id)
        reopened = service.reopen_after_change([object_id], by=editor, reason="media replaced")
        db.session.commit()
        assert [o.id for o in reopened] == [object_id]
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.IN_REVIEW
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Publication)) == 0


def test_a_post_already_publishing_is_not_sent_back(app, in_review, make_user):
    [object_id] = in_review(1)
    editor_id, _ = make_user("editor")
    from app.models import User
    from app.reviews import service

    with app.app_context():
        db.session.get(ContentObject, object_id).status = ObjectStatus.PUBLISHING
        db.session.commit()
        assert service.reopen_after_change([object_id], by=db.session.get(User, editor_id), reason="edit") == []
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.PUBLISHING


# -- What an approver may read (issue 16.8) ----------------------------------------------------


def _with_status(app, object_id, status):
    with app.app_context():
        db.session.get(ContentObject, object_id).status = status
        db.session.commit()


def _reviews_routes(object_id):
    """Every route of the reviews area that takes a post's id, with its method."""
    return [
        ("get", f"/reviews/objects/{object_id}/history"),
        ("get", f"/reviews/objects/{object_id}/previews"),
        ("post", f"/reviews/{object_id}/approve"),
        ("post", f"/reviews/{object_id}/changes"),
        ("post", f"/reviews/{object_id}/undo"),
    ]


def test_every_reviews_route_taking_an_id_is_listed(app):
    with app.test_request_context():
        rules = {
            rule.rule
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("reviews.") and "object_id" in rule.arguments
        }
    assert rules == {path.replace("/1/", "/<int:object_id>/") for _, path in _reviews_routes(1)}


def _page_text(response) -> str:
    """The answer without what changes on every request (CSP nonce, CSRF token)."""
    return re.sub(
        r'(nonce|value|content|hx-headers)=("[^"]*"|' "'" '[^' "'" ']*' "'" ')', "", response.get_data(as_text=True)
    )


@pytest.mark.parametrize("method,path", _reviews_routes("{id}"))
def test_an_approver_is_not_told_a_draft_exists(app, client, auth, in_review, method, path):
    [object_id] = in_review(1)
    _with_status(app, object_id, ObjectStatus.DRAFT)
    auth.login("approver")
    headers = {"X-CSRFToken": csrf_token(client, "/reviews/"), "Accept-Language": "en"}
    draft = getattr(client, method)(path.format(id=object_id), data={"comment": "Trop long"}, headers=headers)
    missing = getattr(client, method)(path.format(id=999999), data={"comment": "Trop long"}, headers=headers)
    assert draft.status_code == missing.status_code == 404
    assert _page_text(draft) == _page_text(missing)
    assert "Teaser 0" not in draft.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.DRAFT
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Approval)) == 0


@pytest.mark.parametrize("status", [s for s in ObjectStatus if s is not ObjectStatus.DRAFT])
def test_an_approver_reads_what_is_in_review_or_decided(app, client, auth, in_review, status):
    [object_id] = in_review(1)
    _with_status(app, object_id, status)
    auth.login("approver")
    for path in (f"/reviews/objects/{object_id}/history", f"/reviews/objects/{object_id}/previews"):
        response = client.get(path, headers={"Accept-Language": "en"})
        assert response.status_code == 200 and "Teaser 0" in response.get_data(as_text=True), path


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_editors_and_admins_still_read_drafts(app, client, auth, in_review, role):
    [object_id] = in_review(1)
    _with_status(app, object_id, ObjectStatus.DRAFT)
    auth.login(role)
    for path in (f"/reviews/objects/{object_id}/history", f"/reviews/objects/{object_id}/previews"):
        assert client.get(path).status_code == 200, path


# -- "Request changes" refused, and the previews opened without htmx (issue 15.1, 15.6) ---------


def _add_poster(app, object_id):
    from app.models import ObjectMedia
    from tests.objects_support import make_asset

    with app.app_context():
        poster = make_asset("Affiche du salon", thumb_path="derived/none.webp")
        db.session.add(ObjectMedia(object_id=object_id, media_asset_id=poster.id, position=0))
        db.session.commit()
        return poster.id


@pytest.mark.parametrize("comment", ["", "   \n  "])
def test_a_blank_comment_comes_back_in_its_card_with_its_media(app, client, auth, in_review, comment):
    [object_id] = in_review(1)
    poster_id = _add_poster(app, object_id)
    auth.login("approver")
    token = csrf_token(client, "/reviews/")
    response = client.post(
        f"/reviews/{object_id}/changes", data={"comment": comment}, headers={"HX-Request": "true", "X-CSRFToken": token}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in html
    assert html.lstrip().startswith(f'<li class="card review-card" id="review-{object_id}"')
    assert "Un commentaire est requis" in html and 'aria-invalid="true"' in html
    assert "<details class=\"changes\" open>" in html
    assert f"/media/{poster_id}/thumb" in html  # the card keeps its media thumbnails
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.IN_REVIEW


def test_without_javascript_a_refused_comment_shows_the_queue_with_that_card_open(app, client, auth, in_review):
    first, second = in_review(2)
    auth.login("approver")
    long_comment = "x" * 2001
    response = client.post(
        f"/reviews/{second}/changes",
        data={"comment": long_comment, "csrf_token": csrf_token(client, "/reviews/")},
        headers={"Accept-Language": "en"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in html
    assert html.count('data-testid="review-card"') == 2
    refused = html.split(f'id="review-{second}"')[1]
    assert long_comment in refused and "at most 2000" in refused.replace("longer than", "at most")
    assert 'aria-invalid="true"' not in html.split(f'id="review-{first}"')[1].split("</li>\n")[0]


def test_previews_opened_directly_are_a_whole_page(client, auth, in_review):
    [object_id] = in_review(1)
    auth.login("approver")
    page = client.get(f"/reviews/objects/{object_id}/previews", headers={"Accept-Language": "en"})
    body = page.get_data(as_text=True)
    # The page's own stylesheet (content-hashed outside debug: objects.<hash>.css).
    assert page.status_code == 200 and "<html" in body
    assert re.search(r'href="/static/objects(\.[0-9a-f]+)?\.css"', body)
    assert 'data-testid="preview-instagram"' in body and "<h1>Teaser 0</h1>" in body
    assert "HX-Request" in page.headers["Vary"]
    fragment = client.get(f"/reviews/objects/{object_id}/previews", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "HX-Request" in fragment.headers["Vary"]
    for header in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        whole = client.get(f"/reviews/objects/{object_id}/previews", headers={"HX-Request": "true", **header})
        assert "<html" in whole.get_data(as_text=True), header


def test_reviews_pages_answer_a_plain_request_with_the_whole_page(client, auth, in_review):
    """Every GET of the reviews area, opened directly, is a page (not a bare fragment)."""
    [object_id] = in_review(1)
    auth.login("approver")
    for path in ("/reviews/", f"/reviews/objects/{object_id}/history", f"/reviews/objects/{object_id}/previews"):
        response = client.get(path)
        assert response.status_code == 200 and "<html" in response.get_data(as_text=True), path
        assert "HX-Request" in response.headers["Vary"], path


@pytest.mark.parametrize("role,shown", [("approver", False), ("editor", True)])
def test_the_media_page_links_to_the_library_only_for_who_may_open_it(app, client, auth, role, shown):
    from tests.objects_support import make_asset

    with app.app_context():
        asset_id = make_asset("Affiche du salon").id
        db.session.commit()
    auth.login(role)
    html = client.get(f"/media/{asset_id}").get_data(as_text=True)
    assert ('href="/media/"' in html) is shown
    assert (client.get("/media/").status_code == 200) is shown  # the link never leads to a 403
