"""Indexes and their documents, in memory.

Only the task worker changes them (under ``Store.lock``), which is what makes a
write invisible to search until its task has succeeded. Document operations are
all-or-nothing: one bad document fails the whole task, as in Meilisearch.
"""

from __future__ import annotations

import json
import re
import threading

from .clock import rfc3339
from .errors import MeiliError, compact_json, index_not_found
from .settings import default_settings
from .text import Token, tokenize

DOCUMENT_ID = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_DOCUMENT_ID_BYTES = 511
ARRAY_POSITION_GAP = 8  # Meilisearch separates array elements by a hard separator


def collect_paths(document: dict) -> dict[str, list]:
    """Every dotted path of a document with the raw values found there.

    Objects inside arrays contribute to ``parent.child`` paths, the way milli
    flattens documents for filtering, faceting and searching.
    """
    paths: dict[str, list] = {}

    def walk(value, path: str) -> None:
        paths.setdefault(path, []).append(value)
        if isinstance(value, dict):
            for key, child in value.items():
                walk(child, f"{path}.{key}")
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    for key, child in item.items():
                        walk(child, f"{path}.{key}")

    for key, value in document.items():
        walk(value, key)
    return paths


class DocumentEntry:
    """A stored document and the flattened views filters and search read."""

    def __init__(self, body: dict, order: int) -> None:
        self.body = body
        self.order = order  # internal id: the last tie-break of every ranking
        self.paths = collect_paths(body)
        # Words are extracted at indexing time, as Meilisearch does, so that a search
        # costs the same the first time and does not eat into a caller's time budget.
        self.tokens = {path: self._tokenize(path) for path in self.paths}

    def leaves(self, path: str) -> list:
        """Scalar values at ``path``; an array counts through its elements (one level)."""
        values = []
        for value in self.paths.get(path, ()):
            if isinstance(value, list):
                values.extend(item for item in value if not isinstance(item, (list, dict)))
            elif not isinstance(value, dict):
                values.append(value)
        return values

    def _tokenize(self, path: str) -> list[Token]:
        """Searchable words at ``path``; strings and numbers are searchable."""
        tokens: list[Token] = []
        for value in self.leaves(path):
            if isinstance(value, bool) or value is None:
                continue
            text = value if isinstance(value, str) else json.dumps(value)
            first = tokens[-1].position + ARRAY_POSITION_GAP if tokens else 0
            tokens.extend(tokenize(text, first))
        return tokens


class Index:
    def __init__(self, uid: str, primary_key: str | None, now_ns: int) -> None:
        self.uid = uid
        self.primary_key = primary_key
        self.created_ns = self.updated_ns = now_ns
        self.documents: dict[str, DocumentEntry] = {}
        self.settings = default_settings()
        self.field_order: list[str] = []  # first-seen order: the ranking order of "*"
        self._next_order = 0

    def view(self) -> dict:
        return {
            "uid": self.uid,
            "primaryKey": self.primary_key,
            "createdAt": rfc3339(self.created_ns),
            "updatedAt": rfc3339(self.updated_ns),
        }

    def add_documents(self, documents: list[dict], requested_key: str | None, merge: bool) -> int:
        """Replace (or, with ``merge``, update) documents; returns how many were indexed."""
        if not documents:
            return 0
        primary_key = self._resolve_primary_key(requested_key, documents[0])
        ids = [external_id(document, primary_key) for document in documents]
        for doc_id, document in zip(ids, documents):
            existing = self.documents.get(doc_id)
            body = {**existing.body, **document} if merge and existing else document
            order = existing.order if existing else self._take_order()
            entry = DocumentEntry(body, order)
            self.documents[doc_id] = entry
            self.field_order.extend(p for p in entry.paths if p not in self.field_order)
        self.primary_key = primary_key
        return len(documents)

    def _take_order(self) -> int:
        self._next_order += 1
        return self._next_order

    def _resolve_primary_key(self, requested: str | None, first_document: dict) -> str:
        if self.primary_key:
            if requested and requested != self.primary_key:
                raise MeiliError(
                    400, "index_primary_key_already_exists", f"Index already has a primary key: `{self.primary_key}`."
                )
            return self.primary_key
        if requested:
            return requested
        candidates = sorted(key for key in first_document if key.lower().endswith("id"))
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise MeiliError(
                400,
                "index_primary_key_no_candidate_found",
                "The primary key inference failed as the engine did not find any "
                "field ending with `id` in its name. Please specify the primary key "
                "manually using the `primaryKey` query parameter.",
            )
        raise MeiliError(
            400,
            "index_primary_key_multiple_candidates_found",
            "The primary key inference failed as the engine found "
            f"{len(candidates)} fields ending with `id` in their names: "
            f"'{candidates[0]}' and '{candidates[1]}'. Please specify the primary "
            "key manually using the `primaryKey` query parameter.",
        )

    def delete_documents(self, doc_ids) -> int:
        removed = [self.documents.pop(str(doc_id), None) for doc_id in doc_ids]
        return sum(entry is not None for entry in removed)


def external_id(document: dict, primary_key: str) -> str:
    """The document id as Meilisearch keys it (1 and "1" are the same document)."""
    if primary_key not in document:
        raise MeiliError(
            400,
            "missing_document_id",
            f"Document doesn't have a `{primary_key}` attribute: `{compact_json(document)}`.",
        )
    value = document[primary_key]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and DOCUMENT_ID.match(value) and len(value.encode()) <= MAX_DOCUMENT_ID_BYTES:
        return value
    raise invalid_document_id(value)


def invalid_document_id(value) -> MeiliError:
    return MeiliError(
        400,
        "invalid_document_id",
        f"Document identifier `{compact_json(value)}` is invalid. A document "
        "identifier can be of type integer or string, only composed of "
        "alphanumeric characters (a-z A-Z 0-9), hyphens (-) and underscores (_), "
        "and can not be more than 511 bytes.",
    )


class Store:
    """All indexes; hold ``lock`` to read a consistent state."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.indexes: dict[str, Index] = {}

    def get(self, uid: str) -> Index:
        index = self.indexes.get(uid)
        if index is None:
            raise index_not_found(uid)
        return index

    def get_or_create(self, uid: str, now_ns: int) -> Index:
        if uid not in self.indexes:
            self.indexes[uid] = Index(uid, None, now_ns)
        return self.indexes[uid]

    def reset(self) -> None:
        with self.lock:
            self.indexes.clear()
