"""The project's Dramatiq actors: thin wrappers that call services, safe to run twice.

Each feature keeps its actors in a module of its own, declared with `@actor` from `app.tasks`
and imported here so that the worker and the web app bind them to the broker.
"""
from app.tasks import publishing  # noqa: F401
