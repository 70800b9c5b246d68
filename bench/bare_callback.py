"""The floor for the callback benchmark: a bare Flask endpoint doing the same single INSERT
as /hooks/make (no signature check, no state change). `gunicorn bench.bare_callback:app`."""

import os

import sqlalchemy as sa
from flask import Flask, request

from app.config import database_url

app = Flask(__name__)
engine = sa.create_engine(database_url(os.environ["DATABASE_URL"]), pool_pre_ping=True)
INSERT = sa.text(
    "INSERT INTO callback_events (webhook_id, status, outcome, headers, raw_body) "
    "VALUES (:id, 'published', 'bare', '{}', :body) ON CONFLICT (webhook_id) DO NOTHING"
)


@app.get("/healthz")
def healthz():
    return "ok"


@app.post("/")
def receive():
    with engine.begin() as conn:
        conn.execute(INSERT, {"id": request.headers["webhook-id"], "body": request.get_data(as_text=True)})
    return {"outcome": "recorded"}
