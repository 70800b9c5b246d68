"""The worker's side of campaign scenarios: provision one in Make, stop one, re-render them.

Provisioning is idempotent (external-apis.md §1.5): names are deterministic, the hook and the
scenario are looked up by name before being created, and each id is committed as soon as Make
returns it, so a retried or duplicated message resumes where the last one stopped. A Redis lock
per scenario row keeps two workers from racing on the same find-then-create.

Nothing reaches Make unchecked (docs/make-operations.md): an account's template must pass the
template check (app/integrations/template_check.py) before it is cloned, and the blueprint to
create or clone goes through Make's validation endpoint where the zone offers it (a 403 skips
it with a logged notice; a 429 is retried later like any other). Once created, the scenario is
read back: invalid or inactive, provisioning fails with Make's reason and the scenario is
deleted, so that a retry after a fix starts afresh. The reasons are kept for the campaign page
(`make_checks`, kind `scenario`).
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial

import dramatiq
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from app.campaigns.service import transition
from app.extensions import db, redis_store
from app.integrations import blueprints, checks, make, template_check
from app.models import CampaignScenario, ScenarioStatus, SocialAccount
from app.platforms.service import make_client

LOCK_SECONDS = 30 * 60  # longer than the worst run of client retries
BUSY_RETRY_MS = 5_000
S = ScenarioStatus


class ScenarioRefused(Exception):
    """Make cannot run the scenario as it is; `problems` (template_check.Problem) say why."""

    retryable = False

    def __init__(self, message: str, problems=()):
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(f"{message} ({count} problem{'s' if count > 1 else ''}, listed below)" if count else message)


def scenario_name(scenario: CampaignScenario) -> str:
    account = scenario.social_account
    return f"cms-{current_app.config['MAKE_ENV']}-c{scenario.campaign_id}-a{account.id}-{account.platform.value}"


def provision(scenario_id: int) -> None:
    """Bring one campaign scenario to `ready` (or `failed` with Make's reason).

    Retryable errors (429, 5xx, timeouts) are re-raised for Dramatiq to retry later, with the
    reason kept in `last_error` meanwhile; permanent ones end in `failed`.
    """
    with _locked(scenario_id) as acquired:
        if not acquired:  # another run holds the row (a duplicate, or a stop): look again later
            raise dramatiq.Retry(delay=BUSY_RETRY_MS)
        scenario = db.session.get(CampaignScenario, scenario_id)
        if scenario is None or scenario.status is not S.PROVISIONING:
            return  # a duplicate message, or the row moved on
        try:
            with make_client() as client:
                _ensure_hook(client, scenario)
                _ensure_scenario(client, scenario)
                client.start_scenario(scenario.make_scenario_id)
                _read_back(client, scenario, started=True)
                if _still_provisioning(scenario):
                    transition(scenario, S.READY)
                    checks.forget("scenario", scenario.id)
                else:  # stopped while we worked: leave it stopped in Make too
                    client.stop_scenario(scenario.make_scenario_id)
            db.session.commit()
        except (make.MakeError, blueprints.BlueprintError, ScenarioRefused) as exc:
            _record_failure(scenario_id, exc)
            if getattr(exc, "retryable", False):
                raise


def give_up(scenario_id: int) -> None:
    """Dramatiq spent a message's retries: show the row as failed with the last error, unless
    another run is still working on it (that one settles the row)."""
    with _locked(scenario_id) as acquired:
        scenario = db.session.get(CampaignScenario, scenario_id, with_for_update=True)
        if acquired and scenario is not None and scenario.status is S.PROVISIONING:
            transition(scenario, S.FAILED, error=scenario.last_error or "Make did not answer")
        db.session.commit()


def stop(scenario_id: int) -> None:
    """Deactivate the scenario in Make once its row says `stopped`."""
    with _locked(scenario_id) as acquired:
        if not acquired:  # a provisioning run holds it: come back once it is done
            raise dramatiq.Retry(delay=BUSY_RETRY_MS)
        scenario = db.session.get(CampaignScenario, scenario_id)
        if scenario is None or scenario.status is not S.STOPPED or not scenario.make_scenario_id:
            return
        try:
            with make_client() as client:
                client.stop_scenario(scenario.make_scenario_id)
            scenario.last_error = None
        except make.MakeNotFound:
            scenario.last_error = None  # deleted in Make: nothing runs
        except make.MakeError as exc:
            scenario.last_error = str(exc)
            db.session.commit()
            if exc.retryable:
                raise
            return
        db.session.commit()


def rerender_ready_scenarios(echo) -> tuple[int, int]:
    """Re-render every ready scenario with the current callback secret (after a rotation, or to
    bring a drifted scenario back to the repo's blueprint): stop it, PATCH its blueprint, start
    it again (started again also when the PATCH fails, so it keeps running on the old one).
    With MAKE_CALLBACK_SECRET_PREVIOUS set, clones and the accounts' templates (patched only:
    they do not run) get the old secret swapped too. Returns (updated, failed); a failure does
    not stop the others."""
    current, previous = (
        current_app.config["MAKE_CALLBACK_SECRET"],
        current_app.config["MAKE_CALLBACK_SECRET_PREVIOUS"],
    )
    ready = db.session.scalars(
        sa.select(CampaignScenario)
        .where(CampaignScenario.status == S.READY, CampaignScenario.make_scenario_id.isnot(None))
        .order_by(CampaignScenario.id)
    ).all()
    templates = (
        sorted(
            set(
                db.session.scalars(
                    sa.select(SocialAccount.template_scenario_id).where(
                        SocialAccount.active.is_(True), SocialAccount.template_scenario_id.isnot(None)
                    )
                )
            )
        )
        if previous
        else []
    )
    updated = failed = 0
    with make_client() as client:
        jobs = [
            (s.make_scenario_id, scenario_name(s), True, partial(_current_blueprint, client, s, previous, current))
            for s in ready
        ]
        jobs += [(t, "template", False, partial(_swapped, client, t, previous, current)) for t in templates]
        for scenario_id, label, restart, build in jobs:
            try:
                _patch(client, scenario_id, build(), restart=restart)
            except (make.MakeError, blueprints.BlueprintError) as exc:
                echo(f"FAILED scenario {scenario_id} ({label}): {exc}")
                failed += 1
            else:
                echo(f"updated scenario {scenario_id} ({label})")
                updated += 1
    return updated, failed


def _patch(client, scenario_id: int, blueprint: dict, *, restart: bool) -> None:
    if not restart:
        client.update_blueprint(scenario_id, blueprint)
        return
    client.stop_scenario(scenario_id)
    try:
        client.update_blueprint(scenario_id, blueprint)
    finally:
        client.start_scenario(scenario_id)


def _current_blueprint(client, scenario: CampaignScenario, previous, current) -> dict:
    """Ours are rendered anew; a clone keeps its template's flow with the secret swapped."""
    if scenario.make_template_id is None:
        return _render(scenario, scenario_name(scenario))
    if not previous:
        raise blueprints.BlueprintError("cloned from a template: set MAKE_CALLBACK_SECRET_PREVIOUS to swap its secret")
    return _swapped(client, scenario.make_scenario_id, previous, current)


def _swapped(client, scenario_id: int, previous: str, current: str) -> dict:
    return blueprints.replace_secret(client.get_blueprint(scenario_id), previous, current)[0]


def render_blueprint(platform: str, *, hook_id: int, connection_id: int, name: str) -> dict:
    """The platform's blueprint filled with this installation's settings."""
    return blueprints.render(
        platform,
        name=name,
        hook_id=hook_id,
        connection_id=connection_id,
        datastore_id=_datastore_id(),
        secret=current_app.config["MAKE_CALLBACK_SECRET"],
    )


def _render(scenario: CampaignScenario, name: str) -> dict:
    account = scenario.social_account
    return render_blueprint(
        account.platform.value, hook_id=scenario.make_hook_id, connection_id=account.make_connection_id, name=name
    )


def _ensure_hook(client: make.MakeClient, scenario: CampaignScenario) -> None:
    if scenario.make_hook_id:
        return
    name = scenario_name(scenario)
    hook = client.find_hook(name) or client.create_hook(name)
    scenario.make_hook_id, scenario.make_hook_udid = hook["id"], hook["udid"]
    scenario.webhook_url = client.hook_url(hook)
    db.session.commit()


def _ensure_scenario(client: make.MakeClient, scenario: CampaignScenario) -> None:
    if scenario.make_scenario_id:
        return
    name, account = scenario_name(scenario), scenario.social_account
    found = client.find_scenario(name)
    if found is None and account.template_scenario_id:
        template = client.get_blueprint(account.template_scenario_id)
        problems = template_check.check(template, secrets=callback_secrets())
        if problems:
            raise ScenarioRefused(
                f"template scenario {account.template_scenario_id} does not follow the CMS's contract", problems
            )
        validate(client, template, f"template scenario {account.template_scenario_id}")
        found = client.clone_scenario(
            account.template_scenario_id,
            name,
            hook_id=scenario.make_hook_id,
            connection_id=account.make_connection_id,
            blueprint=template,
        )
        scenario.make_template_id = account.template_scenario_id
    elif found is None:
        blueprint = _render(scenario, name)
        validate(client, blueprint, f"the {account.platform.value} blueprint")
        found = client.create_scenario(blueprint)
    scenario.make_scenario_id = found["id"]
    db.session.commit()
    _read_back(client, scenario, started=False)


def callback_secrets() -> list[str]:
    """The secrets a callback may be signed with: the current one and, during a rotation, the
    previous one."""
    config = current_app.config
    return [s for s in (config["MAKE_CALLBACK_SECRET"], config["MAKE_CALLBACK_SECRET_PREVIOUS"]) if s]


def validate(client: make.MakeClient, blueprint: dict, what: str) -> None:
    """Make's own validation of a blueprint, where the zone offers it; `ScenarioRefused` with
    Make's errors when it finds any."""
    try:
        answer = client.validate_blueprint(blueprint)
    except (make.MakePermissionError, make.MakeNotFound) as exc:
        current_app.logger.info(
            "Make's blueprint validation is not offered here (%s): %s not validated", exc.status, what
        )
        return
    if not answer["valid"]:
        problems = template_check.from_make_errors(answer["errors"])
        raise ScenarioRefused(f"Make's validation refused {what}", problems)


def _read_back(client: make.MakeClient, scenario: CampaignScenario, *, started: bool) -> None:
    """Make's own view of the new scenario: invalid, or inactive once started, fails the row
    with Make's reason (its validation's errors when it gives them), after deleting the
    scenario so that a retry creates it afresh."""
    found = client.get_scenario(scenario.make_scenario_id)
    if found.get("isinvalid"):
        reason, problems = f"Make marks scenario {found['id']} invalid", []
        try:
            validate(client, client.get_blueprint(found["id"]), f"scenario {found['id']}")
        except ScenarioRefused as refused:
            reason, problems = str(refused), refused.problems
    elif started and not found.get("isActive"):
        reason, problems = f"Make did not activate scenario {found['id']}", []
    else:
        return
    client.delete_scenario(found["id"])
    scenario.make_scenario_id = scenario.make_template_id = None
    db.session.commit()
    raise ScenarioRefused(reason, problems)


def _summary(problems) -> str:
    """For the log and `last_error` (English); the campaign page lists the problems themselves
    in the reader's language."""
    with force_locale("en"):
        return "; ".join(template_check.describe(problem)[0] for problem in problems)


def _still_provisioning(scenario: CampaignScenario) -> bool:
    db.session.refresh(scenario, with_for_update=True)
    return scenario.status is S.PROVISIONING


def _record_failure(scenario_id: int, exc: Exception) -> None:
    db.session.rollback()
    scenario = db.session.get(CampaignScenario, scenario_id, with_for_update=True)
    if scenario is not None and scenario.status is S.PROVISIONING:
        if getattr(exc, "retryable", False):
            scenario.last_error = str(exc)  # shown as "retrying" while the status is provisioning
        else:
            transition(scenario, S.FAILED, error=str(exc))
        problems = getattr(exc, "problems", [])
        if problems:
            current_app.logger.warning("campaign scenario %s refused: %s", scenario_id, _summary(problems))
        checks.record(
            "scenario", scenario_id, ok=not problems, results={"problems": [problem.as_dict() for problem in problems]}
        )
    db.session.commit()


def _datastore_id() -> int:
    value = current_app.config.get("MAKE_DATASTORE_ID")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise blueprints.BlueprintError("MAKE_DATASTORE_ID must name the Make Data Store of published keys") from None


@contextmanager
def _locked(scenario_id: int):
    lock = redis_store.client.lock(redis_store.key(f"lock:campaign-scenario:{scenario_id}"), timeout=LOCK_SECONDS)
    acquired = lock.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            lock.release()
