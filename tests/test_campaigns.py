"""Campaign pages (editors): validation, target accounts and their scenario rows, archive, retry.

The worker's side (Make) is in test_provisioning.py; here the messages are only queued.
"""

import pytest
import redis
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Campaign, CampaignScenario, CampaignStatus, Platform, ScenarioStatus
from app.platforms import service as accounts
from tests.conftest import csrf_token


@pytest.fixture
def editor(client, auth):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    auth.login("editor")
    return client


@pytest.fixture
def account_ids(app):
    """Three active accounts and an inactive one."""
    with app.app_context():
        made = [
            accounts.create_account(
                platform,
                label=f"{platform.value} demo",
                make_connection_id=connection,
                account_identifier=identifier,
                template_scenario_id=None,
            )
            for platform, connection, identifier in (
                (Platform.INSTAGRAM, 77, "17841400000000001"),
                (Platform.FACEBOOK, 78, "104857600000001"),
                (Platform.LINKEDIN, 79, "2414183"),
                (Platform.X, 81, "783214"),
            )
        ]
        made[-1].active = False
        db.session.commit()
        return [account.id for account in made]


def _post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/campaigns/new")})


def _queued(app) -> list[bytes]:
    namespace = app.extensions["dramatiq"].namespace
    return redis.Redis.from_url(app.config["REDIS_URL"]).lrange(f"{namespace}:default", 0, -1)


def _scenarios(app, campaign_id):
    with app.app_context():
        return {
            s.social_account_id: s.status
            for s in db.session.scalars(sa.select(CampaignScenario).where(CampaignScenario.campaign_id == campaign_id))
        }


def _campaign_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Campaign.id).order_by(Campaign.id.desc()))


def test_create_a_campaign_with_accounts_queues_one_provisioning_per_account(app, editor, account_ids):
    queued = len(_queued(app))
    response = _post(
        editor,
        "/campaigns/",
        {
            "name": "Salon 2026",
            "description": "Teasers",
            "starts_on": "2026-03-01",
            "ends_on": "2026-03-31",
            "accounts": account_ids[:2],
        },
    )
    campaign_id = _campaign_id(app)
    assert response.status_code == 303 and response.headers["Location"] == f"/campaigns/{campaign_id}"
    assert _scenarios(app, campaign_id) == {
        account_ids[0]: ScenarioStatus.PROVISIONING,
        account_ids[1]: ScenarioStatus.PROVISIONING,
    }
    assert len(_queued(app)) == queued + 2
    with app.app_context():
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"campaign_created", "scenario_provisioning"} <= actions
    page = editor.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert page.count('hx-trigger="every 1s"') == 2 and "Setting up" in page


@pytest.mark.parametrize(
    "change,message",
    [
        ({"name": ""}, "This field is required."),
        ({"starts_on": "2026-03-31", "ends_on": "2026-03-01"}, "The end date must be on or after the start date."),
        ({"ends_on": "31/02/2026"}, "Enter the date as DD/MM/YYYY, for example 14/07/2027."),
        ({"starts_on": "03/31/2026"}, "Enter the date as DD/MM/YYYY, for example 14/07/2027."),
        ({"accounts": ["999999"]}, "not a valid choice"),
    ],
)
def test_invalid_campaigns_come_back_with_the_form_as_typed(app, editor, account_ids, change, message):
    typed = {"name": "Salon 2026", "description": "Teasers du salon", "accounts": account_ids[:1], **change}
    response = _post(editor, "/campaigns/", typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    assert "Teasers du salon</textarea>" in html
    assert ('value="Salon 2026"' in html) or change.get("name") == ""
    if "accounts" not in change:
        assert f'value="{account_ids[0]}" checked' in html
    assert _campaign_id(app) is None


def test_campaign_dates_are_typed_day_first_in_french_and_shown_back_the_same_way(app, editor, account_ids):
    editor.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    form = editor.get("/campaigns/new").get_data(as_text=True)
    assert 'type="date"' not in form and 'lang="fr"' in form and "JJ/MM/AAAA" in form
    response = _post(
        editor,
        "/campaigns/",
        {"name": "Fête nationale", "starts_on": "01/07/2027", "ends_on": "14.07.2027", "accounts": account_ids[:1]},
    )
    assert response.status_code == 303
    campaign_id = _campaign_id(app)
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        assert (campaign.starts_on.isoformat(), campaign.ends_on.isoformat()) == ("2027-07-01", "2027-07-14")
    edit = editor.get(f"/campaigns/{campaign_id}/edit").get_data(as_text=True)
    assert 'value="01/07/2027"' in edit and 'value="14/07/2027"' in edit
    refused = _post(editor, "/campaigns/", {"name": "X", "starts_on": "32/07/2027", "accounts": account_ids[:1]})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'value="32/07/2027"' in html
    assert "Saisissez la date sous la forme JJ/MM/AAAA, par exemple 14/07/2027." in html


def test_inactive_accounts_are_not_offered(app, editor, account_ids):
    html = editor.get("/campaigns/new").get_data(as_text=True)
    assert all(f'value="{i}"' in html for i in account_ids[:3])
    assert f'value="{account_ids[3]}"' not in html
    response = _post(editor, "/campaigns/", {"name": "X", "accounts": [account_ids[3]]})
    assert response.status_code == 422


def test_no_accounts_shows_an_empty_state(editor):
    html = editor.get("/campaigns/new").get_data(as_text=True)
    assert "No social account to publish to" in html


def test_edit_adds_and_removes_targets(app, editor, account_ids):
    _post(editor, "/campaigns/", {"name": "Salon", "accounts": account_ids[:2]})
    campaign_id = _campaign_id(app)
    form = editor.get(f"/campaigns/{campaign_id}/edit").get_data(as_text=True)
    assert f'value="{account_ids[0]}" checked' in form and f'value="{account_ids[2]}" checked' not in form
    queued = len(_queued(app))
    response = _post(
        editor, f"/campaigns/{campaign_id}", {"name": "Salon 2026", "accounts": [account_ids[1], account_ids[2]]}
    )
    assert response.status_code == 303
    assert _scenarios(app, campaign_id) == {
        account_ids[0]: ScenarioStatus.STOPPED,
        account_ids[1]: ScenarioStatus.PROVISIONING,
        account_ids[2]: ScenarioStatus.PROVISIONING,
    }
    assert len(_queued(app)) == queued + 2  # one stop, one provisioning
    _post(editor, f"/campaigns/{campaign_id}", {"name": "Salon 2026", "accounts": account_ids[:3]})
    assert _scenarios(app, campaign_id)[account_ids[0]] is ScenarioStatus.PROVISIONING  # re-added


def test_archive_stops_every_scenario_and_makes_the_campaign_read_only(app, editor, account_ids):
    _post(editor, "/campaigns/", {"name": "Salon", "accounts": account_ids[:3]})
    campaign_id = _campaign_id(app)
    response = _post(editor, f"/campaigns/{campaign_id}/archive", {})
    assert response.status_code == 303
    assert set(_scenarios(app, campaign_id).values()) == {ScenarioStatus.STOPPED}
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).status is CampaignStatus.ARCHIVED
    assert editor.get(f"/campaigns/{campaign_id}/edit").status_code == 409
    assert _post(editor, f"/campaigns/{campaign_id}/archive", {}).status_code == 409
    page = editor.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Archived" in page and "every 1s" not in page and "Stopped" in page


def test_a_failed_scenario_can_be_retried_and_polls_again(app, editor, account_ids):
    _post(editor, "/campaigns/", {"name": "Salon", "accounts": account_ids[:1]})
    campaign_id = _campaign_id(app)
    with app.app_context():
        scenario = db.session.scalar(sa.select(CampaignScenario))
        scenario.status, scenario.last_error = ScenarioStatus.FAILED, "Make 400 SC400: Invalid input"
        scenario.make_hook_id, scenario.make_scenario_id = 4701, 925
        db.session.commit()
        path = f"/campaigns/{campaign_id}/scenarios/{scenario.id}"
    row = editor.get(path, headers={"HX-Request": "true"})
    html = row.get_data(as_text=True)
    assert row.status_code == 286 and "Make 400 SC400: Invalid input" in html and "Try again" in html
    retried = editor.post(
        path + "/retry",
        headers={"HX-Request": "true"},
        data={"csrf_token": csrf_token(editor, f"/campaigns/{campaign_id}")},
    )
    html = retried.get_data(as_text=True)
    assert retried.status_code == 200 and html.lstrip().startswith("<li") and "every 1s" in html
    assert editor.get(path, headers={"HX-Request": "true"}).status_code == 200
    with app.app_context():
        scenario = db.session.scalar(sa.select(CampaignScenario))
        assert (scenario.status, scenario.last_error, scenario.make_scenario_id) == (
            ScenarioStatus.PROVISIONING,
            None,
            None,
        )
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "scenario_provisioning").order_by(AuditEvent.id.desc())
        )
        assert event.data == {"from": "failed"} and event.actor_id is not None
    again = editor.post(path + "/retry", data={"csrf_token": csrf_token(editor, f"/campaigns/{campaign_id}")})
    assert again.status_code == 409  # only a failed scenario is retried


def test_campaign_page_and_its_fragment(app, editor, account_ids):
    _post(editor, "/campaigns/", {"name": "Salon", "accounts": account_ids[:1]})
    campaign_id = _campaign_id(app)
    page = editor.get(f"/campaigns/{campaign_id}")
    fragment = editor.get(f"/campaigns/{campaign_id}", headers={"HX-Request": "true"})
    assert b"<html" in page.data and b"<html" not in fragment.data
    assert b'id="campaign-scenarios"' in fragment.data and "HX-Request" in fragment.headers["Vary"]
    listing = editor.get("/campaigns/").get_data(as_text=True)
    assert f'href="/campaigns/{campaign_id}"' in listing and "New campaign" in listing


def test_a_campaign_without_targets_shows_an_empty_state(app, editor):
    _post(editor, "/campaigns/", {"name": "Later"})
    assert "No target accounts" in editor.get(f"/campaigns/{_campaign_id(app)}").get_data(as_text=True)


def test_scenario_urls_belong_to_their_campaign(app, editor, account_ids):
    _post(editor, "/campaigns/", {"name": "A", "accounts": account_ids[:1]})
    first = _campaign_id(app)
    _post(editor, "/campaigns/", {"name": "B"})
    with app.app_context():
        scenario_id = db.session.scalar(sa.select(CampaignScenario.id))
    assert (
        editor.get(f"/campaigns/{first + 1}/scenarios/{scenario_id}", headers={"HX-Request": "true"}).status_code == 404
    )


def test_approvers_cannot_touch_campaigns(client, auth):
    auth.login("approver")
    assert client.get("/campaigns/new").status_code == 403
    assert client.post("/campaigns/", data={"name": "X", "csrf_token": csrf_token(client, "/")}).status_code == 403
