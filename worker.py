"""Dramatiq entry point: `dramatiq worker [--processes N --threads M] [--queues q1 q2 ...]`.

`create_app()` checks the settings (the worker refuses to start on a problem, naming them
all), configures logging (each line carries the actor, its message and the publication or
asset it works on), builds the Redis broker from `REDIS_URL`, makes it Dramatiq's global broker
and binds the project's actors to it, which is what the `dramatiq` command looks for here.

Dramatiq's Prometheus middleware counts the messages processed, failed, retried and in flight
per actor; the worker's main process serves them on `dramatiq_prom_host`:`dramatiq_prom_port`
(0.0.0.0:9191 by default; give each pool on a host its own port and `dramatiq_prom_db`
directory). See docs/operations.md.
"""

from dramatiq.middleware.prometheus import Prometheus

from app import create_app

app = create_app()
broker = app.extensions["dramatiq"]
broker.add_middleware(Prometheus())
