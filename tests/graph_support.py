"""Where the Graph tests send their calls: the sandbox emulator, and a real SharePoint library
when `GRAPH_TEST_TENANT_ID`, `GRAPH_TEST_CLIENT_ID`, `GRAPH_TEST_CLIENT_SECRET` and
`GRAPH_TEST_DRIVE_ID` are set (the same tests, minus those that inject faults); and the
fixtures and helpers of the tests of the SharePoint backend (`graph`, `sharepoint`, ...)."""

from __future__ import annotations

import contextlib
import os
import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.integrations.graph import FRAGMENT, GraphSettings, client_for
from app.models import MediaAsset
from app.models.media import MediaTransfer
from app.storage import transfers
from sandbox.graph import GraphEmulatorConfig, start_graph_emulator

TENANT_VARIABLES = ("GRAPH_TEST_TENANT_ID", "GRAPH_TEST_CLIENT_ID", "GRAPH_TEST_CLIENT_SECRET", "GRAPH_TEST_DRIVE_ID")
SIMPLE_MAX = 64 * 1024  # small limits, so that a few hundred KiB exercise every path
NO_TENANT = "real-tenant run skipped: set " + ", ".join(TENANT_VARIABLES) + " to run it against SharePoint"


def emulator_settings(graph, **overrides) -> GraphSettings:
    values = dict(
        tenant_id=graph.config.tenant_id,
        client_id=graph.config.client_id,
        client_secret=graph.config.client_secret,
        drive_id=graph.config.drive_id,
        authority_host=graph.authority_host,
        base_url=graph.graph_base,
        ca_bundle=str(graph.ca_path),
        folder=f"cms-tests/{uuid.uuid4().hex[:8]}",
        chunk_bytes=FRAGMENT,
        simple_upload_max_bytes=SIMPLE_MAX,
        backoff_base_s=0.01,
    )
    return GraphSettings(**{**values, **overrides})


def tenant_settings(**overrides) -> GraphSettings:
    if not all(os.environ.get(name) for name in TENANT_VARIABLES):
        pytest.skip(NO_TENANT)
    values = dict(
        tenant_id=os.environ["GRAPH_TEST_TENANT_ID"],
        client_id=os.environ["GRAPH_TEST_CLIENT_ID"],
        client_secret=os.environ["GRAPH_TEST_CLIENT_SECRET"],
        drive_id=os.environ["GRAPH_TEST_DRIVE_ID"],
        folder=f"cms-tests/{uuid.uuid4().hex[:8]}",
        chunk_bytes=FRAGMENT,
        simple_upload_max_bytes=SIMPLE_MAX,
    )
    return GraphSettings(**{**values, **overrides})


@pytest.fixture(scope="module")
def graph():
    """The Graph emulator over HTTPS, one per test module (thumbnails made at once)."""
    with start_graph_emulator(GraphEmulatorConfig(thumbnail_delay_s=0)) as running:
        yield running


def app_config(settings: GraphSettings) -> dict:
    """The app settings that store new files in that library."""
    return {
        "STORAGE_BACKEND": "sharepoint",
        "GRAPH_TENANT_ID": settings.tenant_id,
        "GRAPH_CLIENT_ID": settings.client_id,
        "GRAPH_CLIENT_SECRET": settings.client_secret,
        "GRAPH_DRIVE_ID": settings.drive_id,
        "AAD_AUTHORITY": settings.authority_host,
        "GRAPH_BASE_URL": settings.base_url,
        "GRAPH_CA_BUNDLE": settings.ca_bundle,
        "GRAPH_FOLDER": settings.folder,
        "GRAPH_CHUNK_BYTES": settings.chunk_bytes,
        "GRAPH_SIMPLE_UPLOAD_MAX_BYTES": settings.simple_upload_max_bytes,
    }


def run(app, actor, *args):
    """Run an actor's function in the app, as a worker would (no broker in between)."""
    with app.app_context():
        actor(*args)


def transfer_of(app, asset_id) -> MediaTransfer | None:
    with app.app_context():
        found = db.session.scalar(sa.select(MediaTransfer).where(MediaTransfer.asset_id == asset_id))
        db.session.expunge_all()
        return found


class Backend:
    def __init__(self, app, settings, graph=None):
        self.app, self.settings, self.graph = app, settings, graph

    def counters(self) -> dict:
        return self.graph.emulator.counters.snapshot()

    @property
    def faults(self):
        return self.graph.emulator.faults

    def client(self):
        return client_for(GraphSettings.from_config(self.app.config))


def configure(app, monkeypatch, settings):
    for key, value in app_config(settings).items():
        monkeypatch.setitem(app.config, key, value)


@pytest.fixture
def sharepoint(app, graph, monkeypatch, media_root):
    """The app storing new files in the emulator's library, in a folder of this test's own."""
    configure(app, monkeypatch, emulator_settings(graph))
    graph.emulator.counters.reset()
    graph.emulator.faults.clear()
    yield Backend(app, emulator_settings(graph), graph)
    graph.emulator.faults.clear()


def asset_of(app, asset_id) -> MediaAsset:
    with app.app_context():
        asset = db.session.get(MediaAsset, asset_id)
        db.session.expunge_all()
        return asset


def staged_path(app, asset_id, version):
    with app.app_context():
        return transfers.staging_path(asset_id, version)


def interrupted_upload(app, client, sharepoint, name: str) -> tuple[int, bytes]:
    """An uploaded picture larger than two fragments whose `store_media` stopped at the second
    fragment (a 500, left to the actor's retry): the asset id and the bytes."""
    from app.storage import StorageUnavailable
    from app.tasks.media import store_media
    from tests.media_support import noisy_jpeg, upload

    data = noisy_jpeg((900, 800))
    asset_id = upload(client, data, name).get_json()["id"]
    sharepoint.faults.fail_fragment(2, status=500)
    with pytest.raises(StorageUnavailable):
        run(app, store_media, asset_id)
    return asset_id, data


@contextlib.contextmanager
def live_stack(servers, graph, media_root, namespace: str):
    """The app on SharePoint (the Graph emulator) over a real socket, with a real worker and an
    editor: (app, web server, the editor's e-mail). Its database is dropped afterwards."""
    import dramatiq

    from app.auth import service as accounts
    from app.models import Role
    from sandbox.server import BackgroundServer
    from tests.conftest import PASSWORD, SESSION_TAG, create_migrated_database, drop_database, make_test_app

    url = create_migrated_database(servers)
    app = make_test_app(
        servers,
        url,
        MEDIA_ROOT=str(media_root),
        DRAMATIQ_NAMESPACE=f"cms-test-{SESSION_TAG}:{namespace}",
        **app_config(emulator_settings(graph)),
    )
    email = f"editor-{uuid.uuid4().hex[:6]}@example.org"
    with app.app_context():
        accounts.create_user(email, "Live editor", Role.EDITOR, PASSWORD)
        db.session.commit()
    web = BackgroundServer(app).start()
    worker = dramatiq.Worker(app.extensions["dramatiq"], worker_threads=2)
    worker.start()
    try:
        yield app, web, email
    finally:
        worker.stop()
        web.stop()
        app.extensions["dramatiq"].flush_all()
        with app.app_context():
            db.engine.dispose()
        drop_database(servers.database_url, url)
