"""The shape of an account identifier on each network: the one place these rules live."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.models import Platform


@dataclass(frozen=True)
class IdentifierRule:
    pattern: re.Pattern
    hint: str  # what the network calls it and what it looks like (shown on errors)
    example: str


RULES = {
    Platform.FACEBOOK: IdentifierRule(
        re.compile(r"\d{5,20}"), _l("A Facebook Page id is 5 to 20 digits."), "104857600000000"
    ),
    Platform.INSTAGRAM: IdentifierRule(
        re.compile(r"\d{5,20}"), _l("An Instagram business account id is 5 to 20 digits."), "17841400000000000"
    ),
    Platform.YOUTUBE: IdentifierRule(
        re.compile(r"UC[A-Za-z0-9_-]{22}"),
        _l("A YouTube channel id is UC followed by 22 letters, digits, - or _."),
        "UCBR8-60-B28hp2BmDPdntcQ",
    ),
    Platform.LINKEDIN: IdentifierRule(
        re.compile(r"(urn:li:organization:)?\d{1,20}"),
        _l("A LinkedIn organization is its URN (urn:li:organization:…) or its numeric id."),
        "urn:li:organization:2414183",
    ),
    Platform.X: IdentifierRule(
        re.compile(r"\d{1,20}"), _l("An X account id is its numeric user id (not the @handle)."), "783214"
    ),
    Platform.TIKTOK: IdentifierRule(
        re.compile(r"[A-Za-z0-9._-]{16,100}"),
        _l("A TikTok open id is 16 to 100 letters, digits, ., - or _."),
        "-000IZH5RhY1JBtw2jeBqgZh2GQwSXq1EGV2",
    ),
}


def identifier_problem(platform: Platform, identifier: str) -> str | None:
    """Why `identifier` cannot be an account of `platform`, or None when it can."""
    rule = RULES[platform]
    if rule.pattern.fullmatch(identifier):
        return None
    return str(_l("%(hint)s For example: %(example)s", hint=rule.hint, example=rule.example))
