"""Make's mapping language (IML) inside ``{{ … }}``: parsing and the part the emulator
evaluates. What Make accepts is described in docs/make-modules.md ("Mapping
language"), from Make's own guidance (integromat/make-skills, iml-functions.md) and real
exports.

Syntax understood:

* references ``N.path``: ``N`` is a module id (or `` `N` `` for the whole bundle); the path
  has keys (``.name``, ``.`any key```), 1-based array indexes (``[1]``) and ``[]`` for every
  item of an array. A dot followed by digits (``1.media.1.url``) is parsed as a key named
  "1", as Make reads it, and never indexes an array (``iml_lint`` reports it);
* quoted literals ``"text"``, numbers, keywords and variables (``now``, ``newline``…);
* function calls with ``;``-separated arguments; binary operators ``+ - * / % = != < > <= >=
  & |`` (only ``+``, ``=`` and ``!=`` are evaluated).

:func:`render` evaluates (the functions are in ``iml_functions.py``); ``iml_lint.lint`` lists
what Make would refuse or what evidence never shows (a dot-indexed array, an unquoted word used
as a string, an unknown function) and the references an expression makes. Anything the emulator
cannot evaluate raises :class:`IMLError`: it refuses rather than guesses.
"""

from __future__ import annotations

import functools
import math
import random
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from .iml_functions import EMULATED, KEYWORDS, IMLError, to_text

__all__ = ["IMLError", "Ref", "render", "render_deep", "split", "to_text"]

_PATH_PART = r"\.(?:`[^`]*`|[A-Za-z_$][\w$]*|\d+)|\[\d*\]"
_TOKEN = re.compile(
    rf"""
    (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<ref>`\d+`(?:{_PATH_PART})*|\d+(?:\.(?:`[^`]*`|[A-Za-z_$][\w$]*)|\[\d*\])(?:{_PATH_PART})*)
  | (?P<number>\d+(?:\.\d+)?)(?![\w`])
  | (?P<word>[A-Za-z_$][\w$]*)
  | (?P<op>!=|<=|>=|[-+*/%=<>&|])
""",
    re.VERBOSE,
)
_PATH_ITEM = re.compile(r"\.`([^`]*)`|\.(\d+)|\.([A-Za-z_$][\w$]*)|\[(\d*)\]")


@dataclass(frozen=True)
class Ref:
    """One reference: the module id and its path, each step ``(kind, value)`` with kind
    ``key``, ``dotindex`` (a key made of digits), ``index`` (1-based) or ``all``."""

    module_id: int
    path: tuple


def render(template, bundles: dict, now: datetime | None = None):
    """Evaluate every ``{{…}}`` of ``template`` against module outputs ``bundles``.

    A template that is exactly one expression keeps the value's type (Make maps a number to a
    number); mixed text and expressions give text. Non-strings are returned unchanged.
    """
    if not isinstance(template, str):
        return template
    moment = now or datetime.now(timezone.utc)
    parts = split(template)
    values = [_evaluate(part, bundles, moment) if isinstance(part, tuple) else part for part in parts]
    if len(values) == 1 and isinstance(parts[0], tuple):
        return values[0]
    return "".join(to_text(value) for value in values)


def render_deep(value, bundles: dict, now: datetime | None = None):
    """``render`` applied to every string inside nested dicts and lists."""
    if isinstance(value, dict):
        return {key: render_deep(item, bundles, now) for key, item in value.items()}
    if isinstance(value, list):
        return [render_deep(item, bundles, now) for item in value]
    return render(value, bundles, now)


@functools.lru_cache(maxsize=4096)
def split(template: str) -> tuple:
    """Text pieces (str) and parsed expressions (tuples), in order."""
    parts, position = [], 0
    while (start := template.find("{{", position)) >= 0:
        if start > position:
            parts.append(template[position:start])
        end = _closing_braces(template, start + 2)
        parts.append(_Parser(template[start + 2 : end]).parse())
        position = end + 2
    if position < len(template) or not parts:
        parts.append(template[position:])
    return tuple(parts)


def _closing_braces(text: str, position: int) -> int:
    """Index of the ``}}`` closing the expression that starts at ``position``; quotes and
    parentheses are skipped, so ``{{formatDate(now; "X")}}}`` closes at the right place."""
    for index in _top_level(text, position):
        if text.startswith("}}", index):
            return index
    raise IMLError(f"unterminated {{{{ in {text!r}")


def _top_level(text: str, start: int = 0):
    """The indexes of the characters outside quotes and parentheses, from ``start`` on."""
    depth, index = 0, start
    while index < len(text):
        char = text[index]
        if char == '"':
            index = _end_of_string(text, index)
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif depth == 0:
            yield index
        index += 1


def _end_of_string(text: str, start: int) -> int:
    index = start + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == '"':
            return index
        index += 1
    raise IMLError(f"unterminated string in {text!r}")


class _Parser:
    """Recursive descent over one expression, producing nested tuples."""

    def __init__(self, text: str):
        self.text, self.position = text, 0

    def parse(self) -> tuple:
        node = self._binary()
        self._skip_spaces()
        if self.position != len(self.text):
            raise IMLError(f"unexpected {self.text[self.position :]!r} in {self.text!r}")
        return node

    def _skip_spaces(self):
        while self.position < len(self.text) and self.text[self.position].isspace():
            self.position += 1

    def _binary(self) -> tuple:
        node = self._primary()
        while True:
            self._skip_spaces()
            match = _TOKEN.match(self.text, self.position)
            if not match or not match["op"]:
                return node
            self.position = match.end()
            node = ("op", match["op"], node, self._primary())

    def _primary(self) -> tuple:
        self._skip_spaces()
        if self.text.startswith("(", self.position):
            return _Parser(self._balanced()).parse()
        match = _TOKEN.match(self.text, self.position)
        if not match or match["op"]:
            raise IMLError(f"cannot parse {self.text[self.position :]!r} in {self.text!r}")
        self.position = match.end()
        if match["string"]:
            return ("literal", re.sub(r"\\(.)", r"\1", match["string"][1:-1]))
        if match["ref"]:
            return _ref(match["ref"])
        if match["number"]:
            text = match["number"]
            return ("literal", float(text) if "." in text else int(text))
        word = match["word"]
        self._skip_spaces()
        if self.text.startswith("(", self.position):
            inside = self._balanced()
            arguments = () if not inside.strip() else tuple(_argument(piece) for piece in _split_arguments(inside))
            return ("call", word, arguments)
        return ("word", word)

    def _balanced(self) -> str:
        """Consume ``( … )`` starting at the current position and return what is inside."""
        opening, depth, index = self.position, 0, self.position
        while index < len(self.text):
            char = self.text[index]
            if char == '"':
                index = _end_of_string(self.text, index)
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth == 0:
                    self.position = index + 1
                    return self.text[opening + 1 : index]
            index += 1
        raise IMLError(f"unbalanced parentheses in {self.text!r}")


def _ref(text: str) -> tuple:
    head = re.match(r"`?(\d+)`?", text)
    path = []
    for quoted, digits, name, index in _PATH_ITEM.findall(text[head.end() :]):
        if digits:
            path.append(("dotindex", digits))
        elif quoted or name:
            path.append(("key", quoted or name))
        else:
            path.append(("index", int(index)) if index else ("all", None))
    return ("ref", int(head[1]), tuple(path))


def _argument(piece: str) -> tuple:
    """A function argument; one that is not an expression (``formatDate(now; YYYY-MM-DD)``)
    is kept as its raw text, which the emulator evaluates as text and ``lint`` refuses."""
    try:
        return _Parser(piece).parse()
    except IMLError:
        return ("raw", piece.strip())


def _split_arguments(text: str) -> list[str]:
    """Split a call's inside at the ``;`` that are outside quotes and nested calls."""
    cuts = [index for index in _top_level(text) if text[index] == ";"]
    return [text[start + 1 : end] for start, end in zip([-1, *cuts], [*cuts, len(text)])]


def _evaluate(node: tuple, bundles: dict, now: datetime):
    kind = node[0]
    if kind in ("literal", "raw"):
        return node[1]
    if kind == "word":
        return _word(node[1], now)
    if kind == "ref":
        return _lookup(bundles, node[1], node[2])
    if kind == "op":
        return _operate(node[1], _evaluate(node[2], bundles, now), _evaluate(node[3], bundles, now))
    name, arguments = node[1], [_evaluate(arg, bundles, now) for arg in node[2]]
    function = EMULATED.get(name)
    if function is None:
        raise IMLError(f"function {name}() is not emulated")
    return function(*arguments)


def _word(name: str, now: datetime):
    if name in KEYWORDS:
        return KEYWORDS[name]
    variables = {
        "now": lambda: now,
        "timestamp": lambda: int(now.timestamp()),
        "pi": lambda: math.pi,
        "random": random.random,
        "uuid": lambda: str(uuid.uuid4()),
        "emptyarray": list,
    }
    if name in variables:
        return variables[name]()
    # Any other bare word is evaluated as its text; the validator refuses it before a run
    # (``lint``), since Make's examples always quote text.
    return name


def _operate(operator: str, left, right):
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
    if operator == "+":
        return left + right if numbers else to_text(left) + to_text(right)
    if operator in ("=", "!="):
        same = left == right if numbers else to_text(left) == to_text(right)
        return same if operator == "=" else not same
    raise IMLError(f"the operator {operator} is not emulated")


def _lookup(bundles: dict, module_id: int, path: tuple):
    if module_id not in bundles:
        raise IMLError(f"module {module_id} has no output at this point of the run")
    value, mapped = bundles[module_id], False
    for kind, key in path:
        if kind == "all":
            value, mapped = (value if isinstance(value, list) else []), True
        elif mapped:
            value = [_step(item, kind, key) for item in value]
        else:
            value = _step(value, kind, key)
    return value


def _step(value, kind: str, key):
    if kind == "index":  # IML arrays are 1-based
        return value[key - 1] if isinstance(value, list) and 1 <= key <= len(value) else None
    # A key (a dot-index too): only collections have keys, an array does not.
    return value.get(str(key)) if isinstance(value, dict) else None
