"""Make's mapping language (IML) inside ``{{ … }}``: parsing, linting and the part the
emulator evaluates. What Make accepts is described in docs/make-modules.md ("Mapping
language"), from Make's own guidance (integromat/make-skills, iml-functions.md) and real
exports.

Syntax understood:

* references ``N.path``: ``N`` is a module id (or `` `N` `` for the whole bundle); the path
  has keys (``.name``, ``.`any key```), 1-based array indexes (``[1]``) and ``[]`` for every
  item of an array. A dot followed by digits (``1.media.1.url``) is parsed as a key named
  "1", as Make reads it, and never indexes an array: :func:`lint` reports it;
* quoted literals ``"text"``, numbers, keywords and variables (``now``, ``newline``…);
* function calls with ``;``-separated arguments; binary operators ``+ - * / % = != < > <= >=
  & |`` (only ``+``, ``=`` and ``!=`` are evaluated).

:func:`lint` lists what Make would refuse or what evidence never shows (a dot-indexed array,
an unquoted word used as a string, an unknown function) and the references an expression
makes; :func:`render` evaluates. Anything the emulator cannot evaluate raises
:class:`IMLError`: it refuses rather than guesses.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import math
import random
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone


class IMLError(ValueError):
    """An expression that does not parse, or that the emulator cannot evaluate."""


# Keywords and variables of IML (make-skills iml-functions.md, "Variables and keywords").
KEYWORDS = {"null": None, "true": True, "false": False, "emptystring": "", "space": " ",
            "tab": "\t", "newline": "\n", "nbsp": "\xa0", "carriagereturn": "\r"}
VARIABLES = ("now", "timestamp", "pi", "random", "uuid", "executionId", "emptyarray", "ignore",
             "erase")
# Every built-in function the same page lists; anything else fails a run with "Unknown function".
FUNCTIONS = frozenset("""
if ifempty switch get pick omit equal
length lower upper capitalize startcase trim replace substring split indexOf contains toString
stripHTML escapeHTML encodeURL decodeURL ascii base64 toBinary md5 sha1 sha256 sha512
replaceEmojiCharacters formatDate parseDate addDays addHours addMinutes addSeconds addMonths
addYears setDate setDay setMonth setYear setHour setMinute setSecond round ceil floor trunc abs
min max sum average median parseNumber formatNumber stdevS stdevP first last map join add remove
sort reverse shuffle merge slice flatten distinct deduplicate keys toArray toCollection
""".split())

_PATH_PART = r"\.(?:`[^`]*`|[A-Za-z_$][\w$]*|\d+)|\[\d*\]"
_TOKEN = re.compile(rf"""
    (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<ref>`\d+`(?:{_PATH_PART})*|\d+(?:\.(?:`[^`]*`|[A-Za-z_$][\w$]*)|\[\d*\])(?:{_PATH_PART})*)
  | (?P<number>\d+(?:\.\d+)?)(?![\w`])
  | (?P<word>[A-Za-z_$][\w$]*)
  | (?P<op>!=|<=|>=|[-+*/%=<>&|])
""", re.VERBOSE)
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
    parts = _split(template)
    values = [_evaluate(part, bundles, moment) if isinstance(part, tuple) else part
              for part in parts]
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


def to_text(value) -> str:
    """How Make prints a value inside text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace(
            "+00:00", "Z")
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return str(value)


def lint(template: str) -> tuple[list[Ref], list[tuple[str, str]]]:
    """The references of a template and its problems, each ``(problem, fix)``."""
    try:
        parts = _split(template)
    except IMLError as exc:
        return [], [(f"the expression does not parse: {exc}",
                     "balance the braces, parentheses and quotes")]
    refs, problems = [], []
    for part in parts:
        if isinstance(part, tuple):
            _lint_node(part, refs, problems)
    return refs, problems


def _lint_node(node: tuple, refs: list, problems: list) -> None:
    kind = node[0]
    if kind == "ref":
        refs.append(Ref(node[1], node[2]))
        if any(step[0] == "dotindex" for step in node[2]):
            fixed = _format_ref(node[1], node[2], fix=True)
            problems.append((f"{{{{{_format_ref(node[1], node[2])}}}}} indexes an array with a "
                             "dot; Make reads that as a key and maps nothing",
                             f"index arrays with brackets, 1-based: {{{{{fixed}}}}}"))
    elif kind == "raw" or (kind == "word" and node[1] not in KEYWORDS and node[1] not in VARIABLES):
        problems.append((f"the bare text {node[1]} is not a keyword, a variable or a reference",
                         f'quote text arguments: "{node[1]}"'))
    elif kind == "call":
        if node[1] not in FUNCTIONS:
            problems.append((f"{node[1]}() is not an IML function",
                             "use a function from Make's list (formatDate, sha256, replace, …)"))
        for argument in node[2]:
            _lint_node(argument, refs, problems)
    elif kind == "op":
        _lint_node(node[2], refs, problems)
        _lint_node(node[3], refs, problems)


def _format_ref(module_id: int, path: tuple, fix: bool = False) -> str:
    text = str(module_id)
    for kind, value in path:
        if kind == "index" or (fix and kind == "dotindex"):
            text += f"[{value}]"
        elif kind == "all":
            text += "[]"
        else:
            text += f".{value}" if re.fullmatch(r"[A-Za-z_$][\w$]*|\d+", str(value)) else f".`{value}`"
    return text


@functools.lru_cache(maxsize=4096)
def _split(template: str) -> tuple:
    """Text pieces (str) and parsed expressions (tuples), in order."""
    parts, position = [], 0
    while (start := template.find("{{", position)) >= 0:
        if start > position:
            parts.append(template[position:start])
        end = _closing_braces(template, start + 2)
        parts.append(_Parser(template[start + 2:end]).parse())
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
            raise IMLError(f"unexpected {self.text[self.position:]!r} in {self.text!r}")
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
            raise IMLError(f"cannot parse {self.text[self.position:]!r} in {self.text!r}")
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
            arguments = () if not inside.strip() else tuple(
                _argument(piece) for piece in _split_arguments(inside))
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
                    return self.text[opening + 1:index]
            index += 1
        raise IMLError(f"unbalanced parentheses in {self.text!r}")


def _ref(text: str) -> tuple:
    head = re.match(r"`?(\d+)`?", text)
    path = []
    for quoted, digits, name, index in _PATH_ITEM.findall(text[head.end():]):
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
    return [text[start + 1:end] for start, end in zip([-1, *cuts], [*cuts, len(text)])]


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
    function = _FUNCTIONS.get(name)
    if function is None:
        raise IMLError(f"function {name}() is not emulated")
    return function(*arguments)


def _word(name: str, now: datetime):
    if name in KEYWORDS:
        return KEYWORDS[name]
    variables = {"now": lambda: now, "timestamp": lambda: int(now.timestamp()),
                 "pi": lambda: math.pi, "random": random.random, "uuid": lambda: str(uuid.uuid4()),
                 "emptyarray": list}
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
    if kind == "index":   # IML arrays are 1-based
        return value[key - 1] if isinstance(value, list) and 1 <= key <= len(value) else None
    # A key (a dot-index too): only collections have keys, an array does not.
    return value.get(str(key)) if isinstance(value, dict) else None


def _format_date(date=None, format_=None, *_timezone):
    """``formatDate``; only the Unix forms ``X`` and ``x`` are emulated."""
    if isinstance(date, str):
        try:
            date = datetime.fromisoformat(date.replace("Z", "+00:00"))
        except ValueError as exc:
            raise IMLError(f"formatDate: {date!r} is not a date") from exc
    if not isinstance(date, datetime):
        raise IMLError(f"formatDate: {date!r} is not a date")
    if format_ == "X":
        return str(int(date.timestamp()))
    if format_ == "x":
        return str(int(date.timestamp() * 1000))
    raise IMLError(f"formatDate format {format_!r} is not emulated (only \"X\" and \"x\")")


_ENCODERS = {"hex": lambda digest: digest.hex(),
             "base64": lambda digest: base64.b64encode(digest).decode("ascii")}
_KEY_DECODERS = {"text": lambda key: key.encode("utf-8"), "hex": bytes.fromhex,
                 "base64": base64.b64decode}


def _sha256(text=None, encoding=None, key=None, key_encoding=None):
    """``sha256(text; [encoding]; [key]; [keyEncoding])``: an HMAC-SHA256 when a key is given."""
    encoder = _ENCODERS.get(encoding or "hex")
    decoder = _KEY_DECODERS.get(key_encoding or "text")
    if encoder is None or decoder is None:
        raise IMLError(f"sha256: encoding {encoding!r} / key encoding {key_encoding!r} "
                       "is not emulated")
    message = to_text(text).encode("utf-8")
    if key in (None, ""):
        return encoder(hashlib.sha256(message).digest())
    return encoder(hmac.new(decoder(to_text(key)), message, hashlib.sha256).digest())


def _replace(text=None, search=None, replacement=None):
    """``replace``: plain text, or a regular expression written ``/pattern/flags``."""
    text, search, replacement = to_text(text), to_text(search), to_text(replacement)
    pattern = re.fullmatch(r"/(.*)/([gi]*)", search, re.S)
    if pattern:
        flags = re.I if "i" in pattern[2] else 0
        return re.sub(pattern[1], replacement, text, count=0 if "g" in pattern[2] else 1,
                      flags=flags)
    return text.replace(search, replacement)


def _length(value=None):
    if isinstance(value, (list, dict)):
        return len(value)
    return len(to_text(value))


def _empty(value) -> bool:
    return value in (None, "", [], {})


_FUNCTIONS = {
    "formatDate": _format_date, "sha256": _sha256, "replace": _replace, "length": _length,
    "if": lambda test=None, then=None, otherwise=None: then if test not in (None, False, "",
                                                                              "false") else otherwise,
    "ifempty": lambda value=None, fallback=None: fallback if _empty(value) else value,
    "lower": lambda text=None: to_text(text).lower(),
    "upper": lambda text=None: to_text(text).upper(),
    "trim": lambda text=None: to_text(text).strip(),
    "toString": to_text,
    "contains": lambda where=None, what=None: (what in where if isinstance(where, list)
                                               else to_text(what) in to_text(where)),
    "first": lambda items=None: items[0] if isinstance(items, list) and items else None,
}
