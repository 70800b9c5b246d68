"""The calendar of all campaigns: month and week views by Paris day with the locale's weekday
headers, filters kept in the URL, the "to schedule" list, and moving a post (the approval policy
both ways, audited; refusals with 422; approvers read only)."""

import re
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Campaign, ContentObject, ObjectStatus, Platform, Publication, PublicationStatus, User
from app.reviews import service as reviews
from tests.conftest import csrf_token
from tests.objects_support import make_objects, seed_campaign

EN = {"Accept-Language": "en"}
FR = {"Accept-Language": "fr"}
YEAR = datetime.now(timezone.utc).year + 1


def _post(app, campaign_id, scenarios, status, scheduled_at, title):
    with app.app_context():
        [object_id] = make_objects(campaign_id, scenarios, [], 1, statuses=(status,), scheduled_at=scheduled_at)
        db.session.get(ContentObject, object_id).title = title
        db.session.commit()
        return object_id


def _approved(app, make_user, seed, scheduled_at, title="Ouverture"):
    """Submitted by an editor and approved by an approver: scheduled, with pending publications."""
    object_id = _post(app, seed.campaign_id, list(seed.scenarios.values()), ObjectStatus.DRAFT, scheduled_at, title)
    with app.app_context():
        editor = db.session.get(User, make_user("editor")[0])
        approver = db.session.get(User, make_user("approver")[0])
        obj = db.session.get(ContentObject, object_id)
        reviews.submit(obj, by=editor)
        reviews.approve(obj, by=approver)
        db.session.commit()
    return object_id


def _state(app, object_id):
    with app.app_context():
        obj = db.session.get(ContentObject, object_id)
        due = sorted(
            db.session.scalars(
                sa.select(Publication.next_attempt_at).where(
                    Publication.object_id == object_id, Publication.status == PublicationStatus.PENDING
                )
            )
        )
        actions = list(
            db.session.scalars(
                sa.select(AuditEvent.action)
                .where(AuditEvent.subject_type == "content_objects", AuditEvent.subject_id == object_id)
                .order_by(AuditEvent.id)
            )
        )
        return obj.status, obj.scheduled_at, due, actions


def _move(client, object_id, day, at, confirm=True, headers=EN):
    data = {"date": day, "time": at, "back": "/calendar/?view=week", "csrf_token": csrf_token(client, "/calendar/")}
    if confirm:
        data["confirm"] = "yes"
    return client.post(f"/calendar/posts/{object_id}/move", data=data, headers=headers)


def test_month_shows_every_campaign_by_paris_day_with_weekday_headers(app, client, auth):
    auth.login("editor")
    with app.app_context():
        first = seed_campaign(platforms=(Platform.INSTAGRAM,), extra_statuses=(), media=0)
        second = seed_campaign(platforms=(Platform.LINKEDIN,), extra_statuses=(), media=0)
    # 23:30 UTC on 14 July is 01:30 on 15 July in Paris.
    _post(
        app,
        first.campaign_id,
        list(first.scenarios.values()),
        ObjectStatus.SCHEDULED,
        datetime(YEAR, 7, 14, 23, 30, tzinfo=timezone.utc),
        "Feu d’artifice",
    )
    _post(
        app,
        second.campaign_id,
        list(second.scenarios.values()),
        ObjectStatus.IN_REVIEW,
        datetime(YEAR, 7, 20, 8, 0, tzinfo=timezone.utc),
        "Bilan",
    )
    html = client.get("/calendar/", query_string={"day": f"{YEAR}-07-01"}, headers=FR).get_data(as_text=True)
    headers = re.findall(r"<abbr title=\"([^\"]+)\">", html)
    assert headers[0] == "lundi" and headers[-1] == "dimanche" and len(headers) == 7
    day = html.index(f'data-testid="day-{YEAR}-07-15"')
    assert day < html.index("Feu d’artifice") < html.index(f'data-testid="day-{YEAR}-07-16"')
    assert "01:30" in html and "Bilan" in html and "En relecture" in html.replace("en relecture", "En relecture")
    assert "juillet" in html
    english = client.get("/calendar/", query_string={"day": f"{YEAR}-07-01"}, headers=EN).get_data(as_text=True)
    assert re.findall(r"<abbr title=\"([^\"]+)\">", english)[0] == "Monday"
    empty = client.get("/calendar/", query_string={"day": f"{YEAR + 1}-02-01"}, headers=EN).get_data(as_text=True)
    assert 'data-testid="calendar-empty"' in empty
    assert client.get("/calendar/?day=garbage&view=nonsense").status_code == 200


def test_week_view_filters_and_fragment(app, client, auth):
    auth.login("editor")
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.LINKEDIN), extra_statuses=(), media=0)
        other = seed_campaign(platforms=(Platform.X,), extra_statuses=(), media=0)
    moment = datetime(YEAR, 3, 11, 9, 15, tzinfo=timezone.utc)  # a Thursday, 10:15 in Paris
    _post(app, seed.campaign_id, [seed.scenarios["instagram"]], ObjectStatus.DRAFT, moment, "Sur Instagram")
    _post(app, seed.campaign_id, [seed.scenarios["linkedin"]], ObjectStatus.DRAFT, moment, "Sur LinkedIn")
    _post(app, other.campaign_id, list(other.scenarios.values()), ObjectStatus.DRAFT, moment, "Autre campagne")
    args = {"view": "week", "day": f"{YEAR}-03-11", "campaign": seed.campaign_id, "network": "linkedin"}
    html = client.get("/calendar/", query_string=args, headers=EN).get_data(as_text=True)
    assert "Sur LinkedIn" in html and "Sur Instagram" not in html and "Autre campagne" not in html
    assert "10:15" in html and html.count('class="cal-day') == 7
    monday = date(YEAR, 3, 11) - timedelta(days=date(YEAR, 3, 11).weekday())
    assert f'data-testid="day-{monday.isoformat()}"' in html
    # Every link of the page keeps the filters: previous, next, today, the view switch.
    nav = re.findall(r'href="(/calendar/\?[^"]+)"', html)
    assert nav and all(f"campaign={seed.campaign_id}" in link and "network=linkedin" in link for link in nav)
    fragment = client.get("/calendar/", query_string=args, headers={**EN, "HX-Request": "true"})
    assert b"<html" not in fragment.data and b'id="calendar"' in fragment.data
    assert "HX-Request" in fragment.headers["Vary"]


def test_unscheduled_approved_posts_are_in_the_side_list(app, client, auth, make_user):
    auth.login("editor")
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM,), extra_statuses=(), media=0)
    html = client.get("/calendar/", headers=EN).get_data(as_text=True)
    assert 'data-testid="unscheduled-empty"' in html
    object_id = _approved(app, make_user, seed, None, title="Sans date")
    _post(app, seed.campaign_id, [], ObjectStatus.DRAFT, None, "Brouillon sans date")
    html = client.get("/calendar/", headers=EN).get_data(as_text=True)
    aside = html[html.index('data-testid="unscheduled"') :]
    assert "Sans date" in aside and "Brouillon sans date" not in html
    assert f'data-testid="move-{object_id}"' in aside


def test_moving_an_approved_post_sends_it_back_to_review_by_default(app, client, auth, make_user):
    auth.login("editor")
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.LINKEDIN), extra_statuses=(), media=0)
    object_id = _approved(app, make_user, seed, datetime(YEAR, 5, 4, 8, 0, tzinfo=timezone.utc))
    status, _, due, _ = _state(app, object_id)
    assert status is ObjectStatus.SCHEDULED and len(due) == 2
    # The confirmation step says what will happen, and nothing changes yet.
    step = _move(client, object_id, f"{YEAR}-05-06", "10:00", confirm=False)
    assert step.status_code == 200
    text = step.get_data(as_text=True)
    assert 'data-consequence="review"' in text and "go back to review" in text
    assert f"{date(YEAR, 5, 6):%A} 6 May {YEAR}, 10:00" in text and _state(app, object_id)[0] is ObjectStatus.SCHEDULED
    done = _move(client, object_id, f"{YEAR}-05-06", "10:00")
    assert done.status_code == 303 and done.headers["Location"] == "/calendar/?view=week"
    status, scheduled_at, due, actions = _state(app, object_id)
    assert status is ObjectStatus.IN_REVIEW and due == []  # the unsent publications are withdrawn
    assert scheduled_at == datetime(YEAR, 5, 6, 8, 0, tzinfo=timezone.utc)  # 10:00 in Paris (summer time)
    assert actions[-2:] == ["object_rescheduled", "status:in_review"]
    page = client.get("/calendar/?view=week", headers=EN).get_data(as_text=True)
    assert "it goes back to review" in page


def test_the_policy_can_keep_the_approval_and_move_the_publications(app, client, auth, make_user):
    app.config["CALENDAR_RESCHEDULE_KEEPS_APPROVAL"] = True
    try:
        auth.login("editor")
        with app.app_context():
            seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.LINKEDIN), extra_statuses=(), media=0)
        object_id = _approved(app, make_user, seed, datetime(YEAR, 1, 10, 8, 0, tzinfo=timezone.utc))
        step = _move(client, object_id, f"{YEAR}-01-12", "18:45", confirm=False).get_data(as_text=True)
        assert 'data-consequence="kept"' in step and "The approval is kept" in step
        assert (
            _move(client, object_id, f"{YEAR}-01-12", "18:45", headers={**EN, "HX-Request": "true"}).headers[
                "HX-Redirect"
            ]
            == "/calendar/?view=week"
        )
        new = datetime(YEAR, 1, 12, 17, 45, tzinfo=timezone.utc)  # 18:45 in Paris (winter time)
        status, scheduled_at, due, actions = _state(app, object_id)
        assert status is ObjectStatus.SCHEDULED and scheduled_at == new
        assert due == [new, new]  # both targets' publications follow the post
        assert actions[-1] == "object_rescheduled" and "status:in_review" not in actions[-2:]
        # An approved post with no date yet gets one, and becomes scheduled.
        unscheduled = _approved(app, make_user, seed, None, title="Sans date")
        assert _move(client, unscheduled, f"{YEAR}-01-13", "09:00").status_code == 303
        status, _, due, actions = _state(app, unscheduled)
        assert status is ObjectStatus.SCHEDULED and due == [datetime(YEAR, 1, 13, 8, 0, tzinfo=timezone.utc)] * 2
        assert actions[-2:] == ["object_rescheduled", "status:scheduled"]
    finally:
        app.config["CALENDAR_RESCHEDULE_KEEPS_APPROVAL"] = False


@pytest.mark.parametrize("status", [ObjectStatus.PUBLISHING, ObjectStatus.PUBLISHED, ObjectStatus.FAILED])
def test_posts_being_published_or_published_cannot_move(app, client, auth, status):
    auth.login("editor")
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM,), extra_statuses=(), media=0)
    moment = datetime(YEAR, 6, 1, 8, 0, tzinfo=timezone.utc)
    object_id = _post(app, seed.campaign_id, [], status, moment, "En ligne")
    html = client.get("/calendar/", query_string={"day": f"{YEAR}-06-01"}, headers=EN).get_data(as_text=True)
    assert "En ligne" in html and f'data-testid="move-{object_id}"' not in html and "draggable" not in html
    refused = _move(client, object_id, f"{YEAR}-06-03", "09:00")
    assert refused.status_code == 422
    assert "already being published or was published" in refused.get_data(as_text=True)
    assert _state(app, object_id)[1] == moment
    assert client.get(f"/calendar/posts/{object_id}/move", headers=EN).status_code == 422


def test_a_move_to_the_past_or_a_bad_date_loses_nothing(app, client, auth):
    auth.login("editor")
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM,), extra_statuses=(), media=0)
    moment = datetime(YEAR, 6, 1, 8, 0, tzinfo=timezone.utc)
    object_id = _post(app, seed.campaign_id, [], ObjectStatus.DRAFT, moment, "Brouillon")
    past = _move(client, object_id, "01/01/2020", "09:00", confirm=False)
    assert past.status_code == 422 and "Choose a moment in the future" in past.get_data(as_text=True)
    assert 'value="01/01/2020"' in past.get_data(as_text=True)
    bad = _move(client, object_id, "31/02/2030", "25:00", headers=FR)
    assert bad.status_code == 422
    assert "Saisissez la date" in bad.get_data(as_text=True) and 'value="31/02/2030"' in bad.get_data(as_text=True)
    assert _state(app, object_id)[1] == moment
    # A draft moves without a word about approval.
    step = _move(client, object_id, f"{YEAR}-06-02", "9h30", confirm=False).get_data(as_text=True)
    assert "move-consequence" not in step and 'value="09:30"' in step


def test_approvers_read_the_calendar_without_drafts_and_cannot_move(app, client, auth):
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM,), extra_statuses=(), media=0)
    moment = datetime(YEAR, 9, 1, 8, 0, tzinfo=timezone.utc)
    draft = _post(app, seed.campaign_id, [], ObjectStatus.DRAFT, moment, "Brouillon caché")
    in_review = _post(app, seed.campaign_id, [], ObjectStatus.IN_REVIEW, moment, "À relire")
    auth.login("approver")
    html = client.get("/calendar/", query_string={"day": f"{YEAR}-09-01"}, headers=EN).get_data(as_text=True)
    assert "À relire" in html and "Brouillon caché" not in html
    assert "draggable" not in html and "move-dialog" not in html
    assert f'href="/reviews/objects/{in_review}/history"' in html
    assert client.get(f"/calendar/posts/{in_review}/move").status_code == 403
    assert _move(client, in_review, f"{YEAR}-09-02", "09:00").status_code == 403
    assert _move(client, draft, f"{YEAR}-09-02", "09:00").status_code == 403
    assert _state(app, in_review)[1] == moment


def test_the_campaign_calendar_opens_the_calendar_filtered_on_it(app, client, auth):
    auth.login("editor")
    with app.app_context():
        campaign = Campaign(name="Ancienne adresse")
        db.session.add(campaign)
        db.session.commit()
        campaign_id = campaign.id
    response = client.get(f"/campaigns/{campaign_id}/calendar?month={YEAR}-07&network=x")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/calendar/?campaign={campaign_id}&network=x&day={YEAR}-07-01"
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert f'<option value="{campaign_id}" selected>Ancienne adresse</option>' in page
