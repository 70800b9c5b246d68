"""Words as Meilisearch's tokenizer sees them, and typo-tolerant word matching.

Charabia lowercases, strips accents and splits on anything that is not a letter
or a digit, so "Été" and "ete" are one word and "3.5" is two. Each token keeps,
for every normalized character, where it ended in the original text, so the
highlighter can wrap exactly the original characters of a (prefix) match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


def normalize_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize_text(text: str) -> str:
    return "".join(normalize_char(char) for char in text)


def normalize_facet(value: str) -> str:
    """How milli stores a string facet value: trimmed, NFKD, lowercased (accents kept)."""
    return unicodedata.normalize("NFKD", value.strip()).lower()


@dataclass(frozen=True)
class Token:
    text: str  # normalized word
    start: int  # offsets in the original string
    end: int
    char_ends: tuple[int, ...]  # original end offset after each normalized character
    position: int

    def original_end(self, normalized_length: int) -> int:
        """Original offset covering the first ``normalized_length`` normalized characters."""
        if normalized_length >= len(self.text):
            return self.end
        return self.char_ends[normalized_length - 1]


ASCII_WORD = re.compile(r"[A-Za-z0-9]+")


def tokenize(text: str, first_position: int = 0) -> list[Token]:
    if text.isascii():  # the common case, without per-character Unicode work
        return [
            Token(
                match.group().lower(),
                match.start(),
                match.end(),
                tuple(range(match.start() + 1, match.end() + 1)),
                first_position + number,
            )
            for number, match in enumerate(ASCII_WORD.finditer(text))
        ]
    tokens: list[Token] = []
    chars: list[str] = []
    ends: list[int] = []
    start = None

    def flush(end: int) -> None:
        nonlocal start
        if start is not None:
            tokens.append(Token("".join(chars), start, end, tuple(ends), first_position + len(tokens)))
        chars.clear()
        ends.clear()
        start = None

    last_end = 0
    for offset, char in enumerate(text):
        normalized = normalize_char(char)
        if normalized and normalized.isalnum():
            if start is None:
                start = offset
            chars.append(normalized)
            ends.extend([offset + 1] * len(normalized))
            last_end = offset + 1
        elif not normalized and start is not None:  # a lone combining mark after a letter
            ends[-1] = last_end = offset + 1
        else:
            flush(last_end)
    flush(last_end)
    return tokens


def query_words(query: str) -> tuple[list[str], bool]:
    """The normalized query words, and whether the last one is still being typed.

    Meilisearch treats the last word as a prefix unless the query ends with a
    separator (a trailing space means the word is complete).
    """
    tokens = tokenize(query)
    return [token.text for token in tokens], bool(tokens) and tokens[-1].end == len(query)


def typo_distance(word: str, candidate: str, as_prefix: bool) -> tuple[int, int]:
    """Damerau-Levenshtein (optimal string alignment) distance, and the matched length.

    As a prefix, the best distance over every prefix of ``candidate`` counts. A typo
    on the first letter counts as two, as in Meilisearch.
    """
    rows, cols = len(word), len(candidate)
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(rows + 1):
        table[i][0] = i
    for j in range(cols + 1):
        table[0][j] = j
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            cost = 0 if word[i - 1] == candidate[j - 1] else 1
            best = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and word[i - 1] == candidate[j - 2] and word[i - 2] == candidate[j - 1]:
                best = min(best, table[i - 2][j - 2] + 1)
            table[i][j] = best
    if as_prefix:
        length = min(range(cols + 1), key=lambda j: (table[rows][j], -j))
    else:
        length = cols
    distance = table[rows][length]
    if word[:1] != candidate[:1]:
        distance += 1
    return distance, length


@dataclass(frozen=True)
class QueryTerm:
    text: str
    is_prefix: bool
    max_typos: int


@dataclass(frozen=True)
class WordMatch:
    typos: int
    exact: bool
    length: int  # normalized characters of the token to highlight


def match_word(term: QueryTerm, word: str, typos_allowed: bool) -> WordMatch | None:
    if word == term.text:
        return WordMatch(0, True, len(word))
    if term.is_prefix and word.startswith(term.text):
        return WordMatch(0, False, len(term.text))
    if not typos_allowed or term.max_typos == 0:
        return None
    too_short = len(word) < len(term.text) - term.max_typos
    if too_short or (not term.is_prefix and len(word) > len(term.text) + term.max_typos):
        return None
    if term.max_typos == 1 and word[0] != term.text[0]:
        return None  # a typo on the first letter counts as two
    distance, length = typo_distance(term.text, word, term.is_prefix)
    if distance <= term.max_typos:
        return WordMatch(distance, False, length)
    return None


def build_terms(query: str, typo_settings: dict) -> list[QueryTerm]:
    """Query terms with the typo budget ``minWordSizeForTypos`` grants each word."""
    words, last_is_prefix = query_words(query)
    sizes = typo_settings["minWordSizeForTypos"]
    no_typo_words = {normalize_text(w) for w in typo_settings["disableOnWords"]}
    terms = []
    for position, word in enumerate(words):
        budget = 0
        if (
            typo_settings["enabled"]
            and word not in no_typo_words
            and not (typo_settings["disableOnNumbers"] and word.isdigit())
        ):
            if len(word) >= sizes["twoTypos"]:
                budget = 2
            elif len(word) >= sizes["oneTypo"]:
                budget = 1
        terms.append(QueryTerm(word, last_is_prefix and position == len(words) - 1, budget))
    return terms
