"""The last result of each check against Make (revision 0007), shown on the pages that ask."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow

MAKE_CHECK_KINDS = ("doctor", "account", "scenario")


class MakeCheck(db.Model):
    """One row per subject, replaced by each new check:

    - `doctor`, subject 0: the installation's checks (`flask make doctor`, the admin page, the
      nightly job); `results["checks"]` is one entry per line of the report;
    - `account`, subject = social account id: its template's problems and the scenario its last
      dry run went through (`results["problems"]`, `results["dry_run_scenario_id"]`);
    - `scenario`, subject = campaign scenario id: why provisioning refused it (the template
      check's problems, or Make's validation errors).
    """

    __tablename__ = "make_checks"
    __table_args__ = (
        sa.CheckConstraint("kind IN (" + ", ".join(f"'{kind}'" for kind in MAKE_CHECK_KINDS) + ")", name="kind_known"),
    )

    kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    subject_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    ok: Mapped[bool]
    results: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=sa.text("'{}'::jsonb"))
    checked_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, server_default=sa.func.now()
    )
