"""Run one rendition in a child process, with a time limit.

Decoders are native code: a corrupt file may crash one (a signal) or loop in it. The work runs
in a process of its own (multiprocessing's `forkserver`: forked from a small single-threaded
server, never from the worker's threads), so a crash or a hang costs that rendition only: it is
killed after `timeout` seconds and reported as `RenditionError` with the reason.
"""

from __future__ import annotations

import multiprocessing
import resource
import traceback
from dataclasses import fields, is_dataclass
from types import SimpleNamespace

_context = None


class RenditionError(Exception):
    pass


def _ctx():
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["app.renditions.image", "app.renditions.video"])
    return _context


def _child(kind: str, source: str, target: str, rules, settings, pipe) -> None:
    try:
        if kind == "image":
            from app.renditions import image as work
        else:
            from app.renditions import video as work
        result = work.render(source, target, rules, settings)
        result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # this child's
        pipe.send(("ok", result))
    except BaseException as exc:  # whatever the decoder says: the parent records it
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" ({last[0].name})" if last else ""
        pipe.send(("error", f"{type(exc).__name__}: {exc}{where}"[:500]))
    finally:
        pipe.close()


def run(kind: str, source: str, target: str, rules, settings, timeout: float) -> dict:
    """The child's result dict; `RenditionError` on an error, a crash or the time limit."""
    # The rules travel as their values only: unpickling `networks.Rules` would load app.networks,
    # and with it the models, SQLAlchemy's mappers and Babel (about 40 MiB more in every child).
    rules = SimpleNamespace(**{f.name: getattr(rules, f.name) for f in fields(rules)}) if is_dataclass(rules) else rules
    ctx = _ctx()
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(kind, source, target, rules, settings, child), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise RenditionError(f"timed out after {timeout:g} s")
        status, value = parent.recv()
    except EOFError:
        process.join(5)
        raise RenditionError(f"the decoder crashed (exit code {process.exitcode})") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        parent.close()
    if status != "ok":
        raise RenditionError(value)
    return value
