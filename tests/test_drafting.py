""" "Draft the message" through N8N: the button enqueues an actor (a real worker here) that
POSTs the post's context to a stand-in N8N server; the page polls until the draft is ready,
or says why there is none. The post itself is never changed by a draft."""

import re
import time

import dramatiq
import pytest
from flask import Flask, request

from app.extensions import db
from app.models import ContentObject, ObjectStatus
from sandbox.server import BackgroundServer
from tests.conftest import csrf_token
from tests.objects_support import make_objects, seed_campaign

EN = {"Accept-Language": "en"}
HTMX = {**EN, "HX-Request": "true"}


@pytest.fixture(scope="module")
def n8n():
    """A stand-in for an N8N webhook: answers a draft, slowly, with an error, or in plain text."""
    fake = Flask("n8n")
    fake.received = []

    @fake.post("/<behaviour>")
    def webhook(behaviour):
        fake.received.append(request.get_json())
        if behaviour == "slow":
            time.sleep(2)
        if behaviour == "error":
            return {"message": "workflow failed"}, 500
        if behaviour == "text":
            return "Un brouillon en texte", 200, {"Content-Type": "text/plain"}
        return {"message": f"Brouillon : {request.json['object']['title']}"}

    with BackgroundServer(fake) as server:
        server.received = fake.received
        yield server


@pytest.fixture
def worker(app):
    worker = dramatiq.Worker(app.extensions["dramatiq"], worker_threads=1, queues={"drafts"})
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def post(app):
    with app.app_context():
        seed = seed_campaign(media=0)
        [object_id] = make_objects(
            seed.campaign_id, [seed.scenarios["instagram"]], [], 1, statuses=(ObjectStatus.DRAFT,)
        )
        return seed, object_id


def ask(client, post, **form):
    """The draft button, from the edit form of the post (from "New post": object_id="")."""
    seed, object_id = post
    data = {
        "title": "Teaser salon",
        "message": "",
        "targets": [seed.scenarios["instagram"]],
        "object_id": object_id,
        "csrf_token": csrf_token(client, "/campaigns/"),
        **form,
    }
    return client.post(f"/campaigns/{seed.campaign_id}/draft", data=data, headers=HTMX)


def poll(client, response, timeout=15):
    """Follow the box's polling until the server answers 286 (settled)."""
    deadline = time.monotonic() + timeout
    while response.status_code != 286:
        assert response.status_code == 200 and time.monotonic() < deadline
        url = re.search(r'hx-get="([^"]+/draft/[0-9a-f]+)"', response.get_data(as_text=True)).group(1)
        time.sleep(0.1)
        response = client.get(url, headers=HTMX)
    return response


def test_the_button_is_hidden_while_n8n_is_not_configured(app, client, auth, post, monkeypatch):
    seed, object_id = post
    auth.login("editor")
    edit = f"/campaigns/{seed.campaign_id}/objects/{object_id}/edit"
    monkeypatch.setitem(app.config, "N8N_WEBHOOK_URL", None)
    assert b'data-testid="draft-button"' not in client.get(edit, headers=EN).data
    refused = ask(client, post)
    assert refused.status_code == 286 and b"Drafting with N8N is not configured." in refused.data
    monkeypatch.setitem(app.config, "N8N_WEBHOOK_URL", "http://127.0.0.1:9/draft")
    assert b'data-testid="draft-button"' in client.get(edit, headers=EN).data
    assert b'data-testid="draft-button"' in client.get(f"/campaigns/{seed.campaign_id}/objects/new", headers=EN).data


def test_a_post_not_saved_yet_gets_a_draft_too(app, client, auth, post, n8n, worker, monkeypatch):
    monkeypatch.setitem(app.config, "N8N_WEBHOOK_URL", n8n.url + "/draft")
    auth.login("editor")
    ready = poll(client, ask(client, post, object_id="", title="Nouvelle publication"))
    assert "Brouillon : Nouvelle publication" in ready.get_data(as_text=True)
    assert n8n.received[-1]["object"] == {"id": None, "title": "Nouvelle publication", "message": "", "link": None}


def test_a_draft_from_n8n_is_offered_and_put_in_the_form_only_on_request(
    app, client, auth, post, n8n, worker, monkeypatch
):
    seed, object_id = post
    monkeypatch.setitem(app.config, "N8N_WEBHOOK_URL", n8n.url + "/draft")
    auth.login("editor")
    pending = ask(client, post, title="Titre pas encore enregistré")
    assert pending.status_code == 200 and b"N8N is drafting the message" in pending.data
    ready = poll(client, pending)
    assert "Brouillon : Titre pas encore enregistré" in ready.get_data(as_text=True)
    sent = n8n.received[-1]
    assert sent["object"]["id"] == object_id and sent["platforms"] == ["instagram"]
    assert sent["campaign"]["name"] == "Salon 2026"
    use = re.search(r'hx-get="([^"]+/message)"', ready.get_data(as_text=True)).group(1)
    field = client.get(use, headers=HTMX).get_data(as_text=True)
    assert field.lstrip().startswith("<textarea")  # the field alone, swapped in for the editor to see
    assert 'id="message"' in field and "Brouillon : Titre pas encore enregistré" in field
    with app.app_context():
        assert db.session.get(ContentObject, object_id).message == "Message 0 #salon"  # nothing saved


def test_a_plain_text_answer_is_a_draft_too(app, client, auth, post, n8n, worker, monkeypatch):
    monkeypatch.setitem(app.config, "N8N_WEBHOOK_URL", n8n.url + "/text")
    auth.login("editor")
    assert "Un brouillon en texte" in poll(client, ask(client, post)).get_data(as_text=True)


@pytest.mark.parametrize(
    "behaviour, problem",
    [
        ("slow", "N8N did not answer in time."),
        ("error", "N8N answered with an error (HTTP 500)."),
        ("unreachable", "N8N could not be reached."),
    ],
)
def test_when_n8n_fails_the_editor_is_told_why(app, client, auth, post, n8n, worker, monkeypatch, behaviour, problem):
    url = "http://127.0.0.1:9/draft" if behaviour == "unreachable" else f"{n8n.url}/{behaviour}"
    monkeypatch.setitem(app.config, "N8N_WEBHOOK_URL", url)
    monkeypatch.setitem(app.config, "N8N_TIMEOUT_S", 0.5)
    auth.login("editor")
    settled = poll(client, ask(client, post))
    page = settled.get_data(as_text=True)
    assert problem in page and 'data-testid="draft-button"' in page  # and one may try again
    assert 'data-testid="use-draft"' not in page


def test_an_unknown_or_expired_draft_is_said_so(app, client, auth, post, monkeypatch):
    seed, object_id = post
    monkeypatch.setitem(app.config, "N8N_WEBHOOK_URL", "http://127.0.0.1:9/draft")
    auth.login("editor")
    base = f"/campaigns/{seed.campaign_id}/draft/{'0' * 32}"
    gone = client.get(base, headers=HTMX)
    assert gone.status_code == 286 and b"This draft is no longer available." in gone.data
    assert client.get(base + "/message", headers=HTMX).status_code == 404


def test_approvers_cannot_ask_for_drafts(client, auth, post):
    auth.login("approver")
    assert ask(client, post).status_code == 403
