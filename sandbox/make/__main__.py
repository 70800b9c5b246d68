"""``python -m sandbox.make``: serve the Make emulator until Ctrl-C (used by ``make run``).

Example::

    python -m sandbox.make --port 8765 --state instance/make-emulator.json \\
        --token 00000000-0000-4000-8000-000000000001 --callback-delay 0.2
"""

from __future__ import annotations

import argparse
import signal
import threading
import uuid

from sandbox.server import BackgroundServer

from . import create_app, emulator_of
from .config import OUTCOMES, Knobs, MakeEmulatorConfig


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.make", description="Serve a strict local emulator of Make.com."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--state", help="JSON file keeping hooks, scenarios and posts across restarts (default: memory only)"
    )
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        help="API token (UUID) with every scope; repeatable. Without one, a random token is generated and printed.",
    )
    parser.add_argument(
        "--no-scope-token", action="append", default=[], help="API token (UUID) with no scope, answered 403; repeatable"
    )
    parser.add_argument("--hook-base-url", help="prefix of each hook's url (default: this server's /hook)")
    parser.add_argument(
        "--callback-delay", type=float, default=0.0, help="seconds before a queued webhook item is processed"
    )
    parser.add_argument("--outcome", choices=OUTCOMES, default="published")
    parser.add_argument("--failure-rate", type=float, default=0.0, help="chance (0..1) that a new post fails")
    parser.add_argument("--seed", type=int, default=0, help="seed of the outcome RNG")
    parser.add_argument(
        "--break-interval-scale",
        type=float,
        default=60.0,
        help="real seconds per minute of a Break interval (60 = faithful)",
    )
    parser.add_argument("--rate-limit", type=int, help="API requests per minute (default: none)")
    parser.add_argument("--workers", type=int, default=8, help="scenario worker threads")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    tokens = tuple(args.token) or (str(uuid.uuid4()),)
    knobs = Knobs().updated(
        {
            "callback_delay": args.callback_delay,
            "outcome": args.outcome,
            "failure_rate": args.failure_rate,
            "break_interval_scale": args.break_interval_scale,
            "rate_limit_per_minute": args.rate_limit,
        }
    )
    config = MakeEmulatorConfig(
        tokens=tokens,
        scoped_tokens={token: () for token in args.no_scope_token},
        state_path=args.state,
        hook_base_url=args.hook_base_url,
        workers=args.workers,
        seed=args.seed,
        knobs=knobs,
    )
    app = create_app(config)
    server = BackgroundServer(app, host=args.host, port=args.port).start()
    print(
        f"Make emulator on {server.url}: API {server.url}/api/v2, hooks {server.url}/hook/<udid>,"
        f" inspection {server.url}/_emulator/stats",
        flush=True,
    )
    if not args.token:
        print(f"API token: {tokens[0]}", flush=True)
    stopping = threading.Event()
    # A launcher such as `make run` ends its children with SIGTERM: stop as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        emulator_of(app).shutdown()


if __name__ == "__main__":
    main()
