"""The pieces of Meilisearch's filter language below the grammar.

Tree nodes, source spans (for the ``column:column filter`` line Meilisearch
appends to every filter error), the two kinds of parse errors, and
:class:`Lexer`: words, keywords and values, quoted or not, with the escapes Rust's
``unescaper`` crate resolves. A failed alternative raises :class:`Mismatch` (nom's
``Error``, the next alternative may still match); :class:`FilterSyntaxError` stops
the parse (nom's ``Failure``).
"""

from __future__ import annotations

from dataclasses import dataclass

KEYWORDS = {
    "AND",
    "OR",
    "IN",
    "NOT",
    "TO",
    "EXISTS",
    "IS",
    "NULL",
    "EMPTY",
    "CONTAINS",
    "STARTS",
    "WITH",
    "_geoRadius",
    "_geoBoundingBox",
}
SIMPLE_ESCAPES = {
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "'": "'",
    '"': '"',
    "\\": "\\",
    "/": "/",
    "0": "\0",
}


@dataclass(frozen=True)
class Span:
    source: str
    start: int
    end: int

    def locate(self) -> str:
        """``column:column filter``, the line Meilisearch appends to filter errors."""
        column = self.start - (self.source.rfind("\n", 0, self.start) + 1) + 1
        return f"{column}:{column + self.end - self.start} {self.source}"


@dataclass(frozen=True)
class Value:
    text: str
    span: Span


@dataclass(frozen=True)
class Or:
    children: tuple


@dataclass(frozen=True)
class And:
    children: tuple


@dataclass(frozen=True)
class Not:
    child: object


@dataclass(frozen=True)
class Condition:
    field: Value
    operator: str  # = != > >= < <= TO EXISTS "IS NULL" "IS EMPTY"
    operands: tuple = ()


@dataclass(frozen=True)
class In:
    field: Value
    values: tuple


@dataclass(frozen=True)
class Contains:
    """``CONTAINS`` / ``STARTS WITH``: parsed only to be refused (experimental feature)."""

    field: Value
    keyword: Span


class FilterSyntaxError(Exception):
    """A filter Meilisearch refuses; ``message`` ends with the location line."""

    def __init__(self, head: str, span: Span) -> None:
        super().__init__(f"{head}\n{span.locate()}")
        self.message = str(self)


class Mismatch(Exception):
    """This alternative does not apply; the caller may try another or make it final."""

    def __init__(self, head: str, start: int, end: int, reserved: bool = False) -> None:
        super().__init__(head)
        self.head, self.start, self.end, self.reserved = head, start, end, reserved


def escape_debug(text: str) -> str:
    """Rust's ``str::escape_debug``, used for the quoted input in messages."""
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", '"': '\\"', "'": "\\'"}
    return "".join(named.get(char) or (char if char.isprintable() else f"\\u{{{ord(char):x}}}") for char in text)


def is_word_char(char: str) -> bool:
    return char.isalnum() or char in "_-."


class Lexer:
    """Lexical layer shared by the grammar: positions are indexes into ``self.s``."""

    def __init__(self, source: str) -> None:
        self.s = source
        self.n = len(source)

    # -- errors ---------------------------------------------------------------------------
    def quote(self, start: int, end: int | None = None) -> str:
        return escape_debug(self.s[start : self.n if end is None else end])

    def fail(self, head: str, start: int) -> FilterSyntaxError:
        """A final error whose context runs from ``start`` to the end of the filter."""
        return FilterSyntaxError(head, Span(self.s, start, self.n))

    def harden(self, mismatch: Mismatch) -> FilterSyntaxError:
        return FilterSyntaxError(mismatch.head, Span(self.s, mismatch.start, mismatch.end))

    def cut(self, parse, *args):
        """Parse where failing must stop everything (nom's ``cut``)."""
        try:
            return parse(*args)
        except Mismatch as mismatch:
            raise self.harden(mismatch) from None

    # -- lexical helpers --------------------------------------------------------------------
    def skip_ws(self, position: int) -> int:
        while position < self.n and self.s[position].isspace():
            position += 1
        return position

    def word_end(self, position: int) -> int:
        while position < self.n and is_word_char(self.s[position]):
            position += 1
        return position

    def keyword(self, position: int, keyword: str) -> int | None:
        end = self.word_end(position)
        return end if self.s[position:end] == keyword else None

    def spaced_keyword(self, position: int, keyword: str) -> int | None:
        end = self.keyword(self.skip_ws(position), keyword)
        return None if end is None else self.skip_ws(end)

    def literal(self, position: int | None, text: str) -> int | None:
        if position is not None and self.s.startswith(text, position):
            return position + len(text)
        return None

    def gap(self, position: int | None) -> int | None:
        """At least one whitespace (nom's ``multispace1``)."""
        if position is None or position >= self.n or not self.s[position].isspace():
            return None
        return self.skip_ws(position)

    def words(self, position: int, *parts: str) -> int | None:
        """Keywords separated by whitespace, e.g. ``IS NOT NULL``, with no trailing space."""
        for number, part in enumerate(parts):
            position = self.literal(position if number == 0 else self.gap(position), part)
        return position

    # -- values -----------------------------------------------------------------------------
    def parse_value(self, position: int):
        """A word or a quoted string, with the whitespace around it."""
        start = self.skip_ws(position)
        self.reject_geo_value(start)
        if start < self.n and self.s[start] in "'\"":
            return self.quoted(start)
        end = self.word_end(start)
        word = self.s[start:end]
        if not word or word in KEYWORDS:
            stop = start
            while stop < self.n and not (self.s[stop].isspace() or self.s[stop] in "()=<>!"):
                stop += 1
            found = self.quote(start, stop)
            if not self.s[start:stop].strip():
                head = "Was expecting a value but instead got nothing."
            elif word in KEYWORDS:
                head = (
                    f"Was expecting a value but instead got `{found}`, which is a reserved "
                    f"keyword. To use `{found}` as a field name or a value, surround it by "
                    "quotes."
                )
            else:
                head = f"Was expecting a value but instead got `{found}`."
            raise Mismatch(head, start, stop, reserved=bool(word) and word in KEYWORDS)
        return self.finish_value(word, start, end, end)

    def quoted(self, start: int):
        """A '...' or "..." value: a backslash escapes the next character, quote included."""
        quote = self.s[start]
        position, escaped = start + 1, False
        while position < self.n and self.s[position] != quote:
            if self.s[position] == "\\":
                if position + 1 >= self.n:
                    raise self.fail(f"Malformed value: `{self.quote(start + 1)}`.", start + 1)
                escaped = escaped or self.s[position + 1] == quote
                position += 2
            else:
                position += 1
        if position >= self.n:
            raise self.fail(
                f"Expression `{self.quote(start)}` is missing the following closing "
                f"delimiter: `{escape_debug(quote)}`.",
                start,
            )
        raw = self.s[start + 1 : position]
        text = raw.replace("\\" + quote, quote) if escaped else raw
        return self.finish_value(text, start + 1, position, position + 1)

    def finish_value(self, text: str, start: int, end: int, after: int):
        return Value(self.unescape(text, start, end), Span(self.s, start, end)), self.skip_ws(after)

    def unescape(self, text: str, start: int, end: int) -> str:
        """The escapes Rust's ``unescaper`` crate resolves (``\\n``, ``\\x20``, ``\\u{e9}``...)."""
        out, i = [], 0
        while i < len(text):
            if text[i] != "\\":
                out.append(text[i])
                i += 1
                continue
            code = text[i + 1] if i + 1 < len(text) else ""
            if code in SIMPLE_ESCAPES:
                out.append(SIMPLE_ESCAPES[code])
                i += 2
                continue
            if code in ("x", "u"):
                braced = code == "u" and text[i + 2 : i + 3] == "{"
                if braced:
                    digits_end = text.find("}", i + 3)
                    digits, after = text[i + 3 : max(digits_end, i + 3)], digits_end + 1
                else:
                    width = 2 if code == "x" else 4
                    digits, after = text[i + 2 : i + 2 + width], i + 2 + width
                    digits = digits if len(digits) == width else ""
                try:
                    out.append(chr(int(digits, 16)))
                except (ValueError, OverflowError):
                    raise Mismatch(
                        f"Found an invalid escaped sequence number: `{self.quote(start, end)}`.", start, end
                    ) from None
                i = after
                continue
            raise Mismatch(f"Malformed value: `{self.quote(start, end)}`.", start, end)
        return "".join(out)

    def reject_geo_value(self, start: int) -> None:
        """``_geo...`` words are reserved everywhere a value may appear."""
        word = self.s[start : self.word_end(start)]
        rest = self.s[start:]
        reserved = next(
            (name for name in ("_geoPoint", "_geoDistance") if rest.startswith(name)),
            "_geo" if word == "_geo" else None,
        )
        if reserved:
            raise self.fail(
                f"`{reserved}` is a reserved keyword and thus can't be used as a "
                "filter expression. Use the `_geoRadius(latitude, longitude, "
                "distance)` or `_geoBoundingBox([latitude, longitude], [latitude, "
                "longitude])` built-in rules to filter on `_geo` coordinates.",
                start,
            )
        if word in ("_geoRadius", "_geoBoundingBox"):
            raise self.fail(f"The `{word}` filter is an operation and can't be used as a value.", start)
