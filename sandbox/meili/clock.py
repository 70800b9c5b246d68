"""Timestamps and durations in the exact text forms the Python client parses."""

from __future__ import annotations

import time


def rfc3339(ns: int) -> str:
    """RFC 3339 UTC with nine fraction digits and ``Z``.

    meilisearch-python parses ``%Y-%m-%dT%H:%M:%S.%fZ`` and trims digits past six,
    so a timestamp without a fraction, or with ``+00:00``, would make it raise.
    """
    seconds, fraction = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


def iso_duration(ns: int) -> str:
    """ISO 8601 duration such as ``PT0.004286S``, as in ``task.duration``."""
    seconds = f"{ns / 1_000_000_000:.9f}".rstrip("0").rstrip(".")
    return f"PT{seconds or '0'}S"
