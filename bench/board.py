"""Campaign board benchmark: 500 objects (2 targets and 2 media each) on one campaign, the board
page requested through HTTP with the Flask test client (the whole WSGI stack: session, guards,
queries, template), and the number of SQL queries one request makes.

    .venv/bin/python bench/board.py [--objects 500] [--requests 100]

Uses TEST_DATABASE_URL / TEST_REDIS_URL when set, else embedded servers; creates and drops its
own database. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time

from _stack import percentile, servers, summary

import sqlalchemy as sa

from app.auth import service as accounts
from app.extensions import db
from app.models import Platform, Role
from tests.conftest import PASSWORD, create_database, drop_database, make_test_app
from tests.objects_support import make_objects, seed_campaign


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    srv, stack = servers()
    url = create_database(srv.database_url)
    try:
        from flask_migrate import upgrade

        app = make_test_app(srv, url)
        with app.app_context():
            upgrade()
            user = accounts.create_user("bench-editor@example.org", "Bench", Role.EDITOR, PASSWORD)
            db.session.commit()
            seed = seed_campaign(
                platforms=(Platform.INSTAGRAM, Platform.LINKEDIN), extra_statuses=(), media=2, author_id=user.id
            )
            make_objects(seed.campaign_id, list(seed.scenarios.values()), seed.media, args.objects, author_id=user.id)
        client = app.test_client()
        html = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        assert (
            client.post(
                "/login", data={"email": "bench-editor@example.org", "password": PASSWORD, "csrf_token": token}
            ).status_code
            == 303
        )
        page = f"/campaigns/{seed.campaign_id}/board"
        body = client.get(page).get_data(as_text=True)
        assert body.count('data-testid="object-card"') == args.objects
        queries = []
        with app.app_context():
            engine = db.engine
        listener = lambda *a: queries.append(a[2])  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", listener)
        client.get(page)
        sa.event.remove(engine, "before_cursor_execute", listener)
        timings, cpu = [], []
        for _ in range(args.requests):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(page)
            response.get_data()
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            assert response.status_code == 200
        # CPU time of this process alone (Python side), next to wall time which includes
        # PostgreSQL and whatever else the machine is running.
        print(
            f"board with {args.objects} objects, {args.requests} requests: {summary(timings)}; "
            f"CPU p50 {percentile(cpu, 50):.1f} ms, p95 {percentile(cpu, 95):.1f} ms; "
            f"{len(queries)} queries per request ({len(body) // 1024} KB of HTML); load {os.getloadavg()[0]:.1f}"
        )
        print(
            json.dumps(
                {
                    "objects": args.objects,
                    "p50_ms": round(percentile(timings, 50), 1),
                    "p95_ms": round(percentile(timings, 95), 1),
                    "queries": len(queries),
                }
            )
        )
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(srv.database_url, url)
        for service in reversed(stack):
            service.stop()


if __name__ == "__main__":
    main()
