"""Is this installation's Make side sound? (`flask make doctor`, docs/make-operations.md "Doctor")

One line per check, each `ok`, `warn` (worth knowing, not a failure) or `fail`:

- `config`: the MAKE_* settings make a client at all;
- `token`: the token is accepted (`GET /users/me`) and `scopes` it carries what the CMS needs
  (`GET /users/me/current-authorization`);
- `organization`, `zone`, `team`: the ids exist, the team is in the organisation, the API
  address is the organisation's zone;
- `datastore`: MAKE_DATASTORE_ID exists in the team and its structure has the text fields
  `external_id` and `external_url`;
- `connection`: each active account's connection exists in the team and is of the type its
  scenario's network module needs (read from the blueprint's module metadata, as exports carry
  it);
- `scenario`: each ready campaign scenario is in Make, valid, active and bound to its hook;
- `drift`: its blueprint is what the repository would render today (a clone: its template
  still passes the template check);
- `dry_run`: when the scenario last answered a dry run.

`run_and_record()` keeps the report (`make_checks`, kind `doctor`) for the admin page and the
publishing page, which shows the drift; the scheduler runs it every MAKE_DOCTOR_INTERVAL_S.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_datetime, lazy_gettext as _l

from app.campaigns import provisioning
from app.extensions import db
from app.integrations import blueprints, checks, make, template_check
from app.models import CampaignScenario, ScenarioStatus, SocialAccount

# What publishing needs (README, "Using a real Make account"); what only the doctor reads.
REQUIRED_SCOPES = (
    "connections:read",
    "hooks:read",
    "hooks:write",
    "scenarios:read",
    "scenarios:write",
    "scenarios:run",
)
HELPFUL_SCOPES = ("organizations:read", "teams:read", "datastores:read")
DATASTORE_FIELDS = ("external_id", "external_url")
_ZONE_HOST = re.compile(r"https://((?:eu|us)\d)\.make\.com(?:/|$)")

MESSAGES = {
    ("config", "fail"): _l("The Make settings are incomplete: %(detail)s"),
    ("token", "ok"): _l("The API token is accepted (user %(user)s)."),
    ("token", "fail"): _l("The API token is refused: %(detail)s"),
    ("scopes", "ok"): _l("The token has every scope needed: %(scopes)s."),
    ("scopes", "warn"): _l("The token lacks %(missing)s: some checks here cannot run."),
    ("scopes", "fail"): _l("The token lacks the scopes %(missing)s: create a token with them."),
    ("organization", "ok"): _l("Organisation %(id)s “%(name)s” (zone %(zone)s)."),
    ("organization", "warn"): _l("Organisation not checked: %(detail)s"),
    ("organization", "fail"): _l("Organisation %(id)s: %(detail)s"),
    ("zone", "ok"): _l("The CMS talks to the organisation's zone (%(zone)s)."),
    ("zone", "warn"): _l("Zone not checked: the organisation could not be read."),
    ("api_address", "ok"): _l("The API address is set by hand (%(url)s); the organisation's zone is %(org_zone)s."),
    ("zone", "fail"): _l(
        "The organisation is in %(org_zone)s but the CMS talks to %(zone)s: "
        "set MAKE_ZONE to %(org_zone)s (a token works only in its zone)."
    ),
    ("team", "ok"): _l("Team %(id)s “%(name)s”."),
    ("team", "warn"): _l("Team not checked: %(detail)s"),
    ("team", "fail"): _l("Team %(id)s: %(detail)s"),
    ("datastore", "ok"): _l("Data Store %(id)s “%(name)s” with the fields external_id and external_url."),
    ("datastore", "warn"): _l("Data Store not checked: %(detail)s"),
    ("datastore", "fail"): _l("Data Store %(id)s: %(detail)s"),
    ("connection", "ok"): _l("Connection %(id)s of %(account)s exists (type %(type)s)."),
    ("connection", "fail"): _l("Connection %(id)s of %(account)s: %(detail)s"),
    ("scenario", "ok"): _l("Scenario %(id)s of %(subject)s is active, valid and bound to its webhook."),
    ("scenario", "fail"): _l("Scenario %(id)s of %(subject)s: %(detail)s"),
    ("drift", "ok"): _l("Scenario %(id)s of %(subject)s matches what the CMS renders today."),
    ("drift", "fail"): _l(
        "Scenario %(id)s of %(subject)s differs from what the CMS renders "
        "today (%(detail)s): run flask make rerender-scenarios."
    ),
    ("dry_run", "ok"): _l("Scenario %(id)s of %(subject)s answered a dry run on %(when)s."),
    ("dry_run", "warn"): _l(
        "Scenario %(id)s of %(subject)s has never answered a dry run: use “Test in Make” on the campaign page."
    ),
}


@dataclass(frozen=True)
class Line:
    check: str
    status: str  # ok | warn | fail
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def describe(line: Line | dict) -> str:
    """The line in the current locale."""
    if isinstance(line, dict):
        line = Line(**line)
    params = dict(line.params)
    if params.get("when"):
        params["when"] = format_datetime(datetime.fromisoformat(params["when"]), "medium")
    return str(MESSAGES[(line.check, line.status)]) % params


def failed(lines) -> bool:
    return any((line["status"] if isinstance(line, dict) else line.status) == "fail" for line in lines)


def run_and_record() -> list[Line]:
    """Run every check and keep the report; the caller commits."""
    lines = run()
    checks.record("doctor", 0, ok=not failed(lines), results={"checks": [line.as_dict() for line in lines]})
    return lines


def run() -> list[Line]:
    try:
        client = make.MakeClient(make.MakeConfig.from_settings(current_app.config))
    except make.MakeConfigError as exc:
        return [Line("config", "fail", {"detail": str(exc)})]
    with client:
        lines = _account(client)
        if lines[0].status == "fail":
            return lines  # nothing else can be read with a refused token
        lines += _datastore(client)
        for account in db.session.scalars(
            sa.select(SocialAccount).where(SocialAccount.active.is_(True)).order_by(SocialAccount.id)
        ):
            lines.append(_connection(client, account))
        for scenario in db.session.scalars(
            sa.select(CampaignScenario)
            .where(CampaignScenario.status == ScenarioStatus.READY, CampaignScenario.make_scenario_id.isnot(None))
            .order_by(CampaignScenario.id)
        ):
            lines += _scenario(client, scenario)
    return lines


# -- the account: token, scopes, organisation, zone, team --------------------------------------
def _account(client: make.MakeClient) -> list[Line]:
    try:
        user = client.me()
    except make.MakeError as exc:
        return [Line("token", "fail", {"detail": str(exc)})]
    lines = [Line("token", "ok", {"user": user.get("name") or user.get("email") or user.get("id")})]
    try:
        scopes = set(client.current_authorization().get("scope") or ())
    except make.MakeError as exc:
        lines.append(Line("scopes", "fail", {"missing": f"? ({exc})"}))
    else:
        missing = [s for s in REQUIRED_SCOPES if s not in scopes]
        helpful = [s for s in HELPFUL_SCOPES if s not in scopes]
        lines.append(
            Line("scopes", "fail", {"missing": ", ".join(missing)})
            if missing
            else Line("scopes", "warn", {"missing": ", ".join(helpful)})
            if helpful
            else Line("scopes", "ok", {"scopes": ", ".join(sorted(scopes))})
        )
    organization = _organization(client, lines)
    lines.append(_zone(client, organization))
    lines.append(_team(client, organization))
    return lines


def _organization(client, lines) -> dict | None:
    org_id = client.config.organization_id
    if org_id is None:
        lines.append(
            Line("organization", "warn", {"detail": "MAKE_ORGANIZATION_ID is not set (templates cannot be cloned)"})
        )
        return None
    try:
        organization = client.get_organization(org_id)
    except make.MakePermissionError as exc:
        lines.append(Line("organization", "warn", {"detail": str(exc)}))
        return None
    except make.MakeError as exc:
        lines.append(Line("organization", "fail", {"id": org_id, "detail": str(exc)}))
        return None
    lines.append(
        Line(
            "organization",
            "ok",
            {"id": org_id, "name": organization.get("name", ""), "zone": organization.get("zone", "?")},
        )
    )
    return organization


def _zone(client, organization) -> Line:
    url = client.config.base_url
    match = _ZONE_HOST.match(url)
    org_zone = str((organization or {}).get("zone") or "").split(".")[0]
    if not org_zone:
        return Line("zone", "warn")
    if match is None:  # MAKE_BASE_URL elsewhere (a proxy, the emulator): nothing to compare
        return Line("api_address", "ok", {"url": url, "org_zone": org_zone})
    if match.group(1) != org_zone:
        return Line("zone", "fail", {"zone": match.group(1), "org_zone": org_zone})
    return Line("zone", "ok", {"zone": org_zone})


def _team(client, organization) -> Line:
    team_id = client.config.team_id
    try:
        team = client.get_team(team_id)
    except make.MakePermissionError as exc:
        return Line("team", "warn", {"detail": str(exc)})
    except make.MakeError as exc:
        return Line("team", "fail", {"id": team_id, "detail": str(exc)})
    if organization and team.get("organizationId") != organization.get("id"):
        return Line(
            "team",
            "fail",
            {
                "id": team_id,
                "detail": (
                    f"it belongs to organisation {team.get('organizationId')}, not "
                    f"{organization.get('id')} (MAKE_ORGANIZATION_ID)"
                ),
            },
        )
    return Line("team", "ok", {"id": team_id, "name": team.get("name", "")})


# -- the Data Store ---------------------------------------------------------------------------
def _datastore(client: make.MakeClient) -> list[Line]:
    raw = current_app.config.get("MAKE_DATASTORE_ID")
    try:
        store_id = int(raw)
    except (TypeError, ValueError):
        return [
            Line("datastore", "fail", {"id": raw or "—", "detail": "MAKE_DATASTORE_ID is not set to a Data Store id"})
        ]
    try:
        store = client.get_data_store(store_id)
        if store.get("teamId") != client.config.team_id:
            return [
                Line(
                    "datastore",
                    "fail",
                    {
                        "id": store_id,
                        "detail": (f"it belongs to team {store.get('teamId')}, not {client.config.team_id}"),
                    },
                )
            ]
        if not store.get("datastructureId"):
            return [Line("datastore", "fail", {"id": store_id, "detail": "it has no data structure"})]
        spec = client.get_data_structure(store["datastructureId"]).get("spec") or []
    except make.MakePermissionError as exc:
        return [Line("datastore", "warn", {"detail": str(exc)})]
    except make.MakeError as exc:
        return [Line("datastore", "fail", {"id": store_id, "detail": str(exc)})]
    names = {item.get("name") for item in spec if isinstance(item, dict)}
    missing = [name for name in DATASTORE_FIELDS if name not in names]
    if missing:
        return [
            Line(
                "datastore",
                "fail",
                {"id": store_id, "detail": ("its structure lacks the field(s) " + ", ".join(missing))},
            )
        ]
    return [Line("datastore", "ok", {"id": store_id, "name": store.get("name", "")})]


# -- connections ------------------------------------------------------------------------------
def _connection(client: make.MakeClient, account: SocialAccount) -> Line:
    params = {"id": account.make_connection_id, "account": f"{account.label} ({account.platform.value})"}
    try:
        connection = client.get_connection(account.make_connection_id)
    except make.MakeNotFound:
        return Line("connection", "fail", {**params, "detail": "it does not exist in Make"})
    except make.MakeError as exc:
        return Line("connection", "fail", {**params, "detail": str(exc)})
    kind = connection.get("accountName") or "?"
    if connection.get("teamId") not in (None, client.config.team_id):
        return Line(
            "connection",
            "fail",
            {**params, "detail": (f"it belongs to team {connection.get('teamId')}, not {client.config.team_id}")},
        )
    expected = expected_connection_types(client, account)
    if expected and kind not in expected:
        return Line(
            "connection",
            "fail",
            {**params, "detail": (f"its type is {kind}, the scenario's module needs {' or '.join(sorted(expected))}")},
        )
    return Line("connection", "ok", {**params, "type": kind})


def expected_connection_types(client, account: SocialAccount) -> set[str]:
    """The connection types the account's network modules accept: the repository's for a
    native network, else those its template's modules name (`account:<type>,...` or the
    restore data, as exports carry them); empty when nothing says."""
    if not account.template_scenario_id:
        return set(blueprints.connection_types(account.platform.value))
    try:
        blueprint = client.get_blueprint(account.template_scenario_id)
    except make.MakeError:
        return set()
    types = set()
    for module in blueprints.walk_modules(blueprint.get("flow") or []):
        if "__IMTCONN__" not in (module.get("parameters") or {}):
            continue
        metadata = module.get("metadata") or {}
        restored = (((metadata.get("restore") or {}).get("parameters") or {}).get("__IMTCONN__") or {}).get(
            "data"
        ) or {}
        if restored.get("connection"):
            types.add(restored["connection"])
        for parameter in metadata.get("parameters") or []:
            if parameter.get("name") == "__IMTCONN__" and str(parameter.get("type", "")).startswith("account:"):
                types.update(str(parameter["type"]).split(":", 1)[1].split(","))
    return types


# -- scenarios --------------------------------------------------------------------------------
def _scenario(client: make.MakeClient, row: CampaignScenario) -> list[Line]:
    params = {"id": row.make_scenario_id, "subject": provisioning.scenario_name(row)}
    try:
        found = client.get_scenario(row.make_scenario_id)
        blueprint = client.get_blueprint(row.make_scenario_id)
    except make.MakeNotFound:
        return [Line("scenario", "fail", {**params, "detail": "it no longer exists in Make"})]
    except make.MakeError as exc:
        return [Line("scenario", "fail", {**params, "detail": str(exc)})]
    problems = (
        (["Make marks it invalid"] if found.get("isinvalid") else [])
        + (["it is not active"] if not found.get("isActive") else [])
        + (
            [f"it is bound to webhook {found.get('hookId')}, not {row.make_hook_id}"]
            if found.get("hookId") != row.make_hook_id
            else []
        )
    )
    lines = [
        Line("scenario", "fail", {**params, "detail": "; ".join(problems)})
        if problems
        else Line("scenario", "ok", params)
    ]
    differences = _drift(row, blueprint)
    lines.append(
        Line("drift", "fail", {**params, "detail": differences}) if differences else Line("drift", "ok", params)
    )
    lines.append(
        Line("dry_run", "ok", {**params, "when": row.verified_at.isoformat()})
        if row.verified_at
        else Line("dry_run", "warn", params)
    )
    return lines


def _drift(row: CampaignScenario, blueprint: dict) -> str:
    """What differs from what the CMS would send today, briefly; empty when nothing does."""
    if row.make_template_id is not None:
        problems = template_check.check(blueprint, secrets=provisioning.callback_secrets()[:1])
        return ", ".join(sorted({problem.rule for problem in problems}))
    try:
        expected = provisioning.render_blueprint(
            row.social_account.platform.value,
            hook_id=row.make_hook_id,
            connection_id=row.social_account.make_connection_id,
            name=provisioning.scenario_name(row),
        )
    except blueprints.BlueprintError as exc:
        return str(exc)
    paths = differences(expected, blueprint)
    return ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def differences(expected, actual, path: str = "") -> list[str]:
    """Where `actual` departs from `expected`: a value the CMS set that is missing or changed,
    an item added or removed from a list. Keys Make adds on its side are not drift."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key, value in expected.items():
            where = f"{path}.{key}" if path else key
            found += [where] if key not in actual else differences(value, actual[key], where)
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path} ({len(actual)} items instead of {len(expected)})"]
        return [p for index, (a, b) in enumerate(zip(expected, actual)) for p in differences(a, b, f"{path}[{index}]")]
    return [] if expected == actual else [path or "(blueprint)"]
