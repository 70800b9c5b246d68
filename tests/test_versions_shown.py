"""Each network's version where people read a post (issue 12, point 1): the post page's previews,
the approver's card (one tab per network), the review-link page and the Teams card. A post with
an X version and a LinkedIn base."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app import versions
from app.extensions import db
from app.models import Approval, ContentObject, NotificationEvent, ObjectStatus, Platform, Publication, TeamsMessage
from app.publishing import outbox
from tests.conftest import csrf_token
from tests.objects_support import make_asset, make_objects, seed_campaign
from tests.test_review_links import _editor_link
from tests.test_notification_delivery import teams_emulator  # noqa: F401  (the fixture)
from tests.test_reviews import in_review  # noqa: F401  (the fixture)

EN = {"Accept-Language": "en"}
BASE = "Le salon ouvre ses portes le 12 mars : trois jours de rencontres, d’ateliers et de conférences."
FOR_X = "Salon le 12 mars ! #salon2026"


@pytest.fixture
def post_with_x_version(app):
    """In review, for X and LinkedIn: X has its own text, file and reply setting, LinkedIn the base."""

    def make(status=ObjectStatus.IN_REVIEW):
        with app.test_request_context():
            seed = seed_campaign(platforms=(Platform.LINKEDIN, Platform.X), extra_statuses=(), media=1)
            [object_id] = make_objects(
                seed.campaign_id, [seed.scenarios["linkedin"], seed.scenarios["x"]], seed.media, 1, statuses=(status,)
            )
            obj = db.session.get(ContentObject, object_id)
            obj.message = BASE
            own = make_asset("Visuel carré pour X", thumb_path="derived/visuel-x.webp")
            versions.save(obj, Platform.X, message=FOR_X, media=[own.id], options={"reply_settings": "following"})
            db.session.commit()
            return seed.campaign_id, object_id, own.id

    return make


def _section(html: str, testid: str) -> str:
    """The element with this test id, its nested elements of the same kind included."""
    start = html.rfind("<", 0, html.index(f'data-testid="{testid}"'))
    name = re.match(r"<(\w+)", html[start:]).group(1)
    depth = 0
    for tag in re.finditer(rf"<(/?){name}\b", html[start:]):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return html[start : start + tag.end()]
    raise AssertionError(f"{testid} is not closed")


def test_the_post_page_previews_each_network_on_its_own_version(client, auth, post_with_x_version):
    campaign_id, object_id, own_id = post_with_x_version()
    auth.login("editor")
    html = client.get(f"/campaigns/{campaign_id}/objects/{object_id}", headers=EN).get_data(as_text=True)
    x, linkedin = _section(html, "preview-x"), _section(html, "preview-linkedin")
    assert FOR_X in x and BASE not in x
    assert "Own version for X: text, media" in x
    assert "Who can reply: Accounts the account follows" in _section(x, "options-summary-x")
    assert BASE in linkedin and FOR_X not in linkedin and 'data-testid="version-own"' not in linkedin
    # X's own file is in X's preview (its rendition is made at submission), not in LinkedIn's.
    assert "Visuel carré pour X" in x and "Visuel carré pour X" not in linkedin


def test_the_approvers_card_has_one_tab_per_network_and_approving_covers_every_version(
    app, client, auth, post_with_x_version, in_review
):
    campaign_id, object_id, own_id = post_with_x_version()
    [plain_id] = in_review(1)  # a post without versions: one text, as before
    auth.login("approver")
    html = client.get("/reviews/", headers=EN).get_data(as_text=True)
    card = _section(html, "version-tabs")
    assert card.index('data-testid="version-tab-linkedin"') < card.index('data-testid="version-tab-x"')
    # The tab bar waits for the script (hidden without it): every version shows, one under the other.
    assert re.search(r'role="tablist"[^>]*hidden>', card) and 'aria-selected="true"' in card
    x, linkedin = _section(card, "version-panel-x"), _section(card, "version-panel-linkedin")
    assert FOR_X in x and "Own version for X: text, media" in x and f"/media/{own_id}/" in x
    assert "Who can reply: Accounts the account follows" in _section(x, "options-summary-x")
    assert BASE in linkedin and FOR_X not in linkedin and f"/media/{own_id}/" not in linkedin
    assert "Approving approves every version." in card
    plain = html[html.index(f'id="review-{plain_id}"') :]
    plain = plain[: plain.index("</li>\n  \n")] if "</li>\n  \n" in plain else plain
    assert 'data-testid="version-tabs"' not in plain and '<p class="post-text">Rendez-vous au salon</p>' in plain
    assert "Instagram · Compte 0" in plain

    token = csrf_token(client, "/reviews/")
    response = client.post(f"/reviews/{object_id}/approve", data={"csrf_token": token}, headers=EN)
    assert response.status_code == 303
    with app.app_context():
        obj = db.session.get(ContentObject, object_id)
        assert obj.status is ObjectStatus.APPROVED
        approved = db.session.scalar(sa.select(Approval.fingerprint).where(Approval.object_id == object_id))
        assert approved == outbox.fingerprint(obj)
        # The approval covers X's version: editing it would change what was approved.
        versions.save(obj, Platform.X, message=FOR_X + " !")
        assert outbox.fingerprint(obj) != approved
        db.session.rollback()
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).select_from(Publication).where(Publication.object_id == object_id)
            )
            == 2
        )


def test_the_review_link_page_shows_each_networks_version(app, client, auth, post_with_x_version):
    campaign_id, object_id, own_id = post_with_x_version()
    path = _editor_link(app, client, auth, object_id)
    auth.logout()
    html = client.get(path, headers=EN).get_data(as_text=True)
    card = _section(html, "review-link-versions")
    x, linkedin = _section(card, "version-panel-x"), _section(card, "version-panel-linkedin")
    assert FOR_X in x and "Own version for X: text, media" in x
    assert BASE in linkedin and FOR_X not in linkedin
    # X's own file through a public link, like the base's (the reviewer has no login).
    assert re.search(r'<img src="/m/[^"]+" alt="Visuel carré pour X">', x), x
    assert 'data-testid="review-link-message"' not in html


def test_the_teams_card_quotes_the_base_text_and_counts_the_versions(app, post_with_x_version, teams_emulator):
    from app.models import Campaign
    from app.notifications import delivery, teams

    campaign_id, object_id, _ = post_with_x_version()
    line = "1 réseau a sa propre version (X) : ouvrez la publication pour la lire."
    with app.test_request_context():
        db.session.get(Campaign, campaign_id).teams_webhook_url = teams_emulator.webhook_url()
        messages = [
            TeamsMessage(
                campaign_id=campaign_id,
                object_id=object_id,
                event=NotificationEvent.REVIEW_REQUESTED,
                data={"title": "Teaser"},
            )
            for _ in range(2)
        ]
        db.session.add_all(messages)
        db.session.commit()
        texts = [block.get("text", "") for block in teams.envelope(messages[0])["attachments"][0]["content"]["body"]]
        assert BASE in texts and line in texts and FOR_X not in " ".join(texts)
        assert delivery.post_to_teams(messages[0].id) == "sent"  # the emulator checks the card
        # Long enough to be cut: the line about the versions stays, the card within 28 KB.
        db.session.get(ContentObject, object_id).message = "é" * 40_000
        db.session.commit()
        payload = teams.envelope(messages[1])
        assert teams.size(payload) <= teams.MAX_BYTES
        assert line in [block.get("text") for block in payload["attachments"][0]["content"]["body"]]
        assert delivery.post_to_teams(messages[1].id) == "sent"
    assert [card["bytes"] <= 28 * 1024 for card in teams_emulator.received()] == [True, True]
