"""What the Make check pages show, worded in the reader's language (docs/make-operations.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.extensions import db, redis_store
from app.integrations import checks, doctor, dry_run, template_check
from app.models import CampaignScenario, ScenarioStatus
from app.models.base import utcnow
from app.tasks import by_name, send_after_commit

run_make_doctor = by_name("run_make_doctor")

DOCTOR_RUN_TTL_S = 15 * 60  # a doctor run asked for and not reported within this is forgotten


@dataclass(frozen=True)
class ScenarioBox:
    scenario: CampaignScenario
    problems: list[tuple[str, str]]  # (what is wrong, how to fix it)
    dry_run: dry_run.State
    can_test: bool

    @property
    def shows_dry_run(self) -> bool:
        return self.scenario.status is ScenarioStatus.READY or self.dry_run.status != "never"


def scenario_box(scenario: CampaignScenario) -> ScenarioBox:
    check = checks.last("scenario", scenario.id)
    problems = check.results.get("problems", []) if check and not check.ok else []
    state = dry_run.state(scenario)
    return ScenarioBox(
        scenario, described(problems), state, can_test=scenario.status is ScenarioStatus.READY and state.settled
    )


def described(problems: list[dict]) -> list[tuple[str, str]]:
    return [template_check.describe(problem) for problem in problems]


@dataclass(frozen=True)
class Report:
    lines: list[tuple[str, str, str]]  # (check, status, sentence)
    checked_at: datetime | None
    failed: bool
    running: bool

    @property
    def drift(self) -> list[str]:
        return [text for check, status, text in self.lines if check == "drift" and status == "fail"]


def doctor_report() -> Report:
    last = checks.last("doctor", 0)
    lines = last.results.get("checks", []) if last else []
    asked = redis_store.client.get(_asked_key())
    running = asked is not None and (last is None or last.checked_at.timestamp() < float(asked))
    return Report(
        [(line["check"], line["status"], doctor.describe(line)) for line in lines],
        last.checked_at if last else None,
        doctor.failed(lines),
        running,
    )


def request_doctor_run() -> None:
    """Have a worker run the doctor after the commit; the page polls until its report lands."""
    redis_store.client.set(_asked_key(), str(utcnow().timestamp()), ex=DOCTOR_RUN_TTL_S)
    send_after_commit(db.session(), run_make_doctor)


def _asked_key() -> str:
    return redis_store.key("make:doctor:asked")
