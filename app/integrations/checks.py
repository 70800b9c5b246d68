"""The last result of each check against Make, kept in `make_checks` (app/models/make_checks.py).

The callers commit: a check is recorded in the same transaction as what it explains.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from app.extensions import db
from app.models import MakeCheck
from app.models.base import utcnow


def record(kind: str, subject_id: int, *, ok: bool, results: dict) -> None:
    """Replace the subject's last result (one statement, safe when two workers race)."""
    values = {"kind": kind, "subject_id": subject_id, "ok": ok, "results": results, "checked_at": utcnow()}
    statement = insert(MakeCheck).values(**values)
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["kind", "subject_id"],
            set_={name: statement.excluded[name] for name in ("ok", "results", "checked_at")},
        )
    )


def last(kind: str, subject_id: int) -> MakeCheck | None:
    return db.session.get(MakeCheck, (kind, subject_id), populate_existing=True)


def last_of(kind: str, subject_ids) -> dict[int, MakeCheck]:
    """The last results of several subjects of one kind, by subject id (one query)."""
    ids = list(subject_ids)
    if not ids:
        return {}
    rows = db.session.scalars(sa.select(MakeCheck).where(MakeCheck.kind == kind, MakeCheck.subject_id.in_(ids)))
    return {row.subject_id: row for row in rows}


def forget(kind: str, subject_id: int) -> None:
    db.session.execute(sa.delete(MakeCheck).where(MakeCheck.kind == kind, MakeCheck.subject_id == subject_id))
