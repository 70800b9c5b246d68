"""What a hit shows: retrieved attributes, ``_formatted`` highlights, and facet counts.

``_formatted`` follows Meilisearch: every formatted attribute appears there, numbers
become strings (so they can carry tags), and only the matched part of a word is
wrapped: a prefix match highlights the typed prefix, a typo match the whole word.
"""

from __future__ import annotations

import json

from .ranking import TermMatcher
from .settings import matches_attribute
from .state import DocumentEntry
from .text import normalize_facet, tokenize


def select(document: dict, patterns: list[str]) -> dict:
    """The parts of ``document`` named by ``patterns`` (``*``, ``a``, ``a.b``)."""
    selected = {}
    for key, value in document.items():
        if any(pattern in ("*", key) for pattern in patterns):
            selected[key] = value
            continue
        nested = [p[len(key) + 1 :] for p in patterns if p.startswith(key + ".")]
        if nested and isinstance(value, dict):
            selected[key] = select(value, nested)
        elif nested and isinstance(value, list):
            selected[key] = [select(item, nested) for item in value if isinstance(item, dict)]
    return selected


class Highlighter:
    def __init__(
        self, matcher: TermMatcher, patterns: list[str], pre_tag: str, post_tag: str, no_typo_attributes: list[str]
    ) -> None:
        self.matcher = matcher
        self.patterns = patterns
        self.pre_tag, self.post_tag = pre_tag, post_tag
        self.no_typo_attributes = no_typo_attributes

    def format(self, document: dict) -> dict:
        return {key: self._value(value, key) for key, value in document.items()}

    def _value(self, value, path: str):
        if isinstance(value, dict):
            return {key: self._value(item, f"{path}.{key}") for key, item in value.items()}
        if isinstance(value, list):
            return [self._value(item, path) for item in value]
        if isinstance(value, bool) or value is None:
            return value
        text = value if isinstance(value, str) else json.dumps(value)
        if not matches_attribute(path, self.patterns):
            return text
        return self._highlight(text, not matches_attribute(path, self.no_typo_attributes))

    def _highlight(self, text: str, typos_allowed: bool) -> str:
        pieces, copied = [], 0
        for token in tokenize(text):
            found = self.matcher.best(token.text, typos_allowed)
            if found:
                end = token.original_end(found.length)
                pieces += [text[copied : token.start], self.pre_tag, text[token.start : end], self.post_tag]
                copied = end
        pieces.append(text[copied:])
        return "".join(pieces)


def _number_text(number: float) -> str:
    """A number facet value as Meilisearch prints it (``3``, ``2.5``)."""
    if float(number).is_integer() and abs(number) < 2**63:
        return str(int(number))
    return repr(float(number))


def facet_counts(entries: list[DocumentEntry], facets: list[str], faceting: dict):
    """``facetDistribution`` and ``facetStats`` over every matching document."""
    distribution, stats = {}, {}
    orders = faceting["sortFacetValuesBy"]
    for facet in facets:
        numbers: dict[float, int] = {}
        strings: dict[str, list] = {}  # normalized -> [shown value, count]
        for entry in entries:
            seen_numbers, seen_strings = set(), {}
            for value in entry.leaves(facet):
                if isinstance(value, bool):
                    seen_strings.setdefault("true" if value else "false", "true" if value else "false")
                elif isinstance(value, (int, float)):
                    seen_numbers.add(float(value))
                elif isinstance(value, str):
                    seen_strings.setdefault(normalize_facet(value), value)
            for number in seen_numbers:
                numbers[number] = numbers.get(number, 0) + 1
            for normalized, shown in seen_strings.items():
                strings.setdefault(normalized, [shown, 0])[1] += 1
        values = [(_number_text(n), count) for n, count in sorted(numbers.items())]
        values += [(shown, count) for _, (shown, count) in sorted(strings.items())]
        if orders.get(facet, orders["*"]) == "count":
            values.sort(key=lambda item: -item[1])  # stable: alphabetical among equals
        distribution[facet] = dict(values[: faceting["maxValuesPerFacet"]])
        if numbers:
            stats[facet] = {"min": min(numbers), "max": max(numbers)}
    return distribution, stats
