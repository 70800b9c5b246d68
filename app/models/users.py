from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import Role, Timestamps, enum_column


class User(UserMixin, Timestamps, db.Model):
    __tablename__ = "users"
    __table_args__ = (sa.Index("uq_users_email_lower", sa.func.lower(sa.text("email")), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(120))
    # Null until an invited user chooses a password.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Bumped on logout-everywhere, deactivation, role or password change: every
    # server-side session recorded with an older epoch is refused.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return self.active

    def has_role(self, *roles: Role) -> bool:
        return self.role is Role.ADMIN or self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"
