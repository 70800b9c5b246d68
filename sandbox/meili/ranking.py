"""Which documents match a query, and in what order, following the ranking rules.

Each query word matches a document word exactly, as a prefix (last word only) or
within its typo budget. With the default ``matchingStrategy: last`` a document
qualifies when it matches the first query words, dropping words from the end:
it ranks by how many leading words it matched (``words``), then by the other
rules in the index's ``rankingRules`` order, where ``sort`` stands for the
request's ``sort`` and ``attr:asc`` for a custom rule. The internal document id
breaks the remaining ties, as in Meilisearch.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import total_ordering

from .settings import matches_attribute
from .state import DocumentEntry, Index
from .text import QueryTerm, WordMatch, match_word, normalize_facet

MAX_PROXIMITY = 7
UNRELATED_PROXIMITY = 8  # the words are in different attributes


class TermMatcher:
    """Which query terms a word matches, memoized per word: vocabularies repeat a lot."""

    def __init__(self, terms: list[QueryTerm]) -> None:
        self.terms = terms
        self._memo: dict[tuple[str, bool], tuple[tuple[int, WordMatch], ...]] = {}

    def matches(self, word: str, typos_allowed: bool) -> tuple[tuple[int, WordMatch], ...]:
        """``(term index, match)`` for every term the word matches."""
        key = (word, typos_allowed)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = tuple(
                (index, match)
                for index, term in enumerate(self.terms)
                if (match := match_word(term, word, typos_allowed))
            )
        return found

    def best(self, word: str, typos_allowed: bool) -> WordMatch | None:
        """The longest match of ``word`` against any term (for highlighting)."""
        return max(
            (match for _, match in self.matches(word, typos_allowed)), key=lambda match: match.length, default=None
        )


@dataclass(frozen=True)
class Score:
    """What the ranking rules compare; all zero for a placeholder (empty) query."""

    words: int = 0
    typos: int = 0
    proximity: int = 0
    attribute: int = 0
    position: int = 0
    exact_attribute: bool = False
    exact_words: int = 0


@dataclass(frozen=True)
class _Occurrence:
    path: str
    rank: int
    position: int
    typos: int
    exact: bool


def attribute_ranks(index: Index, search_on: list[str] | None) -> dict[str, int]:
    """Searchable path -> weight (0 is the most important attribute)."""
    searchable = index.settings["searchableAttributes"]
    ranks = {}
    for order, path in enumerate(index.field_order):
        if searchable == ["*"]:
            rank = order
        else:
            rank = next((i for i, name in enumerate(searchable) if matches_attribute(path, [name])), None)
        if rank is not None and (search_on is None or matches_attribute(path, search_on)):
            ranks[path] = rank
    return ranks


def score_document(
    entry: DocumentEntry, matcher: TermMatcher, ranks: dict[str, int], no_typo_attributes: list[str], require_all: bool
) -> Score | None:
    """The document's score, or None when it does not match the query."""
    terms = matcher.terms
    occurrences: list[list[_Occurrence]] = [[] for _ in terms]
    exact_attribute = False
    query_words = [term.text for term in terms]
    for path, tokens in entry.tokens.items():
        if path not in ranks or not tokens:
            continue
        typos_allowed = not matches_attribute(path, no_typo_attributes)
        exact_attribute = exact_attribute or [t.text for t in tokens] == query_words
        for token in tokens:
            for term_index, found in matcher.matches(token.text, typos_allowed):
                occurrences[term_index].append(_Occurrence(path, ranks[path], token.position, found.typos, found.exact))
    matched = next((i for i, found in enumerate(occurrences) if not found), len(terms))
    if matched == 0 or (require_all and matched < len(terms)):
        return None
    kept = occurrences[:matched]
    best_ranks = [min(o.rank for o in found) for found in kept]
    return Score(
        words=matched,
        typos=sum(min(o.typos for o in found) for found in kept),
        proximity=sum(_proximity(kept[i], kept[i + 1]) for i in range(matched - 1)),
        attribute=sum(best_ranks),
        position=sum(min(o.position for o in found if o.rank == rank) for found, rank in zip(kept, best_ranks)),
        exact_attribute=exact_attribute,
        exact_words=sum(any(o.exact for o in found) for found in kept),
    )


def _proximity(first: list[_Occurrence], second: list[_Occurrence]) -> int:
    """Distance between two consecutive query words; a reversed pair costs one more."""
    best = UNRELATED_PROXIMITY
    for a in first:
        for b in second:
            if a.path == b.path:
                distance = b.position - a.position if b.position > a.position else a.position - b.position + 1
                best = min(best, distance, MAX_PROXIMITY)
    return best


@total_ordering
class _Descending:
    """Reverses the order of strings inside a sort key."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other) -> bool:
        return self.text == other.text

    def __lt__(self, other) -> bool:
        return self.text > other.text


def sort_value(entry: DocumentEntry, field: str, ascending: bool) -> tuple:
    """Numbers first, then strings (lowercased), then documents without the field.

    This is milli's order for both directions; an array sorts by its smallest
    value ascending and by its largest descending.
    """
    values = entry.leaves(field)
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if numbers:
        return (0, min(numbers)) if ascending else (0, -max(numbers))
    strings = [
        ("true" if v else "false") if isinstance(v, bool) else normalize_facet(v)
        for v in values
        if isinstance(v, (str, bool))
    ]
    if strings:
        return (1, min(strings)) if ascending else (1, _Descending(max(strings)))
    return (2,)


def ranking_key(entry: DocumentEntry, score: Score, rules: list[str], sort_criteria: list[tuple[str, bool]]) -> tuple:
    key: list = []
    for rule in rules:
        if rule == "words":
            key.append(-score.words)
        elif rule == "typo":
            key.append(score.typos)
        elif rule == "proximity":
            key.append(score.proximity)
        elif rule == "attribute":
            key.append((score.attribute, score.position))
        elif rule == "attributeRank":
            key.append(score.attribute)
        elif rule == "wordPosition":
            key.append(score.position)
        elif rule == "exactness":
            key.append((-score.exact_attribute, -score.exact_words))
        elif rule == "sort":
            key.extend(sort_value(entry, field, ascending) for field, ascending in sort_criteria)
        else:
            field, direction = rule.rsplit(":", 1)
            key.append(sort_value(entry, field, direction == "asc"))
    key.append(entry.order)
    return tuple(key)
