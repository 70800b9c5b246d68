"""Settings checked before a process starts, and by `flask check-config` (docs/operations.md).

`create_app` runs every check: the web, worker and scheduler processes refuse to start with
one message naming every problem at once (a process that starts with a broken setting fails
later, one request or one message at a time). Under the `flask` command the same problems are
printed as a warning instead, so that `flask check-config` can list them and `flask db upgrade`
still runs while they are being fixed.

In every environment: the values that could not be read (a boolean that is not a boolean, a
number that is not a number, see `app.config`), the settings nothing works without, and the
values that would make the app unsafe. In production (`APP_ENV=production`, the default) also:
the public address, the callback secret, the signing key, the storage backend's settings.
"""

from __future__ import annotations

import collections
import ipaddress
import logging
import math
from dataclasses import dataclass
from urllib.parse import urlsplit

import click
from flask.cli import with_appcontext

ENVIRONMENTS = ("production", "development", "test")
STORAGE_BACKENDS = ("local", "sharepoint")
LOG_FORMATS = ("json", "text")
MIN_CALLBACK_SECRET_BYTES = 24
MIN_SECRET_KEY_CHARS = 32
# Shannon estimate over the key's own characters (length x entropy per character): a rough
# guard against placeholders and typed phrases, not a proof of randomness. Keys made with
# `secrets.token_hex(16)` score 94 at the very least, `token_hex(32)` about 245.
MIN_SECRET_KEY_BITS = 90
PLACEHOLDER_WORDS = ("secret", "change", "example", "password", "default", "insecure", "sample")


class ConfigurationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Check:
    name: str  # the setting (or settings) looked at
    ok: bool
    message: str  # what was checked, or what is wrong with it
    production_only: bool = False

    def text(self) -> str:
        return self.message if self.message.startswith(self.name) else f"{self.name}: {self.message}"

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.text()}"


def resolve_defaults(config) -> None:
    """Defaults that depend on other settings, decided once the overrides are in."""
    if config.get("SCHEDULER_STALE_AFTER_S") is None:
        # Two heartbeats and a margin; not checked by the test suite, which runs no scheduler
        # unless a test starts one (those set the value).
        stale = 2 * config.get("SCHEDULER_HEARTBEAT_S", 5.0) + 5
        config["SCHEDULER_STALE_AFTER_S"] = 0.0 if config.get("APP_ENV") == "test" else stale
    if not config.get("LOG_FORMAT"):
        config["LOG_FORMAT"] = "json" if config.get("APP_ENV") == "production" else "text"
    if config.get("SECRET_KEY_FALLBACKS") and not config.get("WTF_CSRF_SECRET_KEY"):
        # Flask-WTF hands this to an itsdangerous serializer as is: the old keys keep the
        # forms open across a rotation valid, the current one signs (app.config.signing_keys).
        from app.config import signing_keys

        config["WTF_CSRF_SECRET_KEY"] = signing_keys(config)


def run_checks(config) -> list[Check]:
    checks = [*_read_errors(config), *_essentials(config), *_bounds(config)]
    if config.get("APP_ENV") == "production":
        checks += _production(config)
    return checks


def problems(config) -> list[Check]:
    return [check for check in run_checks(config) if not check.ok]


def enforce(config) -> None:
    """Refuse to go on with any problem, naming them all; under the `flask` command only warn,
    unless the app could not even be built."""
    failed = problems(config)
    if not failed:
        return
    message = describe(failed)
    if click.get_current_context(silent=True) is not None and config.get("SQLALCHEMY_DATABASE_URI"):
        logging.getLogger(__name__).warning("%s\n(`flask check-config` lists every check)", message)
        return
    raise ConfigurationError(message)


def describe(failed: list[Check]) -> str:
    lines = "\n".join(f"  - {check.text()}" for check in failed)
    return (
        f"{len(failed)} setting problem(s), the process does not start "
        f"(see .env.example and docs/operations.md):\n{lines}"
    )


def _check(name: str, problem: str | None, ok_message: str, *, production_only=False) -> Check:
    return Check(name, problem is None, problem or ok_message, production_only)


def _read_errors(config) -> list[Check]:
    errors = config.get("CONFIG_ERRORS") or []
    if not errors:
        return [_check("values", None, "every boolean and number could be read")]
    return [Check(error.split("=", 1)[0], False, error) for error in errors]


def _essentials(config) -> list[Check]:
    checks = [
        _check(
            "APP_ENV",
            None
            if config.get("APP_ENV") in ENVIRONMENTS
            else f"APP_ENV={config.get('APP_ENV')!r} is not one of {', '.join(ENVIRONMENTS)}",
            f"{config.get('APP_ENV')}",
        )
    ]
    for name, key in (
        ("SECRET_KEY", "SECRET_KEY"),
        ("DATABASE_URL", "SQLALCHEMY_DATABASE_URI"),
        ("REDIS_URL", "REDIS_URL"),
    ):
        checks.append(
            _check(
                name,
                None
                if config.get(key)
                else f"{name} is not set (see .env.example; `make run` starts embedded servers)",
                "set",
            )
        )
    return checks


def _bounds(config) -> list[Check]:
    orphan_age = config.get("MEDIA_ORPHAN_MIN_AGE_S", 3600)
    heartbeat = config.get("SCHEDULER_HEARTBEAT_S") or 0
    stale = config.get("SCHEDULER_STALE_AFTER_S") or 0
    return [
        # The sweeper deletes what nothing references and is older than this: a shorter age
        # could take the file of an upload or a processing still running.
        _check(
            "MEDIA_ORPHAN_MIN_AGE_S",
            None
            if orphan_age >= 3600
            else f"MEDIA_ORPHAN_MIN_AGE_S must be at least 3600 (one hour), not {orphan_age}",
            f"{orphan_age} s",
        ),
        _check(
            "STORAGE_BACKEND",
            None
            if config.get("STORAGE_BACKEND") in STORAGE_BACKENDS
            else f"STORAGE_BACKEND={config.get('STORAGE_BACKEND')!r} is not one of {', '.join(STORAGE_BACKENDS)}",
            config.get("STORAGE_BACKEND"),
        ),
        _check(
            "LOG_LEVEL",
            None
            if isinstance(logging.getLevelName(config.get("LOG_LEVEL", "INFO")), int)
            else f"LOG_LEVEL={config.get('LOG_LEVEL')!r} is not DEBUG, INFO, WARNING or ERROR",
            config.get("LOG_LEVEL", "INFO"),
        ),
        _check(
            "LOG_FORMAT",
            None
            if config.get("LOG_FORMAT") in (None, *LOG_FORMATS)
            else f"LOG_FORMAT={config.get('LOG_FORMAT')!r} is not json or text",
            str(config.get("LOG_FORMAT")),
        ),
        _check(
            "SCHEDULER_HEARTBEAT_S",
            None
            if heartbeat > 0 and (stale == 0 or stale > heartbeat)
            else f"SCHEDULER_HEARTBEAT_S ({heartbeat}) must be above 0 and below "
            f"SCHEDULER_STALE_AFTER_S ({stale}, or 0 for no check)",
            f"a heartbeat every {heartbeat:g} s, stale after {stale:g} s",
        ),
    ]


def _production(config) -> list[Check]:
    return [
        _check(
            "PUBLIC_BASE_URL",
            _public_url_problem(config.get("PUBLIC_BASE_URL")),
            f"{config.get('PUBLIC_BASE_URL')} (https, not a loopback address)",
            production_only=True,
        ),
        *[
            _check(
                name,
                _callback_secret_problem(name, config.get(name)),
                f"at least {MIN_CALLBACK_SECRET_BYTES} bytes",
                production_only=True,
            )
            for name in ("MAKE_CALLBACK_SECRET", "MAKE_CALLBACK_SECRET_PREVIOUS")
            if name == "MAKE_CALLBACK_SECRET" or config.get(name)
        ],
        _check(
            "SECRET_KEY",
            _secret_key_problem(config.get("SECRET_KEY")),
            f"at least {MIN_SECRET_KEY_CHARS} characters, no placeholder",
            production_only=True,
        ),
        _check(
            "SECRET_KEY_FALLBACKS",
            None
            if config.get("SECRET_KEY") not in config.get("SECRET_KEY_FALLBACKS", ())
            else "SECRET_KEY_FALLBACKS holds the current SECRET_KEY: list only the old keys",
            f"{len(config.get('SECRET_KEY_FALLBACKS', ()))} old key(s) still accepted",
            production_only=True,
        ),
        _check(
            "STORAGE_BACKEND settings",
            _storage_problem(config),
            f"complete for {config.get('STORAGE_BACKEND')}",
            production_only=True,
        ),
        _check(
            "METRICS_TOKEN",
            None
            if not config.get("METRICS_TOKEN") or len(config["METRICS_TOKEN"]) >= MIN_CALLBACK_SECRET_BYTES
            else f"METRICS_TOKEN must be at least {MIN_CALLBACK_SECRET_BYTES} characters",
            "set" if config.get("METRICS_TOKEN") else "unset: /metrics answers 404",
            production_only=True,
        ),
    ]


def _public_url_problem(url: str | None) -> str | None:
    if not url:
        return "PUBLIC_BASE_URL is not set: Make's callbacks and the signed media links need it"
    parts = urlsplit(url)
    if parts.scheme != "https":
        return f"PUBLIC_BASE_URL={url!r} must be https (Make and the networks fetch from it)"
    host = (parts.hostname or "").lower()
    if not host:
        return f"PUBLIC_BASE_URL={url!r} names no host"
    if host == "localhost" or host.endswith(".localhost") or _is_local_address(host):
        return f"PUBLIC_BASE_URL={url!r} is a loopback or unspecified address, unreachable from Make"
    return None


def _is_local_address(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _callback_secret_problem(name: str, secret: str | None) -> str | None:
    if not secret:
        return f"{name} is not set: every Make callback would be refused"
    if len(secret.encode()) < MIN_CALLBACK_SECRET_BYTES:
        return (
            f"{name} is {len(secret.encode())} bytes: at least {MIN_CALLBACK_SECRET_BYTES} "
            "(python -c \"import secrets; print(secrets.token_hex(32))\")"
        )
    return None


def estimated_bits(key: str) -> float:
    counts = collections.Counter(key)
    return -sum(n * math.log2(n / len(key)) for n in counts.values())


def _secret_key_problem(key: str | None) -> str | None:
    advice = "(python -c \"import secrets; print(secrets.token_hex(32))\")"
    if not key:
        return None  # reported by the essentials
    if len(key) < MIN_SECRET_KEY_CHARS:
        return f"SECRET_KEY is {len(key)} characters: at least {MIN_SECRET_KEY_CHARS} {advice}"
    if estimated_bits(key) < MIN_SECRET_KEY_BITS:
        return f"SECRET_KEY repeats too few characters to be random {advice}"
    if any(word in key.lower() for word in PLACEHOLDER_WORDS):
        return f"SECRET_KEY looks like a placeholder or a phrase {advice}"
    return None


def _storage_problem(config) -> str | None:
    if config.get("STORAGE_BACKEND") != "sharepoint":
        return None
    # The Graph client authenticates with a client secret (app/integrations/graph/tokens.py);
    # certificate credentials are not supported by it.
    missing = [
        name
        for name in ("GRAPH_TENANT_ID", "GRAPH_CLIENT_ID", "GRAPH_CLIENT_SECRET", "GRAPH_DRIVE_ID")
        if not config.get(name)
    ]
    if missing:
        return f"STORAGE_BACKEND=sharepoint needs {', '.join(missing)}"
    return None


def environment_config() -> dict:
    """The configuration the environment gives, defaults resolved, without building an app
    (the gunicorn master reads it before it starts any worker)."""
    from app.config import load_config

    config = load_config()
    resolve_defaults(config)
    return config


@click.command("check-config")
@with_appcontext
def check_config_command():
    """Check the settings as the processes do at start: one line per check, exit status 1 on
    any failure."""
    from flask import current_app

    checks = run_checks(current_app.config)
    for check in checks:
        click.echo(check.line())
    if current_app.config.get("APP_ENV") != "production":
        click.echo(f"skip  production checks: APP_ENV={current_app.config.get('APP_ENV')}")
    failed = [check for check in checks if not check.ok]
    click.echo(f"{len(failed)} problem(s)" if failed else "configuration ok")
    raise SystemExit(1 if failed else 0)
