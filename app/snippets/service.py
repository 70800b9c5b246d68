"""Text snippets and hashtag groups the composer inserts (issue 12, point 5; docs/architecture.md §3.11).

They belong to the team, not to each editor: they carry the brand's voice (its signature, its
calls to action, the campaign's hashtags), so a group one editor makes is the one a colleague
uses to finish the same post, and a fix made once (a hashtag renamed) reaches everyone instead
of drifting in private copies. Every editor may manage them; approvers only see the posts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app import audit
from app.extensions import db
from app.models import HashtagGroup, TextSnippet

# The list's search field appears beyond this many pieces (below, everything fits on a screen).
SEARCH_FROM = 20
MAX_HASHTAGS = 60
HASHTAG = re.compile(r"^#\w+$")
SEPARATORS = re.compile(r"[\s,;]+")

KINDS = {"texts": TextSnippet, "hashtags": HashtagGroup}


class Invalid(Exception):
    """The form's errors by field name, in the reader's language."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("invalid snippet")
        self.errors = errors


def parse_hashtags(raw: str) -> tuple[list[str], list[str]]:
    """The hashtags typed (separated by spaces, commas or new lines), each once in the order
    typed (#Salon and #salon are the same hashtag on the networks), and what is wrong."""
    found: dict[str, str] = {}
    errors: list[str] = []
    for word in SEPARATORS.split(raw or ""):
        if not word:
            continue
        if not word.startswith("#"):
            errors.append(
                str(
                    _l(
                        "“%(word)s” does not start with #. A hashtag has no spaces: join its words (#SalonDeParis).",
                        word=word,
                    )
                )
            )
        elif not HASHTAG.match(word):
            errors.append(str(_l("“%(word)s”: after the #, only letters, digits and _.", word=word)))
        elif len(word) > 140:
            errors.append(str(_l("“%(word)s…” is too long (140 characters at most).", word=word[:20])))
        else:
            found.setdefault(word.casefold(), word)
    if not found and not errors:
        errors.append(str(_l("Enter at least one hashtag, e.g. #Salon2027.")))
    if len(found) > MAX_HASHTAGS:
        errors.append(str(_l("%(count)d hashtags: %(max)d at most.", count=len(found), max=MAX_HASHTAGS)))
    return list(found.values()), errors


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def texts(q: str = "") -> list[TextSnippet]:
    query = sa.select(TextSnippet).order_by(sa.func.lower(TextSnippet.name), TextSnippet.id)
    if q.strip():
        pattern = _like(q.strip())
        query = query.where(sa.or_(TextSnippet.name.ilike(pattern), TextSnippet.text.ilike(pattern)))
    return list(db.session.scalars(query))


def groups(q: str = "") -> list[HashtagGroup]:
    query = sa.select(HashtagGroup).order_by(sa.func.lower(HashtagGroup.name), HashtagGroup.id)
    if q.strip():
        pattern = _like(q.strip())
        query = query.where(
            sa.or_(HashtagGroup.name.ilike(pattern), sa.func.array_to_string(HashtagGroup.hashtags, " ").ilike(pattern))
        )
    return list(db.session.scalars(query))


def total() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(TextSnippet)) + db.session.scalar(
        sa.select(sa.func.count()).select_from(HashtagGroup)
    )


def get(kind: str, item_id: int):
    return db.session.get(KINDS[kind], item_id)


def _name_taken(model, name: str, item_id: int | None) -> bool:
    query = sa.select(model.id).where(sa.func.lower(model.name) == name.lower())
    if item_id is not None:
        query = query.where(model.id != item_id)
    return db.session.scalar(query.limit(1)) is not None


def save(kind: str, item, *, name: str, text: str, actor):
    """Create (`item` None) or edit a snippet or a hashtag group; raises `Invalid` with the errors
    per field, leaving the database untouched."""
    model = KINDS[kind]
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [str(_l("Give it a name."))]
    elif len(name) > 100:
        errors["name"] = [str(_l("100 characters at most."))]
    elif _name_taken(model, name, item.id if item else None):
        errors["name"] = [str(_l("“%(name)s” already exists: choose another name.", name=name))]
    if kind == "hashtags":
        value, problems = parse_hashtags(text)
        if problems:
            errors["text"] = problems
    else:
        value = (text or "").strip()
        if not value:
            errors["text"] = [str(_l("Enter the text to insert."))]
        elif len(value) > 10_000:
            errors["text"] = [str(_l("10,000 characters at most."))]
    if errors:
        raise Invalid(errors)
    created = item is None
    if created:
        item = model(created_by_id=getattr(actor, "id", None))
        db.session.add(item)
    item.name = name
    if kind == "hashtags":
        item.hashtags = value
    else:
        item.text = value
    db.session.flush()
    audit.record(
        "snippet_created" if created else "snippet_updated", item, actor=actor, data={"name": name, "kind": kind}
    )
    return item


def delete(kind: str, item, *, actor) -> None:
    audit.record("snippet_deleted", item, actor=actor, data={"name": item.name, "kind": kind})
    db.session.delete(item)
    db.session.flush()


@dataclass
class Choice:
    """One line of the composer's "Insert…" list."""

    kind: str
    name: str
    text: str


def choices(q: str = "") -> list[Choice]:
    """What the composer offers, hashtag groups first, filtered by name or content."""
    return [Choice("hashtags", group.name, group.text) for group in groups(q)] + [
        Choice("texts", snippet.name, snippet.text) for snippet in texts(q)
    ]
