from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from urllib.parse import urlsplit

from app.auth import bp, service, sessions
from app.auth.forms import ActiveForm, InviteForm, LoginForm, PasswordForm, RoleForm, role_choices
from app.extensions import db
from app.models import Role, User
from app.rendering import fragment_or_redirect, render
from app.security import ANY_USER, may_open, public, role_required

HOME_BY_ROLE = {Role.ADMIN: "auth.users", Role.EDITOR: "campaigns.index", Role.APPROVER: "reviews.index"}


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/")
@role_required(*ANY_USER)
def home():
    return redirect(url_for(HOME_BY_ROLE[current_user.role]))


@bp.get("/login")
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = LoginForm(next=request.args.get("next", ""))
    return render("auth/login.html", form=form)


@bp.post("/login")
@public
def login_post():
    form = LoginForm()
    if not form.validate():
        return render("auth/login.html", form=form, status=422)
    result = service.authenticate(form.email.data, form.password.data, request.remote_addr or "?")
    if result.user is None:
        form.password.data = ""
        status = 429 if result.retry_after else 422
        body, status, headers = render("auth/login.html", form=form, error=result.error, status=status)
        if result.retry_after:
            headers["Retry-After"] = str(result.retry_after)
        return body, status, headers
    chosen = session.get("lang")  # a language chosen on the login page; log_in starts a new session
    service.log_in(result.user)
    if chosen in current_app.config["LANGUAGES"]:
        result.user.locale = chosen  # it becomes the saved preference, on every device
    db.session.commit()
    target = _safe_next(form.next.data)
    if target is None or not may_open(target, result.user):
        target = url_for("auth.home")
    return redirect(target, 303)


@bp.post("/logout")
@role_required(*ANY_USER)
def logout():
    sessions.end()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"), 303)


@bp.post("/language")
@public
def set_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")) or url_for("auth.home"), 303)


@bp.route("/invite/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token):
    try:
        user = service.user_for_invitation(token)
    except service.AccountError as exc:
        return render("auth/invite.html", error=str(exc), form=None, status=410)
    form = PasswordForm()
    if request.method == "POST":
        if not form.validate():
            return render("auth/invite.html", form=form, user=user, status=422)
        service.accept_invitation(user, form.password.data)
        db.session.commit()
        flash(_("Your password is set. You can log in."), "success")
        return redirect(url_for("auth.login"), 303)
    return render("auth/invite.html", form=form, user=user)


# -- Administration of users ------------------------------------------------------------


def _users_page(invite_form=None, invitation=None, status=200):
    page = request.args.get("page", 1, type=int)
    return render(
        "auth/users.html",
        users=service.list_users(page),
        invite_form=invite_form or InviteForm(),
        invitation=invitation,
        roles=role_choices(),
        status=status,
    )


def _invitation(user, token: str):
    # Built on PUBLIC_BASE_URL, never on the request's Host header (host header injection).
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return {"user": user, "link": base + url_for("auth.accept_invitation", token=token)}


def _user_row(user, error=None, status=200):
    """htmx re-renders the row; a plain form post (no JavaScript) goes back to the list."""
    return fragment_or_redirect(
        "auth/users.html",
        "user_row",
        url_for("auth.users"),
        message=error,
        category="error",
        status=status,
        user=user,
        roles=role_choices(),
        row_error=error,
    )


@bp.get("/admin/users")
@role_required(Role.ADMIN)
def users():
    return _users_page()


@bp.post("/admin/users")
@role_required(Role.ADMIN)
def invite_user():
    form = InviteForm()
    if not form.validate():
        return _users_page(invite_form=form, status=422)
    try:
        user = service.create_user(form.email.data, form.name.data, Role(form.role.data), actor=current_user)
    except service.AccountError as exc:
        form.email.errors.append(str(exc))
        return _users_page(invite_form=form, status=422)
    token = service.invitation_token(user)
    db.session.commit()
    return _users_page(invitation=_invitation(user, token))


@bp.post("/admin/users/<int:user_id>/invitation")
@role_required(Role.ADMIN)
def renew_invitation(user_id):
    user = db.get_or_404(User, user_id)
    if user.password_hash is not None:
        abort(409)
    token = service.renew_invitation(user, actor=current_user)
    db.session.commit()
    return _users_page(invitation=_invitation(user, token))


@bp.post("/admin/users/<int:user_id>/role")
@role_required(Role.ADMIN)
def change_role(user_id):
    user = db.get_or_404(User, user_id)
    form = RoleForm()
    if not form.validate():
        return _user_row(user, error=_("Choose a valid role."), status=422)
    try:
        service.change_role(user, Role(form.role.data), actor=current_user)
    except service.AccountError as exc:
        db.session.rollback()
        return _user_row(user, error=str(exc), status=422)
    db.session.commit()
    return _user_row(user)


@bp.post("/admin/users/<int:user_id>/active")
@role_required(Role.ADMIN)
def set_active(user_id):
    user = db.get_or_404(User, user_id)
    form = ActiveForm()
    if not form.validate() or form.active.data not in ("0", "1"):
        return _user_row(user, error=_("Invalid request."), status=422)
    try:
        service.set_active(user, form.active.data == "1", actor=current_user)
    except service.AccountError as exc:
        db.session.rollback()
        return _user_row(user, error=str(exc), status=422)
    db.session.commit()
    return _user_row(user)
