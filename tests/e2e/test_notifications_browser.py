"""The bell and the notification list, and the conversation on a post, on a phone (390x844)
and at a desk: an approver sees the unread count, opens the list and marks one read (the count
follows); an editor reads the pinned request for changes and answers in the conversation."""

import uuid

import pytest

from app.auth import service as accounts
from app.comments import service as comments
from app.extensions import db
from app.models import ContentObject, NotificationEvent, ObjectStatus, Platform, Role
from app.notifications import events
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE
from tests.objects_support import make_objects, seed_campaign

pytestmark = pytest.mark.browser


@pytest.fixture
def people_and_post(live_app):
    with live_app.app_context():
        tag = uuid.uuid4().hex[:6]
        editor = accounts.create_user(f"editor-{tag}@example.org", "Élodie Martin", Role.EDITOR, PASSWORD)
        approver = accounts.create_user(f"approver-{tag}@example.org", "Paul Durand", Role.APPROVER, PASSWORD)
        seed = seed_campaign(platforms=(Platform.LINKEDIN,), extra_statuses=(), media=0, author_id=editor.id)
        ids = make_objects(
            seed.campaign_id,
            list(seed.scenarios.values()),
            [],
            3,
            author_id=editor.id,
            statuses=(ObjectStatus.IN_REVIEW,),
        )
        for object_id in ids:
            obj = db.session.get(ContentObject, object_id)
            events.notify(
                [approver.id], NotificationEvent.REVIEW_REQUESTED, obj, actor=editor, data={"title": obj.title}
            )
        obj = db.session.get(ContentObject, ids[0])
        comments.add(
            obj,
            approver,
            "Le visuel est flou : merci de le remplacer avant jeudi.",
            kind="changes_requested",
            notify=False,
        )
        comments.add(obj, editor, "@Paul je m’en occupe, nouvelle version demain matin.")
        obj.status = ObjectStatus.CHANGES_REQUESTED
        db.session.commit()
        return {"editor": editor.email, "approver": approver.email, "campaign": seed.campaign_id, "object": ids[0]}


@pytest.fixture(params=[PHONE, DESKTOP], ids=["phone", "desktop"])
def viewport(request):
    return request.param


@pytest.fixture
def page(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="en-GB")
    yield context.new_page()
    context.close()


def sign_in(page, base, email):
    page.goto(base + "/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")


def test_the_bell_and_the_list(page, live_server, people_and_post, screenshot, viewport):
    base = live_server.url
    sign_in(page, base, people_and_post["approver"])
    badge = page.get_by_test_id("unread-count")
    assert badge.inner_text() == "4"  # three posts to review and a mention
    assert badge.is_visible()  # in the header, on a phone too
    screenshot(page, f"notifications-header-{viewport['width']}")
    page.get_by_test_id("unread-badge").click()
    page.wait_for_url(base + "/notifications/")
    assert page.get_by_test_id("notification").count() == 4
    assert page.get_by_text("Élodie Martin mentioned you about").is_visible()
    page.get_by_role("button", name="Mark as read").first.click()
    from playwright.sync_api import expect

    expect(page.get_by_test_id("unread-count")).to_have_text("3")  # swapped out of band
    expect(page.locator(".notification.unread")).to_have_count(3)
    screenshot(page, f"notifications-list-{viewport['width']}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"sideways scroll: {width}px"


def test_the_conversation_on_the_post_page(page, live_server, people_and_post, screenshot, viewport):
    base = live_server.url
    sign_in(page, base, people_and_post["editor"])
    page.goto(f"{base}/campaigns/{people_and_post['campaign']}/objects/{people_and_post['object']}")
    assert "Le visuel est flou" in page.get_by_test_id("pinned-request").inner_text()
    thread = page.get_by_test_id("conversation")
    assert thread.get_by_test_id("pinned-comment").count() == 1
    page.get_by_test_id("comment-send").click()  # empty: refused, nothing lost
    page.get_by_text("Write something before sending.").wait_for()
    body = page.get_by_test_id("comment-body")
    handle = people_and_post["approver"].split("@")[0]  # approver-<tag>: one person
    body.press_sequentially(f"C’est remplacé, @{handle[:-1]}", delay=20)  # the @ autocomplete
    page.get_by_role("option", name=f"Paul Durand (@{handle})").wait_for()
    body.press("Enter")
    assert body.input_value() == f"C’est remplacé, @{handle} "
    body.fill("C’est remplacé, @Paul peux-tu revoir ?")
    page.get_by_test_id("comment-send").click()
    page.get_by_text("C’est remplacé").wait_for()
    assert page.get_by_test_id("comment").count() == 2
    assert page.get_by_test_id("comment-body").input_value() == ""
    page.get_by_test_id("conversation").scroll_into_view_if_needed()
    screenshot(page, f"conversation-post-{viewport['width']}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"sideways scroll: {width}px"
