"""The layers read top-down: actor modules import the services they run, so a service must not
import an actor module back (it sends by name: `app.tasks.by_name`). The import graph of `app/`
is read from the source (imports at module level and inside functions alike, as either one
closes a circle once both modules are loaded); `app` itself, the composition root that
declares every actor, is left out. Pure file reading, plus one import of the actors.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACTOR_MODULES = {
    "app.tasks.actors",
    "app.tasks.callbacks",
    "app.tasks.campaigns",
    "app.tasks.drafting",
    "app.tasks.make",
    "app.tasks.media",
    "app.tasks.publishing",
    "app.notifications.tasks",
    "app.renditions.tasks",
    "app.search.tasks",
}
# Circles left (actor module -> the modules importing it that it reaches back): none.
KNOWN: dict[str, set[str]] = {}


def modules() -> dict[str, Path]:
    found = {}
    for path in (ROOT / "app").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph = {}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                imported.add(base)
                imported.update(f"{base}.{alias.name}" for alias in node.names)
        graph[name] = {m for m in imported if m in known and m not in (name, "app")}
    return graph


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for module in graph[todo.pop()] - seen:
            seen.add(module)
            todo.append(module)
    return seen


def circles() -> dict[str, set[str]]:
    """Per actor module, the other modules that import it and that it reaches back."""
    graph = import_graph()
    found = {}
    for actor_module in sorted(ACTOR_MODULES):
        back = {m for m in reachable(graph, actor_module) if actor_module in graph[m] and m not in ACTOR_MODULES}
        if back:
            found[actor_module] = back
    return found


def test_the_actor_modules_are_the_ones_declaring_actors():
    declaring = {name for name, path in modules().items() if "@actor" in path.read_text() and name != "app.tasks"}
    assert declaring | {"app.tasks.actors"} == ACTOR_MODULES


def test_no_service_imports_an_actor_that_imports_it_back():
    new = {actor: back - KNOWN.get(actor, set()) for actor, back in circles().items()}
    assert not any(new.values()), {actor: sorted(back) for actor, back in new.items() if back}


def names_sent_by_name() -> set[str]:
    """Every `by_name("...")` in app/, read from the source (many run only inside a function)."""
    names = set()
    for path in modules().values():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "by_name"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(node.args[0].value)
    return names


def test_every_actor_sent_by_name_is_declared(app):
    """`by_name` is resolved when a message is sent: a misspelt name would fail only then."""
    from app.tasks import _declared, _referenced

    written = names_sent_by_name()
    assert written >= {"process_media", "publish", "apply_callbacks", "deliver_mail", "run_make_doctor"}
    assert _referenced <= written
    assert written <= {lazy.actor_name for lazy in _declared} <= set(app.extensions["dramatiq_actors"])
