"""The social accounts registry (admins): validation, duplicates, activation and the Make test."""

import pytest
import redis
import sqlalchemy as sa

from app.extensions import db
from app.integrations import checks
from app.models import AccountTestStatus, AuditEvent, Platform, SocialAccount
from app.platforms import service
from app.platforms.identifiers import RULES, identifier_problem
from tests.conftest import csrf_token

EN = {"Accept-Language": "en"}
VALID = {
    "platform": "instagram",
    "label": "Instagram — Salon",
    "make_connection_id": "77",
    "account_identifier": "17841400000000001",
    "template_scenario_id": "",
}


@pytest.fixture
def admin(client, auth):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    auth.login("admin")
    return client


def _post(client, path, data, headers=None):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/platforms/new")}, headers=headers)


def _account(app, **values) -> int:
    settings = {
        "label": "FB",
        "make_connection_id": 78,
        "account_identifier": "104857600000001",
        "template_scenario_id": None,
        **values,
    }
    with app.app_context():
        account = service.create_account(Platform(settings.pop("platform", "facebook")), **settings)
        db.session.commit()
        return account.id


def _one(app, query):
    with app.app_context():
        return db.session.scalar(query)


def _queued(app) -> int:
    namespace = app.extensions["dramatiq"].namespace
    return redis.Redis.from_url(app.config["REDIS_URL"]).llen(f"{namespace}:default")


def test_create_an_account(app, admin, auth):
    response = _post(admin, "/platforms/", VALID)
    assert response.status_code == 303 and response.headers["Location"] == "/platforms/"
    account = _one(app, sa.select(SocialAccount))
    assert (account.platform, account.make_connection_id, account.template_scenario_id) == (
        Platform.INSTAGRAM,
        77,
        None,
    )
    event = _one(app, sa.select(AuditEvent).where(AuditEvent.action == "social_account_created"))
    assert event.actor_id == auth.user_id and event.data["identifier"] == "17841400000000001"
    assert "Instagram — Salon" in admin.get("/platforms/").get_data(as_text=True)


@pytest.mark.parametrize(
    "change,message",
    [
        ({"platform": ""}, "Choose the network."),
        ({"platform": "myspace"}, "Not a valid choice"),
        ({"label": ""}, "This field is required."),
        ({"make_connection_id": "0"}, "a positive integer, e.g. 77"),
        ({"make_connection_id": "seventy"}, "a positive integer, e.g. 77"),
        ({"account_identifier": "@salon"}, "An Instagram business account id is 5 to 20 digits."),
        ({"template_scenario_id": "-4"}, "Enter a scenario number"),
    ],
)
def test_invalid_fields_come_back_with_the_form_as_typed(admin, change, message):
    typed = {**VALID, **change}
    response = _post(admin, "/platforms/", typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    assert 'value="Instagram — Salon"' in html or change.get("label") == ""
    assert 'aria-invalid="true"' in html


@pytest.mark.parametrize(
    "platform,good,bad",
    [
        (Platform.FACEBOOK, "104857600000000", "salon-page"),
        (Platform.YOUTUBE, "UCBR8-60-B28hp2BmDPdntcQ", "UC123"),
        (Platform.LINKEDIN, "urn:li:organization:2414183", "urn:li:person:abc"),
        (Platform.LINKEDIN, "2414183", "company/salon"),
        (Platform.X, "783214", "@salon"),
        (Platform.TIKTOK, "-000IZH5RhY1JBtw2jeBqgZh2GQwSXq1EGV2", "short"),
    ],
)
def test_identifier_shapes_per_network(app, platform, good, bad):
    with app.test_request_context(headers=EN):
        assert identifier_problem(platform, good) is None
        assert str(RULES[platform].hint) in identifier_problem(platform, bad)
        assert identifier_problem(platform, RULES[platform].example) is None


def test_a_duplicate_is_refused_beside_the_identifier(app, admin):
    _account(app, platform="instagram", label="Existing", account_identifier="17841400000000001")
    response = _post(admin, "/platforms/", VALID)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This Instagram account is already registered as “Existing”." in html
    assert _one(app, sa.select(sa.func.count()).select_from(SocialAccount)) == 1


def test_edit_keeps_the_network_and_checks_its_identifier_shape(app, admin):
    account_id = _account(app)
    page = admin.get(f"/platforms/{account_id}/edit").get_data(as_text=True)
    assert 'value="104857600000001"' in page and 'name="platform"' not in page
    bad = _post(admin, f"/platforms/{account_id}", {**VALID, "account_identifier": "UC123"})
    assert bad.status_code == 422 and "A Facebook Page id is 5 to 20 digits." in bad.get_data(as_text=True)
    good = _post(
        admin,
        f"/platforms/{account_id}",
        {**VALID, "account_identifier": "104857600000002", "template_scenario_id": "930"},
    )
    assert good.status_code == 303
    account = _one(app, sa.select(SocialAccount))
    assert (account.platform, account.account_identifier, account.template_scenario_id) == (
        Platform.FACEBOOK,
        "104857600000002",
        930,
    )
    event = _one(app, sa.select(AuditEvent).where(AuditEvent.action == "social_account_updated"))
    assert set(event.data) == {"label", "make_connection_id", "account_identifier", "template_scenario_id"}


def test_deactivate_and_activate_rerender_the_row(app, admin):
    account_id = _account(app)
    active = sa.select(SocialAccount.active)
    token = csrf_token(admin, "/platforms/")
    row = admin.post(
        f"/platforms/{account_id}/active", data={"active": "0", "csrf_token": token}, headers={"HX-Request": "true"}
    )
    html = row.get_data(as_text=True)
    assert row.status_code == 200 and html.lstrip().startswith("<tr") and "Inactive" in html
    assert _one(app, active) is False
    plain = admin.post(f"/platforms/{account_id}/active", data={"active": "1", "csrf_token": token})
    assert plain.status_code == 303 and _one(app, active) is True


def test_test_action_queues_a_worker_and_the_row_polls_until_settled(app, admin):
    account_id = _account(app)
    before = _queued(app)
    row = admin.post(
        f"/platforms/{account_id}/test",
        headers={"HX-Request": "true"},
        data={"csrf_token": csrf_token(admin, "/platforms/")},
    )
    html = row.get_data(as_text=True)
    assert row.status_code == 200 and 'hx-trigger="every 1s"' in html and "Testing in Make" in html
    assert _queued(app) == before + 1
    assert admin.get(f"/platforms/{account_id}/row", headers={"HX-Request": "true"}).status_code == 200
    with app.app_context():
        account = db.session.get(SocialAccount, account_id)
        account.test_status, account.test_message = AccountTestStatus.FAILED, "connection 78 not found"
        db.session.commit()
    settled = admin.get(f"/platforms/{account_id}/row", headers={"HX-Request": "true"})
    assert settled.status_code == 286 and "every 1s" not in settled.get_data(as_text=True)
    assert "Test failed" in settled.get_data(as_text=True)
    assert admin.get(f"/platforms/{account_id}/row").status_code == 303  # no htmx: the page


def test_list_is_a_page_or_its_fragment(app, admin):
    _account(app)
    page, fragment = admin.get("/platforms/"), admin.get("/platforms/", headers={"HX-Request": "true"})
    assert b"<html" in page.data and b"<html" not in fragment.data
    assert b'id="account-listing"' in fragment.data and b"Add an account" in page.data


def test_editors_cannot_manage_accounts(client, auth):
    auth.login("editor")
    assert client.get("/platforms/new").status_code == 403
    assert client.post("/platforms/", data={**VALID, "csrf_token": csrf_token(client, "/")}).status_code == 403


@pytest.mark.parametrize(
    "network,identifier,label", [("x", "783214", "X"), ("tiktok", "-000IZH5RhY1JBtw2jeBqgZh2GQwSXq1EGV2", "TikTok")]
)
def test_a_network_without_a_make_module_needs_a_template(app, admin, network, identifier, label):
    typed = {**VALID, "platform": network, "account_identifier": identifier}
    refused = _post(admin, "/platforms/", typed)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and f"{label} needs a template scenario" in html
    assert "no public Make scenario shows a Make module that publishes there" in html
    assert f'value="{identifier}"' in html  # nothing typed is lost
    assert _one(app, sa.select(sa.func.count()).select_from(SocialAccount)) == 0
    assert "Except for X, TikTok" in admin.get("/platforms/new").get_data(as_text=True)
    french = _post(admin, "/platforms/", typed, headers={"Accept-Language": "fr"})
    assert f"{label} a besoin d’un scénario modèle" in french.get_data(as_text=True)


def test_a_saved_template_is_tested_at_once(app, admin):
    before = _queued(app)
    created = _post(
        admin, "/platforms/", {**VALID, "platform": "x", "account_identifier": "783214", "template_scenario_id": "931"}
    )
    assert created.status_code == 303 and _queued(app) == before + 1
    account = _one(app, sa.select(SocialAccount).where(SocialAccount.platform == Platform.X))
    assert account.test_status is AccountTestStatus.PENDING
    unchanged = _post(
        admin, f"/platforms/{account.id}", {**VALID, "account_identifier": "783214", "template_scenario_id": "931"}
    )
    assert unchanged.status_code == 303 and _queued(app) == before + 1
    changed = _post(
        admin, f"/platforms/{account.id}", {**VALID, "account_identifier": "783214", "template_scenario_id": "932"}
    )
    assert changed.status_code == 303 and _queued(app) == before + 2


def test_the_row_lists_what_the_template_lacks_with_its_fix(app, admin):
    account_id = _account(app, template_scenario_id=930)
    with app.app_context():
        account = db.session.get(SocialAccount, account_id)
        account.test_status, account.test_message = AccountTestStatus.FAILED, "connection 78; …"
        checks.record(
            "account",
            account_id,
            ok=False,
            results={
                "dry_run": None,
                "problems": [
                    {"rule": "stop_on_http_error", "path": "flow[2]", "params": {"module": "6 (http:MakeRequest)"}}
                ],
            },
        )
        db.session.commit()
    html = admin.get("/platforms/").get_data(as_text=True)
    assert "What the template lacks:" in html
    assert "The callback in module 6 (http:MakeRequest) does not stop on an HTTP error" in html
    assert "stopOnHttpError: true" in html
    row = admin.get(f"/platforms/{account_id}/row", headers={"HX-Request": "true", "Accept-Language": "fr"})
    assert "Le rappel du module 6 (http:MakeRequest) ne s’arrête pas" in row.get_data(as_text=True)
