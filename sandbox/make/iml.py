"""A tiny interpreter for the part of Make's IML that the CMS's blueprints use.

Supported inside ``{{ … }}``:

* references ``N.path`` (N = module id, path = dotted keys, a key may be back-quoted:
  ``1.`my key```); a missing key gives an empty value, as in Make, but an unknown module id
  is an error, so a typo in a blueprint shows up in tests;
* quoted literals ``"."``, numbers, the keywords ``now``, ``true``, ``false``, ``null``; any
  other bare word is text (``X``, ``base64``, a hex secret);
* ``a + b``: numbers add, anything else concatenates as text;
* ``formatDate(date; X|x)`` (Unix seconds or milliseconds) and
  ``sha256(text; [hex|base64]; [key]; [text|hex|base64])`` (an HMAC-SHA256 when a key is given).

A function argument that is not an expression (``formatDate(now; YYYY-MM-DD HH:mm)``) is taken
as raw text, as Make does. Anything else raises :class:`IMLError`, which the runner turns into
a module error: the emulator refuses what it cannot evaluate faithfully rather than guess.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
from datetime import datetime, timezone


class IMLError(ValueError):
    """An expression the emulator cannot parse or evaluate."""


_TOKEN = re.compile(r"""
    (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<ref>\d+\.(?:`[^`]*`|[A-Za-z_]\w*)(?:\.(?:`[^`]*`|\w+))*)
  | (?P<number>(?:0|[1-9]\d*)(?:\.\d+)?)(?![\w-])
  | (?P<word>[\w-]+)
""", re.VERBOSE)


def render(template, bundles: dict, now: datetime | None = None):
    """Evaluate every ``{{…}}`` in ``template`` against module outputs ``bundles``.

    A template that is exactly one expression keeps the value's type (as Make maps a number to
    a number); mixed text and expressions give text. Non-strings are returned unchanged.
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
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


@functools.lru_cache(maxsize=2048)
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
    """Index of the ``}}`` closing the expression that starts at ``position``.

    Quotes and parentheses are skipped, so ``{{formatDate(now; X)}}}`` (an expression followed
    by the ``}`` of a JSON object) closes at the right place.
    """
    depth, index = 0, position
    while index < len(text):
        char = text[index]
        if char == '"':
            index = _end_of_string(text, index)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and text.startswith("}}", index):
            return index
        index += 1
    raise IMLError(f"unterminated {{{{ in {text!r}")


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


def _split_arguments(text: str) -> list[str]:
    """Split a call's inside at the ``;`` that are outside quotes and nested calls."""
    pieces, depth, start, index = [], 0, 0, 0
    while index < len(text):
        char = text[index]
        if char == '"':
            index = _end_of_string(text, index)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == ";" and depth == 0:
            pieces.append(text[start:index])
            start = index + 1
        index += 1
    pieces.append(text[start:])
    return pieces


class _Parser:
    """Recursive descent over one expression, producing nested tuples."""

    def __init__(self, text: str):
        self.text, self.position = text, 0

    def parse(self) -> tuple:
        node = self._concat()
        self._skip_spaces()
        if self.position != len(self.text):
            raise IMLError(f"unexpected {self.text[self.position:]!r} in {self.text!r}")
        return node

    def _skip_spaces(self):
        while self.position < len(self.text) and self.text[self.position].isspace():
            self.position += 1

    def _concat(self) -> tuple:
        operands = [self._primary()]
        self._skip_spaces()
        while self.text.startswith("+", self.position):
            self.position += 1
            operands.append(self._primary())
            self._skip_spaces()
        return operands[0] if len(operands) == 1 else ("plus", tuple(operands))

    def _primary(self) -> tuple:
        self._skip_spaces()
        if self.text.startswith("(", self.position):
            inside = self._balanced()
            return _Parser(inside).parse()
        match = _TOKEN.match(self.text, self.position)
        if not match:
            raise IMLError(f"cannot parse {self.text[self.position:]!r}")
        self.position = match.end()
        if match["string"]:
            return ("literal", re.sub(r"\\(.)", r"\1", match["string"][1:-1]))
        if match["ref"]:
            module_id, *path = re.findall(r"`[^`]*`|[^.]+", match["ref"])
            return ("ref", int(module_id), tuple(key.strip("`") for key in path))
        if match["number"]:
            text = match["number"]
            return ("literal", float(text) if "." in text else int(text))
        word = match["word"]
        self._skip_spaces()
        if self.text.startswith("(", self.position):
            arguments = tuple(_argument(piece) for piece in _split_arguments(self._balanced()))
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


def _argument(piece: str) -> tuple:
    """A function argument: an expression if it parses as one, else its raw text."""
    try:
        return _Parser(piece).parse()
    except IMLError:
        return ("literal", piece.strip())


def _evaluate(node: tuple, bundles: dict, now: datetime):
    kind = node[0]
    if kind == "literal":
        return node[1]
    if kind == "word":
        return {"now": now, "true": True, "false": False, "null": None}.get(node[1], node[1])
    if kind == "ref":
        return _lookup(bundles, node[1], node[2])
    if kind == "plus":
        values = [_evaluate(operand, bundles, now) for operand in node[1]]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return sum(values)
        return "".join(to_text(value) for value in values)
    name, arguments = node[1], [_evaluate(arg, bundles, now) for arg in node[2]]
    function = _FUNCTIONS.get(name)
    if function is None:
        raise IMLError(f"function {name}() is not emulated")
    return function(*arguments)


def _lookup(bundles: dict, module_id: int, path: tuple):
    if module_id not in bundles:
        raise IMLError(f"module {module_id} has no output at this point of the run")
    value = bundles[module_id]
    for key in path:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and 1 <= int(key) <= len(value):
            value = value[int(key) - 1]  # IML arrays are 1-based
        else:
            return None
    return value


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
    raise IMLError(f"formatDate format {format_!r} is not emulated (only X and x)")


_ENCODERS = {"hex": lambda digest: digest.hex(),
             "base64": lambda digest: base64.b64encode(digest).decode("ascii")}
_KEY_DECODERS = {"text": lambda key: key.encode("utf-8"), "hex": bytes.fromhex,
                 "base64": base64.b64decode}


def _sha256(text=None, encoding=None, key=None, key_encoding=None):
    """``sha256``: a plain digest, or an HMAC-SHA256 when ``key`` is given."""
    encoder = _ENCODERS.get(encoding or "hex")
    decoder = _KEY_DECODERS.get(key_encoding or "text")
    if encoder is None or decoder is None:
        raise IMLError(f"sha256: encoding {encoding!r} / key encoding {key_encoding!r} "
                       "is not emulated")
    message = to_text(text).encode("utf-8")
    if key in (None, ""):
        return encoder(hashlib.sha256(message).digest())
    return encoder(hmac.new(decoder(to_text(key)), message, hashlib.sha256).digest())


_FUNCTIONS = {"formatDate": _format_date, "sha256": _sha256}
