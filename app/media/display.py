"""How media facts read in the user's language: sizes, durations, kinds, statuses."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import format_decimal, lazy_gettext as _l

from app.models import MediaKind, MediaStatus

KIND_LABELS = {MediaKind.IMAGE: _l("Image"), MediaKind.VIDEO: _l("Video"), MediaKind.DOCUMENT: _l("PDF")}
STATUS_LABELS = {
    MediaStatus.PROCESSING: _l("Processing"),
    MediaStatus.READY: _l("Ready"),
    MediaStatus.FAILED: _l("Failed"),
}
UNITS = (_l("bytes"), _l("KB"), _l("MB"), _l("GB"))


def filesize(n: int) -> str:
    """Binary multiples, as file managers show them (50 MB is 50 × 1024² bytes)."""
    value, unit = float(n), 0
    while value >= 1024 and unit < len(UNITS) - 1:
        value, unit = value / 1024, unit + 1
    return f"{format_decimal(round(value, 1) if unit else int(value), format='#,##0.#')}\u00a0{UNITS[unit]}"


def duration(seconds: Decimal | float | None) -> str:
    if seconds is None:
        return ""
    total = int(round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def kind_label(kind: MediaKind) -> str:
    return str(KIND_LABELS[kind])


def status_label(status: MediaStatus) -> str:
    return str(STATUS_LABELS[status])


def asset_status_label(asset) -> str:
    """The tile's word: a file SharePoint refused reads "Not stored", not a processing failure."""
    from app.storage.transfers import storage_failure

    return str(_l("Not stored")) if storage_failure(asset) else status_label(asset.status)
