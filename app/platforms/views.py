from flask import redirect, request, url_for
from flask_login import current_user

from app.extensions import db
from app.integrations import blueprints
from app.labels import platform_label
from app.models import Platform, Role
from app.platforms import bp, service
from app.platforms.forms import AccountForm, ActiveForm, NewAccountForm
from app.platforms.identifiers import RULES as IDENTIFIER_RULES
from app.rendering import fragment_or_redirect, render
from app.security import role_required


def _values(form) -> dict:
    template = form.template_scenario_id.data
    return {
        "label": form.label.data,
        "make_connection_id": int(form.make_connection_id.data),
        "account_identifier": form.account_identifier.data,
        "template_scenario_id": int(template) if template else None,
    }


def _form_page(form, account=None, status=200):
    return render(
        "platforms/form.html",
        form=form,
        account=account,
        rules=IDENTIFIER_RULES,
        templated=[platform_label(p) for p in Platform if blueprints.requires_template(p.value)],
        status=status,
    )


def _save(form, account, save):
    """Run `save`; a refusal of the service lands beside its field with the form as typed."""
    try:
        save()
    except service.AccountError as exc:
        getattr(form, exc.field).errors.append(exc.message)
        return _form_page(form, account, status=422)
    db.session.commit()
    return redirect(url_for("platforms.index"), 303)


def _row(account, status=200):
    """htmx re-renders the row; a plain form post (no JavaScript) goes back to the list."""
    return fragment_or_redirect(
        "platforms/index.html",
        "account_row",
        url_for("platforms.index"),
        status=status,
        account=account,
        results=service.test_results([account]),
    )


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    page = service.list_page(request.args.get("page", 1, type=int))
    return render("platforms/index.html", block="listing", page=page, results=service.test_results(page.items))


@bp.get("/new")
@role_required(Role.ADMIN)
def new():
    return _form_page(NewAccountForm())


@bp.post("/")
@role_required(Role.ADMIN)
def create():
    form = NewAccountForm()
    if not form.validate():
        return _form_page(form, status=422)
    return _save(
        form, None, lambda: service.create_account(Platform(form.platform.data), **_values(form), actor=current_user)
    )


@bp.get("/<int:account_id>/edit")
@role_required(Role.ADMIN)
def edit(account_id):
    account = service.get_or_404(account_id)
    return _form_page(AccountForm(obj=account), account)


@bp.post("/<int:account_id>")
@role_required(Role.ADMIN)
def update(account_id):
    account = service.get_or_404(account_id)
    form = AccountForm()
    form.platform_value = account.platform
    if not form.validate():
        return _form_page(form, account, status=422)
    return _save(form, account, lambda: service.update_account(account, **_values(form), actor=current_user))


@bp.post("/<int:account_id>/active")
@role_required(Role.ADMIN)
def set_active(account_id):
    account = service.get_or_404(account_id)
    form = ActiveForm()
    if not form.validate() or form.active.data not in ("0", "1"):
        return _row(account, status=422)
    service.set_active(account, form.active.data == "1", actor=current_user)
    db.session.commit()
    return _row(account)


@bp.post("/<int:account_id>/test")
@role_required(Role.ADMIN)
def test(account_id):
    account = service.get_or_404(account_id)
    service.request_test(account, actor=current_user)
    db.session.commit()
    return _row(account)


@bp.get("/<int:account_id>/row")
@role_required(Role.ADMIN)
def row(account_id):
    """Polled while a test runs; 286 tells htmx to stop once it has settled."""
    account = service.get_or_404(account_id)
    return _row(account, status=286 if account.test_settled else 200)
