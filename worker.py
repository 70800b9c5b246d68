"""Dramatiq entry point: `dramatiq worker` (add `--processes N --threads M` as needed).

`create_app()` builds the Redis broker from `REDIS_URL`, makes it Dramatiq's global broker
and binds the project's actors to it, which is what the `dramatiq` command looks for here.
"""
from app import create_app

app = create_app()
broker = app.extensions["dramatiq"]
