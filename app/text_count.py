"""How long a text is for each network: the one implementation of the counting rules.

The server's check (app/networks.py) and the live counters under the post's message (POST
/campaigns/<id>/objects/count) both count here; the browser holds no copy.

- X ("x_weighted"): X's own rules, twitter-text v3, through the `twitter-text-parser` port (MIT;
  github.com/swen128/twitter-text-python, run against twitter-text's conformance/validate.yml):
  NFC normalisation, code points 0-4351 and three punctuation ranges weigh 1 and the rest 2, an
  emoji sequence (ZWJ family, flag, skin tone) weighs 2 whatever its length, and a URL weighs 23
  whatever its length, with or without a scheme (`example.org/salon`).
  tests/test_text_count.py runs X's published weighted-length cases.
- YouTube ("utf8_bytes"): the description's limit is 5,000 bytes (videos.insert reference).
- TikTok ("utf16"): UTF-16 code units, as JavaScript's `length` (Postiz caps at 2,000).
- Facebook, Instagram, LinkedIn ("chars"): code points after NFC.
"""

from __future__ import annotations

import sys
import types
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from app.extensions import db
from app.models import CampaignScenario, Platform, SocialAccount


def _import_parser():
    """twitter-text-parser 3.0.0 reads its emoji list with `pkg_resources.resource_string` at
    import, a setuptools module that setuptools 81+ no longer ships and that production does not
    install (the package does not declare it). For that one import, a stand-in giving the same
    bytes from the file beside the module, removed again so nothing else mistakes it for setuptools'."""
    if "pkg_resources" in sys.modules:
        from twitter_text import parse_tweet

        return parse_tweet
    shim = types.ModuleType("pkg_resources")
    shim.resource_string = lambda module, name: Path(sys.modules[module].__file__).with_name(name).read_bytes()
    sys.modules["pkg_resources"] = shim
    try:
        from twitter_text import parse_tweet
    finally:
        del sys.modules["pkg_resources"]
    return parse_tweet


parse_tweet = _import_parser()

KINDS = ("chars", "x_weighted", "utf8_bytes", "utf16")


def length(text: str, counting: str) -> int:
    """`text`'s length as the network that counts by `counting` measures it."""
    if counting not in KINDS:
        raise ValueError(f"unknown counting {counting!r}")
    if counting == "x_weighted":
        return parse_tweet(text).weightedLength  # normalises to NFC itself
    text = unicodedata.normalize("NFC", text)
    if counting == "utf8_bytes":
        return len(text.encode("utf-8"))
    if counting == "utf16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


@dataclass(frozen=True)
class Counter:
    platform: Platform
    length: int
    limit: int
    counting: str

    @property
    def over(self) -> bool:
        return self.length > self.limit


def counters(campaign_id: int, scenario_ids: list[int], text: str) -> list[Counter]:
    """One counter per network among the campaign's ticked targets, in the form's order."""
    from app.networks import RULES  # networks imports this module for its text check

    if not scenario_ids:
        return []
    platforms = db.session.scalars(
        sa.select(SocialAccount.platform)
        .join(CampaignScenario)
        .where(CampaignScenario.campaign_id == campaign_id, CampaignScenario.id.in_(scenario_ids))
        .distinct()
        .order_by(SocialAccount.platform)
    )
    return [
        Counter(p, length(text, RULES[p].counting), RULES[p].text_max, RULES[p].counting)
        for p in platforms
        if p in RULES
    ]
