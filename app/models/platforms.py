from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import Platform, Timestamps, enum_column


class SocialAccount(Timestamps, db.Model):
    """An account connected in Make.com that campaigns can publish to."""

    __tablename__ = "social_accounts"
    __table_args__ = (sa.UniqueConstraint("platform", "account_identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Platform] = mapped_column(enum_column(Platform, "platform"))
    label: Mapped[str] = mapped_column(sa.String(120))
    make_connection_id: Mapped[int] = mapped_column(sa.BigInteger)
    account_identifier: Mapped[str] = mapped_column(sa.String(120))
    template_scenario_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
