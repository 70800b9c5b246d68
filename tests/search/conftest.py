"""Search fixtures: a fixed French/English media corpus, a Meilisearch to talk to, a counter
of SQL statements.

`meili` is a fresh emulator per test (failover tests stop it or break it);
`meili_servers` adds a real server when MEILI_TEST_URL (and MEILI_TEST_KEY) are set, for
the contract tests that must hold against both.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import MediaAsset, Tag, User
from sandbox.meili import MeiliEmulatorConfig, start_meili_emulator

# (key, title, filename, kind, tags, description, created)
CORPUS = [
    (
        "salon",
        "Affiche été salon de l'agriculture",
        "affiche-salon.pdf",
        "document",
        ["salon", "Été 2026"],
        "Version imprimée pour le stand.",
        "2026-03-02",
    ),
    (
        "teaser",
        "Teaser vidéo lancement produit",
        "VID_20260412_teaser.mp4",
        "video",
        ["vidéo", "lancement"],
        "Short teaser for the product launch on Instagram.",
        "2026-04-12",
    ),
    (
        "team",
        "Photo équipe communication",
        "IMG_1234.jpg",
        "image",
        ["équipe"],
        "Portrait de groupe au bureau de Lyon.",
        "2025-11-20",
    ),
    (
        "hiring",
        "Campagne recrutement printemps",
        "campagne_recrutement.png",
        "image",
        ["recrutement"],
        "Visuels pour la campagne de recrutement des bénévoles.",
        "2026-02-10",
    ),
    (
        "poster",
        "Summer campaign poster",
        "summer-poster-final.jpg",
        "image",
        ["summer", "poster"],
        "English version of the summer poster.",
        "2025-06-01",
    ),
    (
        "library",
        "Inauguration de la médiathèque",
        "DSC01234.JPG",
        "image",
        ["inauguration"],
        "Discours du maire et visite des lieux.",
        "2025-09-15",
    ),
    (
        "plan",
        "Communication plan 2026",
        "communication-plan-2026.pdf",
        "document",
        [],
        "Annual communication plan with the press kit.",
        "2026-01-05",
    ),
    (
        "lights",
        "Illuminations de Noël",
        "noel_illuminations.mp4",
        "video",
        ["noël"],
        "Les illuminations de la place centrale.",
        "2025-12-08",
    ),
    (
        "press",
        "Conférence de presse du maire",
        "conference-presse.pdf",
        "document",
        ["presse"],
        "Dossier remis aux journalistes.",
        "2026-03-20",
    ),
    (
        "marathon",
        "Marathon de Lyon",
        "IMG_5678.jpg",
        "image",
        ["sport"],
        "Arrivée des coureurs place Bellecour.",
        "2025-10-05",
    ),
    (
        "photos",
        "Photographie aérienne du chantier",
        "drone-chantier.jpg",
        "image",
        ["drone"],
        "Vue du tramway en construction.",
        "2026-05-18",
    ),
]


@dataclass
class Corpus:
    ids: dict[str, int]
    uploaders: list[int]

    def keys(self, ids) -> list[str]:
        by_id = {value: key for key, value in self.ids.items()}
        return [by_id[i] for i in ids]


def tag(name: str) -> Tag:
    normalized = " ".join(name.lower().split())
    found = db.session.scalar(sa.select(Tag).where(Tag.normalized == normalized))
    if found is None:
        found = Tag(name=name, normalized=normalized)
        db.session.add(found)
    return found


def add_asset(
    title: str,
    filename: str = "file.jpg",
    kind: str = "image",
    tags=(),
    description: str = "",
    created: str = "2026-01-01",
    uploader: int | None = None,
    status: str = "ready",
) -> MediaAsset:
    asset = MediaAsset(
        title=title,
        filename=filename,
        kind=kind,
        description=description,
        mime={"image": "image/jpeg", "video": "video/mp4"}.get(kind, "application/pdf"),
        size_bytes=1000,
        sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        storage_backend="local",
        status=status,
        uploaded_by_id=uploader,
        created_at=datetime.fromisoformat(created).replace(hour=12, tzinfo=timezone.utc),
    )
    asset.tags = [tag(name) for name in tags]
    db.session.add(asset)
    db.session.flush()
    return asset


def seed_corpus() -> Corpus:
    uploaders = []
    for number in range(2):
        user = User(email=f"up{number}-{uuid.uuid4().hex[:6]}@example.org", name=f"Uploader {number}", role="editor")
        db.session.add(user)
        db.session.flush()
        uploaders.append(user.id)
    ids = {}
    for number, (key, title, filename, kind, tags, description, created) in enumerate(CORPUS):
        ids[key] = add_asset(title, filename, kind, tags, description, created, uploaders[number % 2]).id
    db.session.commit()
    return Corpus(ids, uploaders)


@pytest.fixture
def corpus(app) -> Corpus:
    with app.app_context():
        return seed_corpus()


@pytest.fixture
def statements(app):
    """The SQL statements sent while the list is being recorded."""
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    yield sent
    sa.event.remove(engine, "before_cursor_execute", record)


@dataclass
class MeiliServer:
    name: str
    url: str
    key: str | None
    running: object = None  # the emulator, with its fault knobs; None for a real server


@pytest.fixture
def meili():
    running = start_meili_emulator(MeiliEmulatorConfig(master_key="test-key", task_delay_ms=5))
    try:
        yield MeiliServer("emulator", running.url, "test-key", running)
    finally:
        running.stop()


@pytest.fixture(params=["emulator", "real"])
def meili_servers(request):
    if request.param == "emulator":
        yield request.getfixturevalue("meili")
        return
    url = os.environ.get("MEILI_TEST_URL")
    if not url:
        pytest.skip("MEILI_TEST_URL is not set: no real Meilisearch server to test against")
    yield MeiliServer("real", url, os.environ.get("MEILI_TEST_KEY"))


def meili_config(server: MeiliServer) -> dict:
    """App settings for this server, with index names of their own."""
    return {"MEILI_URL": server.url, "MEILI_API_KEY": server.key, "MEILI_INDEX_PREFIX": f"t{uuid.uuid4().hex[:8]}_"}


@contextmanager
def committed_search_app(servers, server: MeiliServer, name: str):
    """An app on a database of its own (committed data, for real workers) and fresh indexes;
    everything is dropped afterwards."""
    from tests.conftest import create_migrated_database, drop_database, make_test_app

    url = create_migrated_database(servers)
    app = make_test_app(servers, url, DRAMATIQ_NAMESPACE=f"cms-{name}-{uuid.uuid4().hex[:8]}", **meili_config(server))
    try:
        yield app
    finally:
        drop_indexes(app)
        app.extensions["dramatiq"].flush_all()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop_database(servers.database_url, url)


def drop_indexes(app) -> None:
    """Delete this test's indexes (they live on a server shared with others)."""
    from app.search import meili

    with app.app_context():
        admin = meili.client()
        for index in meili.INDEXES:
            admin.wait_for_task(admin.index(meili.index_uid(index)).delete().task_uid)
