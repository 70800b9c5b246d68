"""The composer's reusable pieces (issue 12, point 5; revision 0015): text snippets and hashtag
groups, shared by the whole team (app/snippets/service.py says why)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import Timestamps


class TextSnippet(Timestamps, db.Model):
    """A named text an editor inserts into a message (a signature, a call to action...)."""

    __tablename__ = "text_snippets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    text: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class HashtagGroup(Timestamps, db.Model):
    """A named list of hashtags, each starting with #, without spaces, each once (in order)."""

    __tablename__ = "hashtag_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    hashtags: Mapped[list[str]] = mapped_column(postgresql.ARRAY(sa.String(140)))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def text(self) -> str:
        """What the composer inserts: the hashtags separated by spaces."""
        return " ".join(self.hashtags or [])
