"""What Make refuses in an IML expression, and the references it makes (``validation.py``).

From Make's own guidance (integromat/make-skills, iml-functions.md): arrays are indexed with
brackets, text arguments are quoted, only the listed functions exist. See
docs/make-modules.md, "Mapping language".
"""

from __future__ import annotations

import re

from .iml import IMLError, Ref, split
from .iml_functions import KEYWORDS, VARIABLES

# Every built-in function the same page lists; anything else fails a run with "Unknown function".
FUNCTIONS = frozenset(
    """
if ifempty switch get pick omit equal
length lower upper capitalize startcase trim replace substring split indexOf contains toString
stripHTML escapeHTML encodeURL decodeURL ascii base64 toBinary md5 sha1 sha256 sha512
replaceEmojiCharacters formatDate parseDate addDays addHours addMinutes addSeconds addMonths
addYears setDate setDay setMonth setYear setHour setMinute setSecond round ceil floor trunc abs
min max sum average median parseNumber formatNumber stdevS stdevP first last map join add remove
sort reverse shuffle merge slice flatten distinct deduplicate keys toArray toCollection
""".split()
)


def lint(template: str) -> tuple[list[Ref], list[tuple[str, str]]]:
    """The references of a template and its problems, each ``(problem, fix)``."""
    try:
        parts = split(template)
    except IMLError as exc:
        return [], [(f"the expression does not parse: {exc}", "balance the braces, parentheses and quotes")]
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
            problems.append(
                (
                    f"{{{{{_format_ref(node[1], node[2])}}}}} indexes an array with a "
                    "dot; Make reads that as a key and maps nothing",
                    f"index arrays with brackets, 1-based: {{{{{fixed}}}}}",
                )
            )
    elif kind == "raw" or (kind == "word" and node[1] not in KEYWORDS and node[1] not in VARIABLES):
        problems.append(
            (
                f"the bare text {node[1]} is not a keyword, a variable or a reference",
                f'quote text arguments: "{node[1]}"',
            )
        )
    elif kind == "call":
        if node[1] not in FUNCTIONS:
            problems.append(
                (
                    f"{node[1]}() is not an IML function",
                    "use a function from Make's list (formatDate, sha256, replace, …)",
                )
            )
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
