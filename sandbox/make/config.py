"""Configuration of the Make emulator: seed data, limits, and the runtime knobs.

Seed data (organisations, teams, connections, tokens) is fixed for the life of the process and is
never persisted, so a changed config is not fought by an old state file. The knobs are the part a
test or benchmark may change while the emulator runs (``POST /_emulator/knobs``).
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field

# "datastores:read" as in the SDK's current-authorization mock; the two writes by analogy.
ALL_SCOPES = (
    "teams:read",
    "organizations:read",
    "connections:read",
    "connections:write",
    "datastores:read",
    "datastores:write",
    "hooks:read",
    "hooks:write",
    "scenarios:read",
    "scenarios:write",
    "scenarios:run",
)

OUTCOMES = ("published", "failed")


def _default_organizations() -> list[dict]:
    return [{"id": 11, "name": "Sandbox", "zone": "eu2.make.com"}]


def _default_teams() -> list[dict]:
    return [{"id": 215, "name": "Media", "organizationId": 11}]


def _default_connections() -> list[dict]:
    """One connection per network the CMS targets, in the default team. ``accountName`` is the
    connection's type as exports name it (docs/make-modules.md): Facebook Pages and Instagram
    for Business share ``facebook``, LinkedIn is ``linkedin2``; ``youtube`` is unverified and X
    and TikTok have no module the repository uses (templates bring their own)."""
    accounts = [
        (77, "IG prod", "facebook"),
        (78, "FB page", "facebook"),
        (79, "LinkedIn page", "linkedin2"),
        (80, "YouTube channel", "youtube"),
        (81, "X account", "twitter"),
        (82, "TikTok account", "tiktok"),
    ]
    return [{"id": cid, "name": name, "accountName": account, "teamId": 215} for cid, name, account in accounts]


@dataclass(frozen=True)
class Knobs:
    """Behaviour that tests and benchmarks change at runtime.

    ``break_interval_scale`` is the number of real seconds one minute of a ``builtin:Break``
    ``interval`` lasts: 60 is faithful, tests use 0.01.
    """

    callback_delay: float = 0.0  # seconds before a queued item is processed
    outcome: str = "published"  # what the network does with a new post
    failure_rate: float = 0.0  # chance (0..1, seeded) that a new post fails anyway
    failure_message: str = ""  # the refused post's error message ("": a default one)
    drop_callbacks: bool = False  # http:MakeRequest modules send nothing (lost callback)
    break_interval_scale: float = 60.0
    rate_limit_per_minute: int | None = None  # API requests per minute, None = unlimited
    force_429: bool = False  # every API call answers 429
    retry_after: int | None = None  # seconds sent as Retry-After with a 429
    api_fail_status: int | None = None  # the next api_fail_count API calls answer this status
    api_fail_count: int = 0
    hook_fail_status: int | None = None  # the next hook_fail_count webhook POSTs answer this
    hook_fail_count: int = 0
    validate_endpoint: bool = True  # POST /api/v2/blueprints/validate offered (else 403)
    validate_rate_limit_per_minute: int | None = None  # beyond it the endpoint answers 429
    clock_offset_s: float = 0.0  # a run's clock starts this far from real time (late runs)

    def updated(self, changes: dict) -> "Knobs":
        """A copy with ``changes`` applied, or ``ValueError`` naming each bad field."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        errors = [f"unknown knob {name!r}" for name in changes if name not in fields]
        errors += [
            f"{name}: {problem}"
            for name, value in changes.items()
            if name in fields
            for problem in [_knob_problem(name, value)]
            if problem
        ]
        if errors:
            raise ValueError(errors)
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _knob_problem(name: str, value) -> str | None:
    """Why ``value`` is not acceptable for knob ``name``, or None."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if name == "outcome":
        return None if value in OUTCOMES else f"must be one of {OUTCOMES}"
    if name in ("drop_callbacks", "force_429", "validate_endpoint"):
        return None if isinstance(value, bool) else "must be a boolean"
    if name == "failure_message":
        return None if isinstance(value, str) and len(value) <= 2000 else "must be a string (at most 2000 characters)"
    if name == "failure_rate":
        return None if is_number and 0 <= value <= 1 else "must be a number from 0 to 1"
    if name in ("callback_delay", "break_interval_scale"):
        return None if is_number and value >= 0 else "must be a number >= 0"
    if name in ("api_fail_count", "hook_fail_count"):
        return None if is_int and value >= 0 else "must be an integer >= 0"
    if name in ("api_fail_status", "hook_fail_status"):
        ok = value is None or (is_int and 400 <= value <= 599)
        return None if ok else "must be null or an HTTP error status (400-599)"
    if name == "clock_offset_s":
        return None if is_number and abs(value) <= 7 * 86400 else "must be a number of seconds (at most a week)"
    if name in ("rate_limit_per_minute", "retry_after", "validate_rate_limit_per_minute"):
        return None if value is None or (is_int and value > 0) else "must be null or an integer > 0"
    return None


@dataclass(frozen=True)
class MakeEmulatorConfig:
    """Everything ``create_app`` needs.

    ``tokens`` get every scope; ``scoped_tokens`` maps a token to the scopes it was created
    with, so ``{"<uuid>": ()}`` is the "no-scope" token that gets 403 everywhere.
    ``hook_base_url`` is the prefix of each hook's ``url`` (the CMS's ``MAKE_HOOK_BASE_URL``);
    unset, it is this emulator's own ``/hook`` address as seen by the request.
    """

    tokens: tuple[str, ...] = ()
    scoped_tokens: dict[str, tuple[str, ...]] = field(default_factory=dict)
    organizations: list[dict] = field(default_factory=_default_organizations)
    teams: list[dict] = field(default_factory=_default_teams)
    connections: list[dict] = field(default_factory=_default_connections)
    state_path: str | None = None
    hook_base_url: str | None = None
    hook_queue_limit: int = 10_000
    hook_rate_limit_per_10s: int = 300
    max_payload_bytes: int = 5 * 1024 * 1024
    default_page_limit: int = 10
    max_page_limit: int = 10_000
    installed_apps: tuple[str, ...] = ("builtin", "gateway", "util", "http", "datastore", "json")
    workers: int = 8
    seed: int = 0
    callback_timeout: float = 10.0
    knobs: Knobs = field(default_factory=Knobs)

    def __post_init__(self):
        for token in (*self.tokens, *self.scoped_tokens):
            # A Make API token is a UUID; fail at start-up, not on every request.
            if str(uuid.UUID(token)) != token:
                raise ValueError(f"token {token!r} must be a UUID in lowercase canonical form")
        for scopes in self.scoped_tokens.values():
            unknown = set(scopes) - set(ALL_SCOPES)
            if unknown:
                raise ValueError(f"unknown scopes {sorted(unknown)}")

    def scopes_of(self, token: str) -> tuple[str, ...] | None:
        """The scopes of a known token, or None for an unknown one."""
        if token in self.tokens:
            return ALL_SCOPES
        return self.scoped_tokens.get(token)
