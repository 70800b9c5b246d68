"""The search schema of migration 0002_search, declared on the shared metadata.

The tsvector columns are added to the tables' metadata here (so the model/migration
agreement test compares them like any column) but are deliberately not mapped on
`MediaAsset` / `ContentObject`: the database triggers are their only writers, and loading
an asset never drags its vector along. `search_words` is the vocabulary those triggers
keep, read by `search_query()` to correct typos. `app.search` imports this module, and
`create_app` imports `app.search` (its blueprint), so the metadata is always complete.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR

from app.extensions import db
from app.models import ContentObject, MediaAsset


def _vector(table: sa.Table) -> sa.Column:
    table.append_column(sa.Column("search_vector", TSVECTOR, nullable=True))
    sa.Index(f"ix_{table.name}_search_vector", table.c.search_vector, postgresql_using="gin")
    return table.c.search_vector


media_vector = _vector(MediaAsset.__table__)
object_vector = _vector(ContentObject.__table__)

search_words = sa.Table(
    "search_words",
    db.metadata,
    sa.Column("word", sa.Text(collation="C"), primary_key=True),
    sa.Column("ndocs", sa.Integer, nullable=False),  # documents holding the word
    sa.Index("ix_search_words_word_trgm", "word", postgresql_using="gin", postgresql_ops={"word": "gin_trgm_ops"}),
)
