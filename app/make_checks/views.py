from flask import url_for
from flask_login import current_user

from app.campaigns import service as campaigns
from app.extensions import db
from app.integrations import dry_run
from app.make_checks import bp, service
from app.models import Role
from app.rendering import fragment_or_redirect, render, wants_fragment
from app.security import role_required


def _polled(settled: bool) -> int:
    """htmx polls a box while its work runs; 286 tells it to stop (a whole page is a 200)."""
    return 286 if settled and wants_fragment() else 200


def _box(scenario, status=None):
    box = service.scenario_box(scenario)
    return render("make/scenario.html", block="box", box=box, status=status or _polled(box.dry_run.settled))


@bp.get("/campaigns/<int:campaign_id>/scenarios/<int:scenario_id>")
@role_required(Role.EDITOR)
def scenario_box(campaign_id, scenario_id):
    """The scenario's Make box, polled while a dry run waits; 286 once it has settled."""
    return _box(campaigns.get_scenario_or_404(campaign_id, scenario_id))


@bp.post("/campaigns/<int:campaign_id>/scenarios/<int:scenario_id>/dry-run")
@role_required(Role.EDITOR)
def scenario_dry_run(campaign_id, scenario_id):
    scenario = campaigns.get_scenario_or_404(campaign_id, scenario_id)
    try:
        dry_run.request(scenario, actor=current_user)
    except dry_run.DryRunRefused:
        return _box(scenario, status=409)  # not ready (any more): the box says why
    db.session.commit()
    back = url_for("make_checks.scenario_box", campaign_id=campaign_id, scenario_id=scenario_id)
    return fragment_or_redirect("make/scenario.html", "box", back, box=service.scenario_box(scenario))


@bp.get("/doctor")
@role_required(Role.ADMIN)
def doctor():
    report = service.doctor_report()
    return render("make/doctor.html", block="report", report=report, status=_polled(not report.running))


@bp.post("/doctor")
@role_required(Role.ADMIN)
def run_doctor():
    service.request_doctor_run()
    db.session.commit()
    return fragment_or_redirect(
        "make/doctor.html", "report", url_for("make_checks.doctor"), report=service.doctor_report()
    )


@bp.get("/drift")
@role_required(Role.ADMIN)
def drift():
    """The drift the last doctor run found, for the publishing page (loaded into it)."""
    return render("make/drift.html", block="drift", report=service.doctor_report())
