"""The calendar of all campaigns: editors move posts (drag and drop, or the "Move" control, both
through `move`); approvers read it."""

from flask import flash, redirect, request, url_for
from flask_babel import format_datetime, gettext as _
from flask_login import current_user

from app.calendar import bp, service
from app.calendar.forms import MoveForm
from app.extensions import db
from app.models import Platform, Role
from app.rendering import render, wants_fragment
from app.security import role_required


@bp.get("/calendar/")
@role_required(Role.EDITOR, Role.APPROVER)
def index():
    filters = service.Filters.from_args(request.args, service.today())
    return render(
        "calendar/index.html",
        block="calendar",
        filters=filters,
        period=service.period(filters, current_user),
        unscheduled=service.unscheduled(filters, current_user),
        campaigns=service.campaigns(),
        platforms=list(Platform),
        today=service.today(),
        can_move=current_user.has_role(Role.EDITOR),
    )


@bp.get("/calendar/posts/<int:object_id>/move")
@role_required(Role.EDITOR)
def move_form(object_id):
    obj = service.get_or_404(object_id, current_user)
    form = MoveForm(formdata=None, back=_back()).set_moment(obj.scheduled_at)
    problem = service.refusal(obj)
    return _panel(obj, form, "refused" if problem else "choose", problem=problem)


@bp.post("/calendar/posts/<int:object_id>/move")
@role_required(Role.EDITOR)
def move(object_id):
    """A drop or the typed form: first the confirmation saying what happens to the approval,
    then (`confirm`) the move itself. Refusals come back in the panel with 422."""
    obj = service.get_or_404(object_id, current_user, lock=True)
    form = MoveForm()
    if not form.validate():
        return _panel(obj, form, "choose", status=422)
    moment = form.moment()
    try:
        service.check_move(obj, moment)
    except service.NotMovable as refused:
        return _panel(obj, form.normalise(), "refused" if refused.final else "choose", problem=str(refused))
    if form.confirm.data != "yes":
        return _panel(obj, form.normalise(), "confirm", moment=moment, consequence=service.consequence(obj))
    outcome = service.move(obj, moment, actor=current_user)
    db.session.commit()
    when = format_datetime(moment, "EEEE d MMMM y, HH:mm")
    flash(
        {
            "review": _("“%(title)s” moved to %(when)s: it goes back to review.", title=obj.title, when=when),
            "kept": _("“%(title)s” moved to %(when)s: the approval is kept.", title=obj.title, when=when),
            "none": _("“%(title)s” moved to %(when)s.", title=obj.title, when=when),
        }[outcome],
        "success",
    )
    back = _back(form.back.data)
    if wants_fragment():  # the whole page again, with the flash (the calendar block has none)
        return "", 204, {"HX-Redirect": back}
    return redirect(back, 303)


def _panel(obj, form, step: str, *, problem=None, moment=None, consequence=None, status=200):
    """The move panel at one of its steps: "choose" a moment, "confirm" it, or "refused"."""
    return render(
        "calendar/move.html",
        block="panel",
        obj=obj,
        form=form,
        step=step,
        problem=problem,
        moment=moment,
        consequence=consequence,
        back=_back(form.back.data or ""),
        status=422 if problem else status,
    )


def _back(value: str | None = None) -> str:
    """Where to come back to: the calendar as it was (its filters and period), never elsewhere."""
    value = value if value is not None else request.args.get("back", "")
    if value.startswith("/calendar/") and "//" not in value and "\\" not in value:
        return value
    return url_for("calendar.index")
