"""Filters as the API receives them: JSON forms, checks against settings, evaluation.

Evaluation follows milli: ``=`` compares string values case-insensitively (accents
kept) and numbers numerically; a document's array matches if any element does;
``!=`` and ``NOT`` select every other document, including those without the
attribute; ``>``/``<``/``TO`` select numbers in a numeric range and strings in a
lexicographic one; an attribute no document ever had matches nothing (even with
``!=``, while ``NOT`` of it matches everything: milli's quirk, kept).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .errors import MeiliError, compact_json
from .filter_syntax import And, Condition, Contains, FilterSyntaxError, In, Not, Or, Span
from .filters import parse_expression
from .settings import matches_attribute
from .state import DocumentEntry, Index
from .text import normalize_facet

RUST_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_filter(expression, code: str):
    """The tree of a filter given as a string or as the array form (outer AND, inner OR)."""
    if expression is None:
        return None
    if isinstance(expression, str):
        return _parse(expression, code)
    if not isinstance(expression, list):
        raise _invalid_expression(code, "String, Array", expression)
    conjunction = []
    for item in expression:
        if isinstance(item, list):
            alternatives = []
            for alternative in item:
                if not isinstance(alternative, str):
                    raise _invalid_expression(code, "String", alternative)
                alternatives.append(_parse(alternative, code))
            alternatives = [node for node in alternatives if node is not None]
            if alternatives:
                conjunction.append(alternatives[0] if len(alternatives) == 1 else Or(tuple(alternatives)))
        elif isinstance(item, str):
            if (node := _parse(item, code)) is not None:
                conjunction.append(node)
        else:
            raise _invalid_expression(code, "String, [String]", item)
    if not conjunction:
        return None
    return conjunction[0] if len(conjunction) == 1 else And(tuple(conjunction))


def _parse(source: str, code: str):
    try:
        return parse_expression(source)
    except FilterSyntaxError as error:
        raise MeiliError(400, code, error.message) from None


def _invalid_expression(code: str, expected: str, value) -> MeiliError:
    return MeiliError(
        400, code, f"Invalid syntax for the filter parameter: `expected {expected}, found: {compact_json(value)}`."
    )


def check_filter(node, index: Index, code: str) -> None:
    """Refuse what Meilisearch refuses before evaluating: CONTAINS, unfilterable attributes."""
    keyword = _first_contains(node)
    if keyword is not None:
        raise MeiliError(
            400,
            "feature_not_enabled",
            "Using `CONTAINS` or `STARTS WITH` in a filter requires enabling the "
            "`contains filter` experimental feature. See https://github.com/orgs/"
            f"meilisearch/discussions/763\n{keyword.locate()}",
        )
    filterable = index.settings["filterableAttributes"]
    for field in _fields(node):
        if not matches_attribute(field.text, filterable):
            if filterable:
                listed = ", ".join(f"`{name}`" for name in sorted(set(filterable)))
                hint = f"Available filterable attribute patterns are: {listed}."
            else:
                hint = "This index does not have configured filterable attributes."
            raise MeiliError(
                400,
                code,
                f"Index `{index.uid}`: Attribute `{field.text}` is not filterable. {hint}\n{field.span.locate()}",
            )


def _children(node):
    if isinstance(node, (Or, And)):
        return node.children
    return (node.child,) if isinstance(node, Not) else ()


def _first_contains(node) -> Span | None:
    if isinstance(node, Contains):
        return node.keyword
    return next((span for child in _children(node) if (span := _first_contains(child)) is not None), None)


def _fields(node):
    if isinstance(node, (Condition, In, Contains)):
        yield node.field
    for child in _children(node):
        yield from _fields(child)


def matching_ids(node, index: Index) -> set[str]:
    """Ids of the documents the (checked) filter selects."""
    return _evaluate(node, index.documents, set(index.field_order))


def _evaluate(node, documents: dict[str, DocumentEntry], known_fields: set[str]) -> set[str]:
    if isinstance(node, Or):
        return set().union(*(_evaluate(child, documents, known_fields) for child in node.children))
    if isinstance(node, And):
        selected = _evaluate(node.children[0], documents, known_fields)
        for child in node.children[1:]:
            if not selected:
                break
            selected &= _evaluate(child, documents, known_fields)
        return selected
    if isinstance(node, Not):
        return set(documents) - _evaluate(node.child, documents, known_fields)
    field = node.field.text
    if field not in known_fields:
        return set()
    if isinstance(node, In):
        return {
            key for key, entry in documents.items() if any(_equals(entry, field, value.text) for value in node.values)
        }
    if node.operator == "!=":
        return {key for key, entry in documents.items() if not _equals(entry, field, node.operands[0].text)}
    test = _predicate(node)
    return {key for key, entry in documents.items() if test(entry)}


def _predicate(condition: Condition):
    field, operator = condition.field.text, condition.operator
    if operator == "=":
        return lambda entry: _equals(entry, field, condition.operands[0].text)
    if operator == "EXISTS":
        return lambda entry: field in entry.paths
    if operator == "IS NULL":
        return lambda entry: any(value is None for value in entry.paths.get(field, ()))
    if operator == "IS EMPTY":
        return lambda entry: any(value in ("", [], {}) for value in entry.paths.get(field, ()))
    texts = [operand.text for operand in condition.operands]
    numbers = [finite_number(text) for text in texts]
    number_range = _Range.of(operator, numbers) if None not in numbers else None
    string_range = _Range.of(operator, texts)
    return lambda entry: _in_range(entry, field, number_range, string_range)


def finite_number(text: str) -> float | None:
    """The number a filter value denotes, parsed like Rust's ``f64``; None if not finite."""
    if not RUST_FLOAT.match(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def _facet_string(value) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    return normalize_facet(value) if isinstance(value, str) else None


def _equals(entry: DocumentEntry, field: str, text: str) -> bool:
    target, number = normalize_facet(text), finite_number(text)
    for value in entry.leaves(field):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if number is not None and value == number:
                return True
        elif _facet_string(value) == target:
            return True
    return False


@dataclass(frozen=True)
class _Range:
    low: tuple | None  # (bound, inclusive)
    high: tuple | None

    @classmethod
    def of(cls, operator: str, bounds: list) -> "_Range":
        return {
            ">": lambda: cls((bounds[0], False), None),
            ">=": lambda: cls((bounds[0], True), None),
            "<": lambda: cls(None, (bounds[0], False)),
            "<=": lambda: cls(None, (bounds[0], True)),
            "TO": lambda: cls((bounds[0], True), (bounds[1], True)),
        }[operator]()

    def contains(self, value) -> bool:
        if self.low and (value < self.low[0] or (value == self.low[0] and not self.low[1])):
            return False
        return not (self.high and (value > self.high[0] or (value == self.high[0] and not self.high[1])))


def _in_range(entry: DocumentEntry, field: str, numbers: _Range | None, strings: _Range) -> bool:
    for value in entry.leaves(field):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if numbers is not None and numbers.contains(value):
                return True
        elif (text := _facet_string(value)) is not None and strings.contains(text):
            return True
    return False
