from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import AccountTestStatus, Platform, Timestamps, enum_column


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
    # The last "test" against Make (connection and template exist); null until one is asked.
    test_status: Mapped[AccountTestStatus | None] = mapped_column(enum_column(AccountTestStatus, "account_test_status"))
    test_message: Mapped[str | None] = mapped_column(sa.Text)
    tested_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    @property
    def test_settled(self) -> bool:
        return self.test_status is not AccountTestStatus.PENDING
