"""Configuration of one emulator instance."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MeiliEmulatorConfig:
    """What a real server would take from its command line.

    ``master_key`` None is the open mode (any ``Authorization`` header is ignored,
    which is what the client's ``Bearer None`` needs). ``task_delay_ms`` is the
    time a task stays ``enqueued`` before the worker picks it up, long enough by
    default that client code really has to poll. The payload limit matches
    Meilisearch's default ``--http-payload-size-limit`` of 100 MB.
    """

    master_key: str | None = None
    task_delay_ms: int = 100
    payload_limit_bytes: int = 100_000_000
