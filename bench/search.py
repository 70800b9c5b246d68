"""Benchmark of the PostgreSQL search engine through its HTTP endpoint (run by hand, not CI).

    .venv/bin/python bench/search.py [--assets 100000] [--queries 1000] [--typos 250]

Uses TEST_DATABASE_URL / TEST_REDIS_URL when set, else embedded servers. Creates a database
of its own, migrates it, seeds N realistic media assets with COPY (search_corpus.py), serves
the app with gunicorn (2 workers, no Meilisearch) and logs in as an editor. Then, in one run:
a fixed mix of queries (a quarter each exact, prefix, typo, filter), every one with facets,
through `GET /media/search.json`, each followed by the very SQL statement the engine runs,
executed bare on a plain connection; then misspelled queries whose intended asset is known.
Prints p50/p95/p99 of the endpoint, the bare SQL p95, their ratio, the share of misspelled
queries whose asset is in the top 10, and last one JSON line of those figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import time
import uuid

from _stack import gunicorn, percentile, servers

import httpx
import psycopg
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from werkzeug.datastructures import MultiDict

import search_corpus as corpus
from app.search import postgres
from app.search.types import MediaFilters, SearchRequest
from tests.conftest import create_database, drop_database

PASSWORD = "bench-editor-password"
UPLOADERS = 8
WARM_UP = 50
TZ = "Europe/Paris"


def seed(app, assets: list[corpus.Asset], libpq: str) -> None:
    from flask_migrate import upgrade

    from app.auth import service as accounts
    from app.extensions import db
    from app.models import Role

    with app.app_context():
        upgrade()
        accounts.create_user("bench@example.org", "Bench Editor", Role.EDITOR, PASSWORD)
        db.session.commit()
        db.engine.dispose()
    started = time.perf_counter()
    with psycopg.connect(libpq, autocommit=True) as conn:
        uploaders = [
            conn.execute(
                "INSERT INTO users (email, name, role) VALUES (%s, %s, 'editor') RETURNING id",
                (f"uploader{n}@example.org", f"Uploader {n}"),
            ).fetchone()[0]
            for n in range(UPLOADERS)
        ]
        with conn.cursor().copy(
            "COPY media_assets (id, title, description, filename, mime, kind, size_bytes, "
            "sha256, storage_backend, status, uploaded_by_id, created_at, updated_at) "
            "FROM STDIN"
        ) as copy:
            for a in assets:
                copy.write_row(
                    (
                        a.id,
                        a.title,
                        a.description,
                        a.filename,
                        a.mime,
                        a.kind,
                        1000 + a.id,
                        uuid.uuid5(uuid.NAMESPACE_OID, str(a.id)).hex * 2,
                        "local",
                        "ready",
                        uploaders[a.uploader],
                        a.created_at,
                        a.created_at,
                    )
                )
        conn.execute("SELECT setval('media_assets_id_seq', %s)", (len(assets),))
        tag_ids = {
            name: conn.execute(
                "INSERT INTO tags (name, normalized) VALUES (%s, %s) RETURNING id",
                (name, " ".join(corpus.words_of(name)) or name),
            ).fetchone()[0]
            for name in corpus.TAGS
        }
        with conn.cursor().copy("COPY media_tags (media_asset_id, tag_id) FROM STDIN") as copy:
            for a in assets:
                for tag in a.tags:
                    copy.write_row((a.id, tag_ids[tag]))
        # Tagging rewrote the tagged rows at the end of the table; put them back in upload
        # order, as a library tagged at upload time would be.
        conn.execute("CLUSTER media_assets USING pk_media_assets")
        conn.execute("VACUUM ANALYZE")
        words = conn.execute("SELECT count(*) FROM search_words").fetchone()[0]
    print(f"seeded {len(assets)} assets in {time.perf_counter() - started:.0f} s ({words} indexed words)", flush=True)


def typo(rng: random.Random, word: str) -> str:
    while (wrong := corpus.misspell(rng, word)) == word:
        pass
    return wrong


def query_mix(assets: list[corpus.Asset], count: int, rng: random.Random) -> list[tuple]:
    """(category, query, filter arguments): exact words, a word being typed, a misspelled
    word, or filters with or without a word, in turn."""
    mix = []
    for number in range(count):
        words = corpus.words_of(rng.choice(assets).title)
        category = ("exact", "prefix", "typo", "filter")[number % 4]
        args = {}
        if category == "exact":
            start = rng.randrange(max(1, len(words) - 1))
            text = " ".join(words[start : start + 2]) + " "
        elif category == "prefix":
            word = rng.choice([w for w in words if len(w) >= 3] or words)
            text = word[: rng.randint(3, max(3, min(6, len(word))))]
            text = (rng.choice(words) + " " + text) if rng.random() < 0.5 else text
        elif category == "typo":
            text = typo(rng, rng.choice([w for w in words if len(w) >= 5] or ["affiche"])) + " "
        else:
            text = rng.choice(words + [""] * 3)
            args = rng.choice(
                (
                    {"kind": rng.choice(("image", "video", "document"))},
                    {"tag": rng.choice(corpus.TAGS)},
                    {"from": f"{rng.choice((2023, 2024, 2025))}-01-01", "to": f"{rng.choice((2025, 2026))}-06-30"},
                    {"kind": "image", "tag": rng.choice(corpus.TAGS)},
                )
            )
        mix.append((category, text, args))
    return mix


def typo_corpus(assets: list[corpus.Asset], count: int, rng: random.Random) -> list[tuple]:
    """(misspelled query, intended asset id): two or three words of the asset's title that at
    most ten assets hold together (spelled right, the asset is in the top 10), one of them
    misspelled. Half end with a space (complete words), half are still being typed."""
    postings: dict[str, set[int]] = {}
    for a in assets:
        for w in set(corpus.words_of(" ".join((a.title, a.filename, a.description, *a.tags)))):
            postings.setdefault(w, set()).add(a.id)
    queries = []
    while len(queries) < count:
        asset = rng.choice(assets)
        words = list(dict.fromkeys(w for w in corpus.words_of(asset.title) if w.isalpha()))
        if len(words) < 2:
            continue
        chosen = rng.sample(words, min(len(words), rng.choice((2, 3))))
        long_words = [w for w in chosen if len(w) >= 5]
        if not long_words or len(set.intersection(*(postings[w] for w in chosen))) > 10:
            continue
        wrong = rng.choice(long_words)
        text = " ".join(typo(rng, w) if w == wrong else w for w in chosen)
        queries.append((text + (" " if len(queries) % 2 else ""), asset.id))
    return queries


def login(http: httpx.Client) -> None:
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', http.get("/login").text).group(1)
    response = http.post("/login", data={"email": "bench@example.org", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.status_code


def run(web_url: str, libpq: str, mix: list[tuple], typos: list[tuple]) -> dict:
    dialect = psycopg_dialect.dialect()
    endpoint, bare, categories, found = [], [], [], 0
    with httpx.Client(base_url=web_url, timeout=30) as http, psycopg.connect(libpq, autocommit=True) as conn:
        login(http)
        for number, (category, text, args) in enumerate(mix[:WARM_UP] + mix):
            started = time.perf_counter()
            response = http.get("/media/search.json", params={"q": text, **args})
            took = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.text[:300]
            request = SearchRequest.build("media", text, MediaFilters.from_args(MultiDict(args)), "relevance", 1, True)
            sql, params = postgres.statement(request, TZ)
            compiled = str(sql.compile(dialect=dialect))
            started = time.perf_counter()
            conn.execute(compiled, params).fetchall()
            if number >= WARM_UP:
                categories.append(category)
                endpoint.append(took)
                bare.append((time.perf_counter() - started) * 1000)
        for text, intended in typos:
            hits = http.get("/media/search.json", params={"q": text}).json()["hits"]
            found += intended in [hit["id"] for hit in hits[:10]]
    return {"endpoint": endpoint, "bare": bare, "categories": categories, "typo_top10": found / len(typos)}


def report(assets: int, results: dict) -> None:
    endpoint, bare, categories = results["endpoint"], results["bare"], results["categories"]
    for category in dict.fromkeys(categories):
        mine = [i for i, c in enumerate(categories) if c == category]
        print(
            f"  {category:7} endpoint p50 {percentile([endpoint[i] for i in mine], 50):5.1f} "
            f"p95 {percentile([endpoint[i] for i in mine], 95):5.1f} ms | bare SQL p50 "
            f"{percentile([bare[i] for i in mine], 50):5.1f} "
            f"p95 {percentile([bare[i] for i in mine], 95):5.1f} ms"
        )
    figures = {
        "assets": assets,
        "endpoint_p50_ms": round(percentile(endpoint, 50), 2),
        "endpoint_p95_ms": round(percentile(endpoint, 95), 2),
        "endpoint_p99_ms": round(percentile(endpoint, 99), 2),
        "sql_p95_ms": round(percentile(bare, 95), 2),
    }
    figures["ratio_p95"] = round(figures["endpoint_p95_ms"] / figures["sql_p95_ms"], 2)
    figures["typo_top10"] = round(results["typo_top10"], 3)
    load = os.getloadavg()
    print(
        f"{len(endpoint)} queries: endpoint p50 {figures['endpoint_p50_ms']} ms, "
        f"p95 {figures['endpoint_p95_ms']} ms, p99 {figures['endpoint_p99_ms']} ms; bare SQL "
        f"p95 {figures['sql_p95_ms']} ms; ratio {figures['ratio_p95']}; misspelled queries "
        f"found in the top 10: {figures['typo_top10']:.1%}; load average "
        f"{load[0]:.1f}/{load[1]:.1f} on {os.cpu_count()} cores (shared machine)"
    )
    print(json.dumps(figures))


def main(argv: list[str] | None = None) -> None:
    from app import create_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--typos", type=int, default=250)
    args = parser.parse_args(argv)
    stack_servers, stack = servers()
    url = create_database(stack_servers.database_url)
    libpq = url.replace("postgresql+psycopg://", "postgresql://")
    env = {
        "APP_ENV": "test",
        "SECRET_KEY": "bench",
        "DATABASE_URL": libpq,
        "REDIS_URL": stack_servers.redis_url,
        "REDIS_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:6]}:",
        "DRAMATIQ_NAMESPACE": "bench-search",
        "MEILI_URL": "",
    }
    web = None
    try:
        app = create_app(
            {
                "APP_ENV": "test",
                "SECRET_KEY": env["SECRET_KEY"],
                "SQLALCHEMY_DATABASE_URI": url,
                "REDIS_URL": env["REDIS_URL"],
                "MEILI_URL": None,
            }
        )
        rng = random.Random(7)
        assets = corpus.generate(args.assets, list(range(UPLOADERS)))
        seed(app, assets, libpq)
        mix, typos = query_mix(assets, args.queries, rng), typo_corpus(assets, args.typos, rng)
        web, web_url = gunicorn("wsgi:app", env)
        results = run(web_url, libpq, mix, typos)
    finally:
        if web is not None:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(30)
        drop_database(stack_servers.database_url, url)
        for service in reversed(stack):
            service.stop()
    report(args.assets, results)


if __name__ == "__main__":
    main()
