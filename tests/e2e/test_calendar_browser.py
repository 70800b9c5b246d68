"""The calendar of all campaigns in a browser: on a desktop an editor drags an approved post to
another day, is told it goes back to review, confirms, and finds it there after a reload; on a
phone (390 px, an agenda by day) the same move through the "Move" control, typed."""

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.auth import service as accounts
from app.extensions import db
from app.models import (
    Campaign,
    CampaignScenario,
    ContentObject,
    ObjectStatus,
    Platform,
    Publication,
    Role,
    SocialAccount,
    User,
    object_targets,
)
from app.reviews import service as reviews
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def scheduled(live_app):
    """An approved post scheduled on the 10th, two months ahead, at 09:30 Paris (07:30 UTC or
    08:30 UTC in winter: stored as the Paris moment), with its pending publication."""
    tag = uuid.uuid4().hex[:6]
    day = (date.today().replace(day=1) + timedelta(days=62)).replace(day=10)
    with live_app.app_context():
        from app.campaigns.object_forms import local_zone

        editor = accounts.create_user(f"cal-editor-{tag}@example.org", "Calendar Editor", Role.EDITOR, PASSWORD)
        approver = accounts.create_user(f"cal-approver-{tag}@example.org", "Calendar Approver", Role.APPROVER, PASSWORD)
        campaign = Campaign(name=f"Festival {tag}")
        account = SocialAccount(
            platform=Platform.INSTAGRAM,
            label=f"Festival {tag}",
            make_connection_id=77,
            account_identifier=str(uuid.uuid4().int % 10**15),
        )
        db.session.add_all([campaign, account])
        db.session.flush()
        scenario = CampaignScenario(campaign_id=campaign.id, social_account_id=account.id, status="ready")
        moment = datetime(day.year, day.month, day.day, 9, 30, tzinfo=local_zone()).astimezone(timezone.utc)
        obj = ContentObject(
            campaign_id=campaign.id,
            title=f"Ouverture {tag}",
            message="Les portes ouvrent !",
            status=ObjectStatus.DRAFT,
            scheduled_at=moment,
        )
        db.session.add_all([scenario, obj])
        db.session.flush()
        db.session.execute(object_targets.insert().values(object_id=obj.id, campaign_scenario_id=scenario.id))
        reviews.submit(obj, by=editor)
        reviews.approve(obj, by=approver)
        db.session.commit()
        assert obj.status is ObjectStatus.SCHEDULED
        return editor.email, campaign.id, obj.id, day


def _state(live_app, object_id):
    with live_app.app_context():
        obj = db.session.get(ContentObject, object_id)
        pending = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Publication)
            .where(Publication.object_id == object_id, Publication.status == "pending")
        )
        return obj.status, obj.scheduled_at, pending


def _open(browser, live_server, email, viewport):
    context = browser.new_context(viewport=viewport, locale="en-GB", has_touch=viewport is PHONE)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, live_server.url, email)
    return context, page, errors


def test_desktop_drag_to_another_day_and_confirm(browser, live_server, live_app, scheduled, screenshot):
    email, campaign_id, object_id, day = scheduled
    context, page, errors = _open(browser, live_server, email, DESKTOP)
    page.goto(f"{live_server.url}/calendar/?campaign={campaign_id}&day={day.isoformat()}")
    assert page.get_by_test_id("weekday-names").inner_text().split()[0].startswith("Mon")
    entry = page.get_by_test_id(f"day-{day.isoformat()}").get_by_test_id(f"entry-{object_id}")
    assert "09:30" in entry.inner_text() and "Scheduled" in entry.inner_text()
    screenshot(page, "calendar-month-desktop")
    target = day + timedelta(days=2)
    entry.drag_to(page.get_by_test_id(f"day-{target.isoformat()}"))
    dialog = page.get_by_test_id("move-dialog")
    dialog.get_by_test_id("move-consequence").wait_for()
    assert "go back to review" in dialog.inner_text()
    assert target.strftime("%-d %B %Y, 09:30") in dialog.inner_text()
    assert _state(live_app, object_id)[0] is ObjectStatus.SCHEDULED  # nothing moved before the confirmation
    screenshot(page, "calendar-confirm-desktop")
    dialog.get_by_test_id("move-confirm").click()
    page.get_by_test_id("flash").filter(has_text="goes back to review").wait_for()
    page.reload()
    moved = page.get_by_test_id(f"day-{target.isoformat()}").get_by_test_id(f"entry-{object_id}")
    assert "In review" in moved.inner_text() and "09:30" in moved.inner_text()
    assert page.get_by_test_id(f"day-{day.isoformat()}").get_by_test_id(f"entry-{object_id}").count() == 0
    status, _, pending = _state(live_app, object_id)
    assert status is ObjectStatus.IN_REVIEW and pending == 0
    page.get_by_role("link", name="Week", exact=True).click()
    page.wait_for_url("**view=week**")
    page.get_by_test_id(f"entry-{object_id}").wait_for()
    screenshot(page, "calendar-week-desktop")
    assert errors == []
    context.close()


def test_phone_moves_a_post_with_the_move_control(browser, live_server, live_app, scheduled, screenshot):
    email, campaign_id, object_id, day = scheduled
    context, page, errors = _open(browser, live_server, email, PHONE)
    page.goto(f"{live_server.url}/calendar/?campaign={campaign_id}&day={day.isoformat()}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not page.get_by_test_id("weekday-names").is_visible()  # an agenda, not a grid
    assert not page.get_by_test_id(f"day-{(day + timedelta(days=1)).isoformat()}").is_visible()  # empty day
    move = page.get_by_test_id(f"move-{object_id}")
    assert move.bounding_box()["height"] >= 44
    screenshot(page, "calendar-month-phone")
    move.click()
    dialog = page.get_by_test_id("move-dialog")
    target = day.replace(day=14)
    dialog.get_by_label("New date").fill(target.strftime("%d/%m/%Y"))
    dialog.get_by_label("Time (Paris)").fill("18:30")
    dialog.get_by_label("Time (Paris)").press("Enter")
    dialog.get_by_test_id("move-consequence").wait_for()
    assert "go back to review" in dialog.inner_text()
    screenshot(page, "calendar-confirm-phone")
    dialog.get_by_test_id("move-confirm").focus()
    page.keyboard.press("Enter")
    page.get_by_test_id("flash").filter(has_text="goes back to review").wait_for()
    page.reload()
    moved = page.get_by_test_id(f"day-{target.isoformat()}").get_by_test_id(f"entry-{object_id}")
    assert "18:30" in moved.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "calendar-moved-phone")
    assert errors == []
    context.close()
    with live_app.app_context():
        assert db.session.get(User, db.session.scalar(sa.select(User.id).where(User.email == email))) is not None
