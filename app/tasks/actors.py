"""The project's Dramatiq actors: thin wrappers that call services, safe to run twice.

Each feature keeps its actors in a module of its own, declared with `@actor` from `app.tasks`
and imported here so that the worker and the web app bind them to the broker.
"""

from app.tasks import publishing  # noqa: F401
from app.tasks import callbacks  # noqa: F401
from app.tasks import media  # noqa: F401
from app.tasks import campaigns  # noqa: F401
from app.tasks import drafting  # noqa: F401
from app.tasks import make  # noqa: F401
from app.search import tasks as search_tasks  # noqa: F401
from app.notifications import tasks as notification_tasks  # noqa: F401
from app.renditions import tasks as rendition_tasks  # noqa: F401
