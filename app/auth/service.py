"""Accounts: authentication, invitations and the admin's user management."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app import audit
from app.auth import passwords, sessions, throttle
from app.config import signing_keys
from app.extensions import db
from app.models import Role, User
from app.models.base import utcnow


class AccountError(Exception):
    """A refusal to show the user as it is (already translated lazily)."""


@dataclass
class LoginResult:
    user: User | None = None
    error: str | None = None
    retry_after: int = 0


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == normalize_email(email)))


def authenticate(email: str, password: str, ip: str) -> LoginResult:
    """Check credentials under throttling; the answer is the same for unknown accounts."""
    email = normalize_email(email)
    wait = throttle.retry_after(email, ip)
    if wait:
        return LoginResult(
            error=_l("Too many attempts. Try again in %(minutes)d minute(s).", minutes=max(1, (wait + 59) // 60)),
            retry_after=wait,
        )
    user = find_by_email(email)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        throttle.record_failure(email, ip)
        current_app.logger.info("login failed for %s from %s", email, ip)
        return LoginResult(error=_l("Invalid e-mail address or password."))
    throttle.clear_account(email, ip)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return LoginResult(user=user)


def log_in(user: User) -> None:
    sessions.start(user)
    user.last_login_at = utcnow()
    audit.record("login", user, actor=user)


def create_user(email: str, name: str, role: Role, password: str | None = None, *, actor: User | None = None) -> User:
    email = normalize_email(email)
    if find_by_email(email) is not None:
        raise AccountError(_l("An account already exists for this e-mail address."))
    user = User(
        email=email, name=name.strip(), role=role, password_hash=passwords.hash_password(password) if password else None
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user_created", user, actor=actor, data={"role": role.value})
    return user


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(signing_keys(current_app.config), salt="invitation")


def invitation_token(user: User) -> str:
    # The epoch makes a link die when the account changes (password set, role, deactivation).
    return _serializer().dumps({"uid": user.id, "epoch": user.session_epoch})


def renew_invitation(user: User, *, actor: User) -> str:
    """A new link; the previous ones stop working (the epoch they carry is now stale)."""
    sessions.revoke_all(user)
    audit.record("invitation_renewed", user, actor=actor)
    return invitation_token(user)


def user_for_invitation(token: str) -> User:
    try:
        data = _serializer().loads(token, max_age=current_app.config["INVITATION_MAX_AGE"])
    except SignatureExpired:
        raise AccountError(_l("This invitation has expired. Ask an administrator for a new one."))
    except BadSignature:
        raise AccountError(_l("This invitation link is not valid."))
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.active or user.session_epoch != data.get("epoch") or user.password_hash is not None:
        raise AccountError(_l("This invitation link has already been used or is no longer valid."))
    return user


def accept_invitation(user: User, password: str) -> None:
    user.password_hash = passwords.hash_password(password)
    sessions.revoke_all(user)
    audit.record("invitation_accepted", user, actor=user)


def change_role(user: User, role: Role, *, actor: User) -> None:
    if user.role is role:
        return
    if user.role is Role.ADMIN and _is_last_admin(user):
        raise AccountError(_l("The last active administrator cannot lose the administrator role."))
    audit.record("role_changed", user, actor=actor, data={"from": user.role.value, "to": role.value})
    user.role = role
    sessions.revoke_all(user)


def set_active(user: User, active: bool, *, actor: User) -> None:
    if user.active is active:
        return
    if not active and user.id == actor.id:
        raise AccountError(_l("You cannot deactivate your own account."))
    if not active and user.role is Role.ADMIN and _is_last_admin(user):
        raise AccountError(_l("The last active administrator cannot be deactivated."))
    user.active = active
    sessions.revoke_all(user)
    audit.record("user_activated" if active else "user_deactivated", user, actor=actor)


def _is_last_admin(user: User) -> bool:
    others = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user.id)
    )
    return others == 0


def list_users(page: int, per_page: int = 50):
    return db.paginate(sa.select(User).order_by(User.name, User.id), page=page, per_page=per_page, error_out=False)
