"""Every setting, read from the environment in one place (documented in `.env.example`)."""

from __future__ import annotations

import os
from contextvars import ContextVar

# Words a boolean setting accepts (any case). Anything else is refused, naming the variable:
# a typo such as "ture" must not silently mean False.
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
# The problems found while `load_config` reads the environment, all reported together.
_problems: ContextVar[list[str] | None] = ContextVar("config_problems", default=None)


def _refuse(message: str) -> None:
    problems = _problems.get()
    if problems is None:
        raise ValueError(message)
    problems.append(message)


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _number(name: str, default, convert, what: str):
    raw = _env(name)
    if raw is None:
        return default
    try:
        return convert(raw.strip())
    except ValueError:
        _refuse(f"{name}={raw!r} is not {what}")
        return default


def _int(name: str, default: int) -> int:
    return _number(name, default, int, "a whole number")


def _float(name: str, default: float) -> float:
    return _number(name, default, float, "a number")


def _bool(name: str, default: bool) -> bool:
    raw = _env(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word not in TRUE_WORDS + FALSE_WORDS:
        _refuse(f"{name}={raw!r} is not a boolean (use one of {', '.join(TRUE_WORDS + FALSE_WORDS)})")
        return default
    return word in TRUE_WORDS


def _list(name: str) -> list[str]:
    """A comma-separated setting; blanks around the items and empty items are dropped."""
    return [item.strip() for item in (_env(name) or "").split(",") if item.strip()]


def signing_keys(config) -> list[str]:
    """What itsdangerous serializers sign with: the old keys of `SECRET_KEY_FALLBACKS` still
    verify during a rotation, the last key (`SECRET_KEY`) signs; the order Flask uses for its
    session cookie."""
    return [*config.get("SECRET_KEY_FALLBACKS", ()), config["SECRET_KEY"]]


def database_url(url: str | None) -> str | None:
    """SQLAlchemy needs the psycopg 3 driver named; accept plain postgres URLs too."""
    if url is None:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config() -> dict:
    """Build the configuration from the environment at call time (never at import). A value
    that cannot be read is listed under `CONFIG_ERRORS` (with every other one) instead of
    stopping at the first: `app.settings_check` reports them with the other checks."""
    token = _problems.set([])
    try:
        config = _read()
        _check_retention(config)
        config["CONFIG_ERRORS"] = list(_problems.get())
    finally:
        _problems.reset(token)
    return config


def _check_retention(config: dict) -> None:
    """Recorded callbacks are the `webhook-id` replay guard: pruning one that Make may still
    resend (its signed timestamp accepted for `CALLBACK_MAX_AGE_S`) would apply it twice."""
    days, max_age = config["CALLBACK_RETENTION_DAYS"], config["CALLBACK_MAX_AGE_S"]
    if days * 86400 < 2 * max_age:
        _refuse(
            f"CALLBACK_RETENTION_DAYS={days} is shorter than twice CALLBACK_MAX_AGE_S "
            f"({2 * max_age} s): callbacks Make may still resend would be applied twice"
        )


def _read() -> dict:
    app_env = _env("APP_ENV", "production")
    local = app_env in ("development", "test")
    return {
        "APP_ENV": app_env,
        "SECRET_KEY": _env("SECRET_KEY"),
        # Old keys kept valid during a rotation (sessions, invitations, media links, CSRF tokens)
        "SECRET_KEY_FALLBACKS": _list("SECRET_KEY_FALLBACKS"),
        "PUBLIC_BASE_URL": _env("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        "SQLALCHEMY_DATABASE_URI": database_url(_env("DATABASE_URL")),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": _env("REDIS_URL"),
        "REDIS_KEY_PREFIX": _env("REDIS_KEY_PREFIX", "cms:"),
        # Redis answers in well under a millisecond: past these a request stops waiting and gets
        # the "temporarily unavailable" page (503, app/errors.py) instead of hanging
        "REDIS_CONNECT_TIMEOUT_S": _float("REDIS_CONNECT_TIMEOUT_S", 1.0),
        "REDIS_SOCKET_TIMEOUT_S": _float("REDIS_SOCKET_TIMEOUT_S", 1.0),
        "DRAMATIQ_NAMESPACE": _env("DRAMATIQ_NAMESPACE", "dramatiq"),
        # Dramatiq's broker: redis://… or amqp://… (RabbitMQ); unset: the app's REDIS_URL
        "BROKER_URL": _env("BROKER_URL"),
        # Prefix of every RabbitMQ queue name (parallel test runs on one vhost); empty in production
        "RABBITMQ_QUEUE_PREFIX": _env("RABBITMQ_QUEUE_PREFIX", ""),
        # Recovery (app/recovery.py): work whose message was lost is re-sent after this long
        "RECOVERY_AFTER_S": _int("RECOVERY_AFTER_S", 15 * 60),
        "RECOVERY_INTERVAL_S": _float("RECOVERY_INTERVAL_S", 60.0),
        # Retention (app/retention.py): applied callbacks, audit events (0: kept for ever)
        "CALLBACK_RETENTION_DAYS": _int("CALLBACK_RETENTION_DAYS", 30),
        "AUDIT_RETENTION_DAYS": _int("AUDIT_RETENTION_DAYS", 0),
        "AUDIT_ARCHIVE_DIR": _env("AUDIT_ARCHIVE_DIR"),  # unset: instance/audit-archive
        "RETENTION_INTERVAL_S": _float("RETENTION_INTERVAL_S", 3600.0),
        # Operations (app/observability.py, app/metrics.py, app/scheduler.py; docs/operations.md)
        "LOG_LEVEL": _env("LOG_LEVEL", "INFO").upper(),
        "LOG_FORMAT": _env("LOG_FORMAT"),  # json or text; unset: json in production
        "METRICS_TOKEN": _env("METRICS_TOKEN"),  # unset: /metrics answers 404
        "SENTRY_DSN": _env("SENTRY_DSN"),
        "SENTRY_TRACES_SAMPLE_RATE": _float("SENTRY_TRACES_SAMPLE_RATE", 0.0),
        "SCHEDULER_HEARTBEAT_S": _float("SCHEDULER_HEARTBEAT_S", 5.0),
        # Unset: two heartbeats and 5 s (not checked under APP_ENV=test); 0: never checked
        "SCHEDULER_STALE_AFTER_S": _float("SCHEDULER_STALE_AFTER_S", None),
        # Sessions (OWASP ASVS 3.3): server-side records in Redis, revocable.
        "SESSION_IDLE_TIMEOUT": _int("SESSION_IDLE_TIMEOUT", 30 * 60),
        "SESSION_ABSOLUTE_TIMEOUT": _int("SESSION_ABSOLUTE_TIMEOUT", 12 * 3600),
        "SESSION_COOKIE_NAME": "cms_session",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", not local),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "HSTS_ENABLED": _bool("HSTS_ENABLED", not local),
        # The CSRF token lives as long as the session, so a phone page left open still works.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": _bool("WTF_CSRF_SSL_STRICT", not local),
        # Login throttling: failures allowed per window, per account and per client IP.
        "LOGIN_MAX_FAILURES_ACCOUNT": _int("LOGIN_MAX_FAILURES_ACCOUNT", 5),
        "LOGIN_MAX_FAILURES_IP": _int("LOGIN_MAX_FAILURES_IP", 20),
        "LOGIN_WINDOW_SECONDS": _int("LOGIN_WINDOW_SECONDS", 15 * 60),
        "INVITATION_MAX_AGE": _int("INVITATION_MAX_AGE", 72 * 3600),
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": _env("BABEL_DEFAULT_TIMEZONE", "Europe/Paris"),
        "LANGUAGES": ("fr", "en"),
        # Integrations (used by later features; documented in .env.example)
        "STORAGE_BACKEND": _env("STORAGE_BACKEND", "local"),
        # Media library (app/media, app/storage): unset MEDIA_ROOT means instance/media
        "MEDIA_ROOT": _env("MEDIA_ROOT"),
        "MEDIA_MAX_VIDEO_BYTES": _int("MEDIA_MAX_VIDEO_BYTES", 2 * 1024**3),
        "MEDIA_MAX_IMAGE_BYTES": _int("MEDIA_MAX_IMAGE_BYTES", 50 * 1024**2),
        "MEDIA_MAX_DOCUMENT_BYTES": _int("MEDIA_MAX_DOCUMENT_BYTES", 100 * 1024**2),
        "MEDIA_MAX_IMAGE_PIXELS": _int("MEDIA_MAX_IMAGE_PIXELS", 80_000_000),
        # Seconds an upload may go without receiving a byte of its body before it is ended (0: no limit)
        "UPLOAD_READ_TIMEOUT_S": _float("UPLOAD_READ_TIMEOUT_S", 30.0),
        "MEDIA_LINK_MAX_AGE": _int("MEDIA_LINK_MAX_AGE", 24 * 3600),
        # Orphan sweeper (app/media/sweeper.py): leftovers younger than this may still be in use
        "MEDIA_ORPHAN_MIN_AGE_S": _int("MEDIA_ORPHAN_MIN_AGE_S", 24 * 3600),
        "MEDIA_SWEEP_INTERVAL_S": _float("MEDIA_SWEEP_INTERVAL_S", 3600.0),
        # Images need an alt text before their post goes to review (app/media/service.py)
        "MEDIA_ALT_TEXT_REQUIRED": _bool("MEDIA_ALT_TEXT_REQUIRED", False),
        # Renditions (app/renditions): the file each network gets, made on the `renditions` queue
        "RENDITION_TIMEOUT_S": _float("RENDITION_TIMEOUT_S", 600.0),
        "RENDITION_KEEP_METADATA": _bool("RENDITION_KEEP_METADATA", False),
        "RENDITION_WAIT_S": _float("RENDITION_WAIT_S", 5.0),
        "GRAPH_TENANT_ID": _env("GRAPH_TENANT_ID"),
        "GRAPH_CLIENT_ID": _env("GRAPH_CLIENT_ID"),
        "GRAPH_CLIENT_SECRET": _env("GRAPH_CLIENT_SECRET"),
        "GRAPH_DRIVE_ID": _env("GRAPH_DRIVE_ID"),
        "GRAPH_BASE_URL": _env("GRAPH_BASE_URL", "https://graph.microsoft.com/v1.0"),
        "AAD_AUTHORITY": _env("AAD_AUTHORITY", "https://login.microsoftonline.com"),
        "SHAREPOINT_LINK_TYPE": _env("SHAREPOINT_LINK_TYPE", "view"),
        "SHAREPOINT_LINK_SCOPE": _env("SHAREPOINT_LINK_SCOPE", "organization"),
        # SharePoint backend (app/integrations/graph/, app/storage/sharepoint.py)
        "GRAPH_FOLDER": _env("GRAPH_FOLDER", "cms-media"),
        "GRAPH_CA_BUNDLE": _env("GRAPH_CA_BUNDLE"),
        "GRAPH_CHUNK_BYTES": _int("GRAPH_CHUNK_BYTES", 10 * 1024**2),
        "GRAPH_SIMPLE_UPLOAD_MAX_BYTES": _int("GRAPH_SIMPLE_UPLOAD_MAX_BYTES", 4 * 1024**2),
        "GRAPH_RETRY_MAX_WAIT_S": _float("GRAPH_RETRY_MAX_WAIT_S", 300.0),
        # How often the scheduler has the library's changes read (app/media/graph_sync.py); 0: never
        "GRAPH_DELTA_INTERVAL_S": _float("GRAPH_DELTA_INTERVAL_S", 60.0),
        "MAKE_ZONE": _env("MAKE_ZONE", "eu1"),
        "MAKE_BASE_URL": _env("MAKE_BASE_URL"),
        "MAKE_HOOK_BASE_URL": _env("MAKE_HOOK_BASE_URL"),
        "MAKE_API_TOKEN": _env("MAKE_API_TOKEN"),
        "MAKE_TEAM_ID": _env("MAKE_TEAM_ID"),
        "MAKE_ORGANIZATION_ID": _env("MAKE_ORGANIZATION_ID"),
        "MAKE_ENV": _env("MAKE_ENV", "prod"),
        "MAKE_DATASTORE_ID": _env("MAKE_DATASTORE_ID"),
        "MAKE_CALLBACK_SECRET": _env("MAKE_CALLBACK_SECRET"),
        "MAKE_CALLBACK_SECRET_PREVIOUS": _env("MAKE_CALLBACK_SECRET_PREVIOUS"),
        "MAKE_DRY_RUN_TIMEOUT_S": _int("MAKE_DRY_RUN_TIMEOUT_S", 120),
        "MAKE_DOCTOR_INTERVAL_S": _float("MAKE_DOCTOR_INTERVAL_S", 24 * 3600.0),
        "CALLBACK_MAX_BYTES": _int("CALLBACK_MAX_BYTES", 64 * 1024),
        # Oldest signed callback accepted (Make's Break retries resend the first run's timestamp);
        # callback_events rows must be kept at least twice this long (they are the replay guard)
        "CALLBACK_MAX_AGE_S": _int("CALLBACK_MAX_AGE_S", 48 * 3600),
        # The callback endpoint's own Redis timeout: past it, the rate limit is skipped (fail open)
        "CALLBACK_REDIS_TIMEOUT_S": _float("CALLBACK_REDIS_TIMEOUT_S", 0.25),
        # Outbox and publication (app/publishing): attempts, back-off, timeouts, periodic jobs
        # Transient webhook failures are retried until this long after the first attempt (6 h)
        "PUBLISH_RETRY_WINDOW_S": _int("PUBLISH_RETRY_WINDOW_S", 6 * 3600),
        "PUBLISH_BACKOFF_BASE_S": _float("PUBLISH_BACKOFF_BASE_S", 2.0),
        "PUBLISH_BACKOFF_MAX_S": _float("PUBLISH_BACKOFF_MAX_S", 300.0),
        "PUBLISH_CONNECT_TIMEOUT_S": _float("PUBLISH_CONNECT_TIMEOUT_S", 5.0),
        "PUBLISH_READ_TIMEOUT_S": _float("PUBLISH_READ_TIMEOUT_S", 30.0),
        "PUBLISH_CLAIM_TIMEOUT_S": _int("PUBLISH_CLAIM_TIMEOUT_S", 120),
        "PUBLISH_REQUEUE_AFTER_S": _int("PUBLISH_REQUEUE_AFTER_S", 180),
        "PUBLISH_CALLBACK_TIMEOUT_S": _int("PUBLISH_CALLBACK_TIMEOUT_S", 1800),
        # After "Approve", nothing is sent for this long: the approver may undo (app/reviews)
        "APPROVAL_UNDO_S": _int("APPROVAL_UNDO_S", 30),
        # A review link for an outside reviewer (app/review_links) lasts this many days unless the
        # editor picks another expiry
        "REVIEW_LINK_DEFAULT_DAYS": _int("REVIEW_LINK_DEFAULT_DAYS", 7),
        # Approval chains (docs/approval-chains.md): nobody approves their own post, admins
        # included, unless this is on
        "ALLOW_SELF_APPROVAL": _bool("ALLOW_SELF_APPROVAL", False),
        # An expiring approval (a campaign setting) that has not started to publish this long
        # after its scheduled moment sends the post back to review; checked every interval
        "APPROVAL_EXPIRY_GRACE_S": _int("APPROVAL_EXPIRY_GRACE_S", 600),
        "APPROVAL_EXPIRY_INTERVAL_S": _int("APPROVAL_EXPIRY_INTERVAL_S", 60),
        # The calendar (app/calendar): an approved post moved to another moment keeps its approval
        # (its unsent publications move with it) only when this is on; else it goes back to review
        "CALENDAR_RESCHEDULE_KEEPS_APPROVAL": _bool("CALENDAR_RESCHEDULE_KEEPS_APPROVAL", False),
        "SCHEDULER_RELAY_INTERVAL_S": _float("SCHEDULER_RELAY_INTERVAL_S", 1.0),
        "SCHEDULER_SWEEP_INTERVAL_S": _float("SCHEDULER_SWEEP_INTERVAL_S", 30.0),
        "CALLBACK_RATE_LIMIT_PER_MINUTE": _int("CALLBACK_RATE_LIMIT_PER_MINUTE", 1200),
        # A recorded callback still pending this long lost its message: the scheduler re-sends it
        "CALLBACK_REQUEUE_AFTER_S": _int("CALLBACK_REQUEUE_AFTER_S", 10),
        # A recorded callback that failed to apply this many times is set aside (could_not_apply)
        "CALLBACK_MAX_APPLY_ATTEMPTS": _int("CALLBACK_MAX_APPLY_ATTEMPTS", 5),
        "MEILI_URL": _env("MEILI_URL"),
        "MEILI_API_KEY": _env("MEILI_API_KEY"),
        "SEARCH_BUDGET_MS": _int("SEARCH_BUDGET_MS", 300),
        # Search (app/search): index names prefix; PostgreSQL serves alone this long after a failure
        "MEILI_INDEX_PREFIX": _env("MEILI_INDEX_PREFIX", ""),
        "SEARCH_CIRCUIT_COOLDOWN_S": _int("SEARCH_CIRCUIT_COOLDOWN_S", 30),
        # Optional "draft the message" (app/campaigns/drafting.py): off while the URL is empty
        "N8N_WEBHOOK_URL": _env("N8N_WEBHOOK_URL"),
        "N8N_TIMEOUT_S": _float("N8N_TIMEOUT_S", 20.0),
        "N8N_DRAFT_TTL_S": _int("N8N_DRAFT_TTL_S", 15 * 60),
        # Notifications (app/notifications, docs/notifications.md): mail over SMTP, Teams, digest
        "SMTP_URL": _env("SMTP_URL"),  # smtp://user:pass@host:587?starttls=1, smtps://host:465; unset: no mail
        "SMTP_TIMEOUT_S": _float("SMTP_TIMEOUT_S", 10.0),
        "SMTP_CA_FILE": _env("SMTP_CA_FILE"),  # a private CA for the SMTP server's certificate
        "MAIL_FROM": _env("MAIL_FROM", "CMS Campagnes <cms@localhost>"),
        "MAIL_REPLY_TO": _env("MAIL_REPLY_TO"),
        "NOTIFY_MAIL_BATCH": _int("NOTIFY_MAIL_BATCH", 50),  # mails per actor message (one SMTP connection)
        "NOTIFY_CLAIM_TIMEOUT_S": _int("NOTIFY_CLAIM_TIMEOUT_S", 120),  # a dead worker's rows go again after this
        "NOTIFY_BACKOFF_BASE_S": _float("NOTIFY_BACKOFF_BASE_S", 30.0),
        "NOTIFY_BACKOFF_MAX_S": _float("NOTIFY_BACKOFF_MAX_S", 3600.0),
        "NOTIFY_RELAY_INTERVAL_S": _float("NOTIFY_RELAY_INTERVAL_S", 15.0),
        "NOTIFY_DIGEST_INTERVAL_S": _float("NOTIFY_DIGEST_INTERVAL_S", 24 * 3600.0),
        "TEAMS_TIMEOUT_S": _float("TEAMS_TIMEOUT_S", 10.0),
        # Local development only (`make run`): the folder where the local SMTP sink keeps mails for /dev/mail
        "DEV_MAIL_DIR": _env("DEV_MAIL_DIR"),
    }
