"""Meilisearch's filter grammar, parsed the way milli's filter-parser (nom) does.

``or = and ("OR" and)*``, ``and = not ("AND" not)*``, ``not = "NOT" not | primary``,
where a primary is a parenthesised expression or one condition: ``=``, ``!=``,
``>``, ``>=``, ``<``, ``<=``, ``a TO b``, ``IN [..]``, ``NOT IN``, ``EXISTS``,
``NOT EXISTS``, ``IS [NOT] NULL``, ``IS [NOT] EMPTY`` (and ``CONTAINS`` / ``STARTS
WITH``, parsed only to be refused). Alternatives are tried in milli's order so
the same input gets the same error message. Keywords are upper case only, so
``and`` is a plain word.
"""

from __future__ import annotations

from .errors import not_emulated
from .filter_syntax import And, Condition, Contains, In, Lexer, Mismatch, Not, Or, Span, escape_debug

OPERATIONS = (
    "`=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`, "
    "`IS NULL`, `IS NOT NULL`, `IS EMPTY`, `IS NOT EMPTY`, `CONTAINS`, `NOT CONTAINS`, "
    "`STARTS WITH`, `NOT STARTS WITH`, `_geoRadius`, or `_geoBoundingBox`"
)
COMPARATORS = ("<=", ">=", "!=", "<", ">", "=")
MAX_DEPTH = 200


def parse_expression(source: str):
    """The tree of one filter string, or None for a blank one."""
    if not source.strip():
        return None
    parser = _Parser(source)
    try:
        node, position = parser.parse_or(0, 0)
    except Mismatch as mismatch:
        raise parser.harden(mismatch) from None
    if position != len(source):
        raise parser.fail(
            "Found unexpected characters at the end of the filter: "
            f"`{parser.quote(position)}`. You probably forgot an `OR` or an `AND` "
            "rule.",
            position,
        )
    return node


def _not_here(position: int) -> Mismatch:
    """This alternative does not apply; ``parse_primary`` words the error if none does."""
    return Mismatch("", position, position)


class _Parser(Lexer):
    def check_depth(self, depth: int, position: int) -> None:
        if depth > MAX_DEPTH:
            raise self.fail(
                "The filter exceeded the maximum depth limit. Try rewriting the "
                "filter so that it contains fewer nested conditions.",
                position,
            )

    def parse_or(self, position: int, depth: int):
        return self._chain(position, depth, "OR", Or, self.parse_and)

    def parse_and(self, position: int, depth: int):
        return self._chain(position, depth, "AND", And, self.parse_not)

    def _chain(self, position, depth, keyword, node_type, parse_operand):
        self.check_depth(depth, position)
        first, position = parse_operand(position, depth + 1)
        children = [first]
        while (after := self.spaced_keyword(position, keyword)) is not None:
            child, position = self.cut(parse_operand, after, depth + 1)
            children.append(child)
        return (node_type(tuple(children)) if len(children) > 1 else first), position

    def parse_not(self, position: int, depth: int):
        self.check_depth(depth, position)
        after = self.spaced_keyword(position, "NOT")
        if after is None:
            return self.parse_primary(position, depth + 1)
        child, position = self.cut(self.parse_not, after, depth + 1)
        return (child.child if isinstance(child, Not) else Not(child)), position

    def parse_primary(self, position: int, depth: int):
        self.check_depth(depth, position)
        start = self.skip_ws(position)
        if self.literal(start, "("):
            node, end = self.cut(self.parse_or, start + 1, depth + 1)
            end = self.skip_ws(end)
            if not self.literal(end, ")"):
                raise self.fail(
                    f"Expression `{self.quote(position)}` is missing the following closing delimiter: `)`.", position
                )
            return node, self.skip_ws(end + 1)
        if self.s[start : self.word_end(start)] in ("_geoRadius", "_geoBoundingBox"):
            raise not_emulated("geo filters (`_geoRadius`, `_geoBoundingBox`)")
        for alternative in (
            self.parse_in,
            self.parse_not_in,
            self.parse_comparison,
            self.parse_is,
            self.parse_exists,
            self.parse_to,
            self.parse_contains,
        ):
            try:
                return alternative(position)
            except Mismatch:
                continue
        try:
            self.parse_comparison(position)
        except Mismatch as mismatch:
            if mismatch.reserved:
                raise self.harden(mismatch) from None
        rest = self.s[position:]
        where = "but instead got nothing." if not rest.strip() else f"at `{escape_debug(rest)}`."
        raise Mismatch(f"Was expecting an operation {OPERATIONS} {where}", position, self.n)

    def parse_in(self, position: int):
        field, after = self.parse_value(position)
        body = self.spaced_keyword(after, "IN")
        if body is None:
            raise _not_here(position)
        values, end = self.in_body(body)
        return In(field, values), end

    def parse_not_in(self, position: int):
        field, after = self.parse_value(position)
        not_end = self.keyword(after, "NOT")
        body = None if not_end is None else self.spaced_keyword(not_end, "IN")
        if body is None:
            raise _not_here(position)
        values, end = self.in_body(body)
        return Not(In(field, values)), end

    def in_body(self, position: int):
        if not self.literal(position, "["):
            raise self.fail("Expected `[` after `IN` keyword.", position)
        values, after = self.value_list(position + 1)
        closing = self.skip_ws(after)
        if self.literal(closing, "]"):
            return tuple(values), self.skip_ws(closing + 1)
        if after >= self.n:
            raise self.fail("Expected matching `]` after the list of field names given to `IN[`", after)
        found = self.quote(after)
        try:
            self.parse_value(after)
            keyword_note = ""
        except Mismatch as mismatch:
            keyword_note = (
                (f", which is a keyword. To use `{found}` as a field name or a value, surround it by quotes")
                if mismatch.reserved
                else ""
            )
        raise self.fail(
            f"Expected only comma-separated field names inside `IN[..]` but instead found `{found}`{keyword_note}.",
            after,
        )

    def value_list(self, position: int):
        try:
            first, position = self.parse_value(position)
        except Mismatch:
            return [], position
        values = [first]
        while self.literal(self.skip_ws(position), ","):
            try:
                value, after = self.parse_value(self.skip_ws(position) + 1)
            except Mismatch:
                break
            values.append(value)
            position = after
        trailing = self.skip_ws(position)
        if self.literal(trailing, ","):
            position = self.skip_ws(trailing + 1)
        return values, position

    def parse_comparison(self, position: int):
        field, after = self.parse_value(position)
        operator = next((op for op in COMPARATORS if self.s.startswith(op, after)), None)
        if operator is None:
            raise _not_here(position)
        value, end = self.cut(self.parse_value, after + len(operator))
        return Condition(field, operator, (value,)), end

    def parse_is(self, position: int):
        field, after = self.parse_value(position)
        for words, operator, negated in (
            (("IS", "NULL"), "IS NULL", False),
            (("IS", "NOT", "NULL"), "IS NULL", True),
            (("IS", "EMPTY"), "IS EMPTY", False),
            (("IS", "NOT", "EMPTY"), "IS EMPTY", True),
        ):
            end = self.words(after, *words)
            if end is not None:
                condition = Condition(field, operator)
                return (Not(condition) if negated else condition), end
        raise _not_here(position)

    def parse_exists(self, position: int):
        field, after = self.parse_value(position)
        if (end := self.words(after, "EXISTS")) is not None:
            return Condition(field, "EXISTS"), end
        if (end := self.words(after, "NOT", "EXISTS")) is not None:
            return Not(Condition(field, "EXISTS")), end
        raise _not_here(position)

    def parse_to(self, position: int):
        field, after = self.parse_value(position)
        low, after = self.parse_value(after)
        start_high = self.gap(self.literal(after, "TO"))
        if start_high is None:
            raise _not_here(position)
        high, end = self.cut(self.parse_value, start_high)
        return Condition(field, "TO", (low, high)), end

    def parse_contains(self, position: int):
        field, after = self.parse_value(position)
        negated = self.words(after, "NOT")
        keyword_start = self.gap(negated) if negated is not None else after
        for keyword in ("CONTAINS", "STARTS WITH"):
            if self.literal(keyword_start, keyword):
                keyword_end = keyword_start + len(keyword)
                _, end = self.cut(self.parse_value, keyword_end)
                node = Contains(field, Span(self.s, keyword_start, keyword_end))
                return (Not(node) if negated is not None else node), end
        raise _not_here(position)
