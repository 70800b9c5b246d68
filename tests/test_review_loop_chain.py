"""The whole review loop with an approval chain of two steps, on the real stack: a real SMTP
server in process (aiosmtpd), the Teams Workflows emulator, the Make emulator, a Dramatiq worker
and the scheduler. The editor sets the chain on the campaign's page → submits → the step-1
approver is mailed and sees the unread count → approves step 1 → step 2's approver is mailed →
requests changes → the editor is mailed and sees the comment pinned on the post page and the edit
form → submits again → both steps approve → published through Make → the editor is mailed the
links (docs/approval-chains.md)."""

import re

from app.auth import service as accounts
from app.extensions import db
from app.models import Campaign, ContentObject, ObjectStatus, Role
from tests.conftest import PASSWORD, csrf_token
from tests.test_review_loop_notified import client_for, loop, mails_to, text  # noqa: F401  (the fixture)

FR = {"Accept-Language": "fr"}


def test_the_loop_goes_step_by_step_and_restarts_after_changes(loop):
    stack, sink, teams = loop
    _, [object_id] = stack.seed(objects=1, targets=1)
    with stack.app.app_context():
        editor = accounts.create_user("elodie@example.org", "Élodie Martin", Role.EDITOR, PASSWORD)
        marie = accounts.create_user("marie@example.org", "Marie Leroy", Role.APPROVER, PASSWORD)
        jean = accounts.create_user("jean@example.org", "Jean Bernard", Role.APPROVER, PASSWORD)
        obj = db.session.get(ContentObject, object_id)
        obj.author_id, obj.status = editor.id, ObjectStatus.DRAFT
        db.session.get(Campaign, obj.campaign_id).teams_webhook_url = teams.webhook_url("salon")
        campaign_id, marie_id, jean_id = obj.campaign_id, marie.id, jean.id
        db.session.commit()
    editor_client = client_for(stack.app, "elodie@example.org")
    marie_client = client_for(stack.app, "marie@example.org")
    jean_client = client_for(stack.app, "jean@example.org")
    post = f"/campaigns/{campaign_id}/objects/{object_id}"

    # The editor sets the chain on the campaign's page.
    chain = f"/reviews/campaigns/{campaign_id}/chain"
    assert 'data-testid="chain-link"' in editor_client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    for name, user_id in (("Communication", marie_id), ("Juridique", jean_id)):
        response = editor_client.post(
            chain + "/steps",
            data={
                "csrf_token": csrf_token(editor_client, chain),
                "new-name": name,
                "new-rule": "any",
                "new-role": "",
                "new-users": [str(user_id)],
            },
        )
        assert response.status_code == 303
    page = editor_client.get(chain, headers=FR).get_data(as_text=True)
    assert page.count('data-testid="chain-step"') == 2 and "Étape 2 : Juridique" in page

    def submit():
        response = editor_client.post(f"{post}/submit", data={"csrf_token": csrf_token(editor_client, post)})
        assert response.status_code == 303

    def asked(address):
        return [m for m in mails_to(sink, address) if "attend votre relecture" in m["Subject"]]

    submit()
    stack.wait_for(lambda: asked("marie@example.org"), 30)
    queue = marie_client.get("/reviews/", headers=FR).get_data(as_text=True)
    assert re.search(r'data-testid="unread-count">1<', queue)
    assert "Étape 1/2 : Communication — en attente de Marie Leroy" in queue
    assert f'id="review-{object_id}"' not in jean_client.get("/reviews/").get_data(as_text=True)

    response = marie_client.post(
        f"/reviews/{object_id}/approve", data={"csrf_token": csrf_token(marie_client, "/reviews/")}
    )
    assert response.status_code == 303
    stack.wait_for(lambda: asked("jean@example.org"), 30)
    assert "Étape 2/2 : Juridique — en attente de Jean Bernard" in editor_client.get(post, headers=FR).get_data(
        as_text=True
    )
    assert f'id="review-{object_id}"' in jean_client.get("/reviews/").get_data(as_text=True)

    response = jean_client.post(
        f"/reviews/{object_id}/changes",
        data={"comment": "Ajoutez les mentions légales.", "csrf_token": csrf_token(jean_client, "/reviews/")},
    )
    assert response.status_code == 303
    stack.wait_for(lambda: mails_to(sink, "elodie@example.org"), 30)
    [changes] = mails_to(sink, "elodie@example.org")
    assert "Jean Bernard demande des modifications" in changes["Subject"]
    assert "Ajoutez les mentions légales." in text(changes)
    for page in (post, f"{post}/edit"):
        html = editor_client.get(page).get_data(as_text=True)
        assert 'data-testid="pinned-request"' in html and "Ajoutez les mentions légales." in html

    submit()  # the chain starts again at step 1
    stack.wait_for(lambda: len(asked("marie@example.org")) == 2, 30)
    assert f'id="review-{object_id}"' not in jean_client.get("/reviews/").get_data(as_text=True)
    for client in (marie_client, jean_client):
        response = client.post(f"/reviews/{object_id}/approve", data={"csrf_token": csrf_token(client, "/reviews/")})
        assert response.status_code == 303

    def published_mail():
        return [m for m in mails_to(sink, "elodie@example.org") if "est publié" in m["Subject"]]

    stack.wait_for(published_mail, 60)
    [published] = published_mail()
    with stack.app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.PUBLISHED
        from app.models import Publication
        import sqlalchemy as sa

        live_url = db.session.scalar(sa.select(Publication.external_url).where(Publication.object_id == object_id))
    assert live_url.startswith("https://") and live_url in text(published)
    assert len(asked("jean@example.org")) == 2  # step 2 asked once per round

    def titles():
        return [m["message"]["attachments"][0]["content"]["body"][0]["text"] for m in teams.received()]

    stack.wait_for(lambda: any("est publié" in title for title in titles()), 30)
    assert "Jean Bernard a approuvé «\xa0Post 0\xa0»." in titles()
