"""The registry of social accounts connected in Make, and the admin's "test" against Make.

The test (a worker's job, docs/make-operations.md) checks that the account's connection exists
and is of the type its network module needs, that its template scenario (if any) exists and
passes the template check and Make's validation, and sends a dry run through one of its ready
campaign scenarios. A template id saved in the form is tested at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app import audit
from app.extensions import db
from app.integrations import checks, dry_run, make, template_check
from app.labels import platform_label
from app.models import AccountTestStatus, CampaignScenario, Platform, ScenarioStatus, SocialAccount
from app.models.base import utcnow
from app.tasks import by_name, send_after_commit

test_social_account, send_dry_run = by_name("test_social_account"), by_name("send_dry_run")


class AccountError(Exception):
    """A refusal tied to one form field, shown beside it."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field, self.message = field, message


def make_client() -> make.MakeClient:
    """A Make client from the app's MAKE_* settings (MakeConfigError names what is missing)."""
    return make.MakeClient(make.MakeConfig.from_settings(current_app.config))


def list_page(page: int, per_page: int = 50):
    return db.paginate(
        sa.select(SocialAccount).order_by(SocialAccount.platform, SocialAccount.label, SocialAccount.id),
        page=page,
        per_page=per_page,
        error_out=False,
    )


def get_or_404(account_id: int) -> SocialAccount:
    return db.get_or_404(SocialAccount, account_id)


def active_accounts() -> list[SocialAccount]:
    return list(
        db.session.scalars(
            sa.select(SocialAccount)
            .where(SocialAccount.active.is_(True))
            .order_by(SocialAccount.platform, SocialAccount.label)
        )
    )


def _check_unique(platform: Platform, identifier: str, account_id: int | None) -> None:
    query = sa.select(SocialAccount).where(
        SocialAccount.platform == platform, SocialAccount.account_identifier == identifier
    )
    if account_id is not None:
        query = query.where(SocialAccount.id != account_id)
    other = db.session.scalar(query)
    if other is not None:
        raise AccountError(
            "account_identifier",
            _l(
                "This %(network)s account is already registered as “%(label)s”.",
                network=platform_label(platform),
                label=other.label,
            ),
        )


def create_account(
    platform: Platform,
    *,
    label: str,
    make_connection_id: int,
    account_identifier: str,
    template_scenario_id: int | None,
    actor=None,
) -> SocialAccount:
    _check_unique(platform, account_identifier, None)
    account = SocialAccount(
        platform=platform,
        label=label.strip(),
        make_connection_id=make_connection_id,
        account_identifier=account_identifier,
        template_scenario_id=template_scenario_id,
    )
    db.session.add(account)
    db.session.flush()
    audit.record(
        "social_account_created",
        account,
        actor=actor,
        data={
            "platform": platform.value,
            "identifier": account_identifier,
            "connection": make_connection_id,
            "template": template_scenario_id,
        },
    )
    if template_scenario_id:
        request_test(account, actor=actor)
    return account


def update_account(
    account: SocialAccount,
    *,
    label: str,
    make_connection_id: int,
    account_identifier: str,
    template_scenario_id: int | None,
    actor,
) -> None:
    _check_unique(account.platform, account_identifier, account.id)
    values = {
        "label": label.strip(),
        "make_connection_id": make_connection_id,
        "account_identifier": account_identifier,
        "template_scenario_id": template_scenario_id,
    }
    changed = {name: value for name, value in values.items() if getattr(account, name) != value}
    if not changed:
        return
    for name, value in changed.items():
        setattr(account, name, value)
    audit.record("social_account_updated", account, actor=actor, data=changed)
    if changed.get("template_scenario_id"):
        request_test(account, actor=actor)


def set_active(account: SocialAccount, active: bool, *, actor) -> None:
    """Inactive accounts are not offered to campaigns; scenarios already set up keep running."""
    if account.active is active:
        return
    account.active = active
    audit.record("social_account_activated" if active else "social_account_deactivated", account, actor=actor)


def request_test(account: SocialAccount, *, actor) -> None:
    """Ask a worker to check the account against Make; the row shows the result when it lands."""
    account.test_status, account.test_message = AccountTestStatus.PENDING, None
    audit.record("social_account_test_requested", account, actor=actor)
    send_after_commit(db.session(), test_social_account, account.id)


def run_test(account_id: int) -> None:
    """The worker's half of the test; the caller commits."""
    account = db.session.get(SocialAccount, account_id)
    if account is None or account.test_status is not AccountTestStatus.PENDING:
        return
    problems = []
    try:
        with make_client() as client:
            found, problems = _check_in_make(client, account)
        status = AccountTestStatus.FAILED if problems else AccountTestStatus.OK
        message = found + (f"; the template breaks {len(problems)} rule(s), listed below" if problems else "")
    except _Missing as missing:
        status, message = AccountTestStatus.FAILED, str(missing)
    except make.MakeError as exc:
        status, message = AccountTestStatus.FAILED, str(exc)
    # A duplicate message (re-sent by app/recovery.py) may have run alongside: the first to
    # lock the row still pending writes the outcome, the other leaves it
    account = db.session.get(SocialAccount, account_id, with_for_update=True, populate_existing=True)
    if account is None or account.test_status is not AccountTestStatus.PENDING:
        return
    through = _dry_run_through(account) if status is AccountTestStatus.OK else None
    account.test_status, account.test_message, account.tested_at = status, message, utcnow()
    checks.record(
        "account",
        account.id,
        ok=not problems,
        results={
            "problems": [problem.as_dict() for problem in problems],
            "dry_run": {"scenario_id": through.id, "campaign_id": through.campaign_id} if through else None,
        },
    )
    audit.record("social_account_tested", account, data={"status": status.value, "message": message})


def test_results(accounts) -> dict[int, dict]:
    """For each account, what its last test found beyond its message: the template's problems
    in the reader's language, and the campaign scenario its dry run went through."""
    found = checks.last_of("account", [account.id for account in accounts])
    return {
        account_id: {
            "problems": [template_check.describe(p) for p in check.results["problems"]],
            "dry_run": check.results.get("dry_run"),
        }
        for account_id, check in found.items()
    }


class _Missing(Exception):
    pass


def _check_in_make(client: make.MakeClient, account: SocialAccount) -> tuple[str, list]:
    """What Make has for the account, as a sentence, and what its template breaks;
    `_Missing` when something is absent or of the wrong kind."""
    from app.campaigns import provisioning
    from app.integrations import doctor

    team = client.config.team_id
    connection = client.find_connection(account.make_connection_id)
    if connection is None:
        raise _Missing(f"connection {account.make_connection_id} not found in Make team {team}")
    found = f"connection {connection['id']} “{connection.get('name')}” ({connection.get('accountName')})"
    expected = doctor.expected_connection_types(client, account)
    if expected and connection.get("accountName") not in expected:
        raise _Missing(
            f"{found} found, but the scenario's module needs a connection of type {' or '.join(sorted(expected))}"
        )
    if not account.template_scenario_id:
        return found, []
    try:
        template = client.get_scenario(account.template_scenario_id)
        blueprint = client.get_blueprint(account.template_scenario_id)
    except make.MakeNotFound:
        raise _Missing(f"{found} found, but template scenario {account.template_scenario_id} does not exist") from None
    found += f"; template scenario {template['id']} “{template.get('name')}”"
    problems = template_check.check(blueprint, secrets=provisioning.callback_secrets())
    if not problems:
        try:
            provisioning.validate(client, blueprint, f"template scenario {template['id']}")
        except provisioning.ScenarioRefused as refused:
            problems = refused.problems
    return found, problems


def _dry_run_through(account: SocialAccount) -> CampaignScenario | None:
    """A dry run through the account's most recent ready campaign scenario (the template's
    clone when it has one), sent after the commit; None when it has no ready scenario yet."""
    scenario = db.session.scalar(
        sa.select(CampaignScenario)
        .where(
            CampaignScenario.social_account_id == account.id,
            CampaignScenario.status == ScenarioStatus.READY,
            CampaignScenario.webhook_url.isnot(None),
        )
        .order_by(CampaignScenario.id.desc())
        .limit(1)
    )
    if scenario is not None:
        send_after_commit(db.session(), send_dry_run, scenario.id, dry_run.start(scenario.id))
    return scenario
