"""Files changed in SharePoint behind the CMS's back: the Graph delta sync, end to end.

The CMS stores its files in the Graph emulator (over HTTPS, MSAL included); an *outsider*, a
Graph client of its own as a person in SharePoint would be, replaces or deletes them. The sync
runs as the actor runs it (the same function, in an app context) on the test's rolled-back
database; the last tests use a database of their own, for two runs on two connections and for a
real Dramatiq worker fed by the scheduler job."""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from pathlib import Path

import dramatiq
import pytest
import sqlalchemy as sa

from app.auth import service as accounts
from app.extensions import db
from app.integrations.graph import GraphClient, GraphError, GraphResync
from app.media import graph_sync
from app.models import (
    AuditEvent,
    Campaign,
    CampaignScenario,
    ContentObject,
    MediaAsset,
    MediaStatus,
    ObjectMedia,
    ObjectStatus,
    Platform,
    Publication,
    Role,
    SocialAccount,
    StorageCursor,
)
from app.scheduler import JOBS, Scheduler
from app.storage import StorageUnavailable
from app.tasks.media import process_media, store_media, sync_library_changes
from tests.conftest import PASSWORD, SESSION_TAG, create_migrated_database, drop_database, make_test_app
from tests.graph_support import app_config, emulator_settings, graph  # noqa: F401
from tests.media_support import editor, image, media_root, upload  # noqa: F401


class Library:
    """The test's folder of the emulator's library, and an outsider working in it."""

    def __init__(self, graph, settings):
        self.graph, self.settings = graph, settings
        self.outsider = GraphClient(settings)

    def replace(self, item_id: str, data: bytes) -> str:
        """Upload `data` as a new version of the item, as someone in SharePoint would; its id."""
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "new"
            path.write_bytes(data)
            self.outsider.upload(path, item_id=item_id, conflict="replace")
        return self.outsider.versions(item_id)[0]["id"]

    def delta_calls(self) -> int:
        return sum(n for label, n in self.graph.emulator.counters.snapshot()["requests"].items() if "delta" in label)


@pytest.fixture
def library(app, graph, monkeypatch, media_root):
    settings = emulator_settings(graph)
    for key, value in app_config(settings).items():
        monkeypatch.setitem(app.config, key, value)
    graph.emulator.faults.clear()
    graph.emulator.counters.reset()
    found = Library(graph, settings)
    yield found
    graph.emulator.faults.clear()
    found.outsider.close()


def _run(app, actor, *args):
    with app.app_context():
        return actor(*args)


def _sync(app) -> int:
    with app.app_context():
        return graph_sync.sync()


def _asset(app, asset_id) -> MediaAsset:
    with app.app_context():
        asset = db.session.get(MediaAsset, asset_id)
        db.session.expunge_all()
        return asset


def _events(app, subject_type: str, subject_id: int) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
            .order_by(AuditEvent.id)
        ).all()
        db.session.expunge_all()
        return events


def _stored(app, client, data: bytes, name: str) -> MediaAsset:
    """An asset uploaded through the media library, stored in SharePoint and processed."""
    response = upload(client, data, name)
    assert response.status_code == 200, response.get_data(as_text=True)
    asset_id = response.get_json()["id"]
    _run(app, store_media, asset_id)
    _run(app, process_media, asset_id)
    asset = _asset(app, asset_id)
    assert asset.status is MediaStatus.READY and asset.storage_version == "1.0"
    return asset


def _approved_post_using(app, asset_id: int) -> tuple[int, int]:
    """An approved post showing the asset, with one publication not sent yet."""
    with app.app_context():
        account = SocialAccount(
            platform=Platform.FACEBOOK, label="Page", make_connection_id=1, account_identifier=uuid.uuid4().hex[:12]
        )
        campaign = Campaign(name="Été")
        scenario = CampaignScenario(campaign=campaign, social_account=account)
        obj = ContentObject(campaign=campaign, title="Affiche", message="m", status=ObjectStatus.APPROVED)
        db.session.add_all([account, campaign, scenario, obj])
        db.session.flush()
        db.session.add(ObjectMedia(object_id=obj.id, media_asset_id=asset_id, position=0))
        publication = Publication(
            object_id=obj.id,
            campaign_scenario_id=scenario.id,
            fingerprint="sha256:x",
            idempotency_key=f"o{obj.id}-s{scenario.id}-g1",
        )
        db.session.add(publication)
        db.session.commit()
        return obj.id, publication.id


def test_a_baseline_then_no_change_does_nothing(app, client, editor, library):
    asset = _stored(app, client, image("JPEG", size=(80, 60)), "calme.jpg")
    library.graph.emulator.counters.reset()
    assert _sync(app) == 1  # the baseline: token=latest, an empty page and its deltaLink
    with app.app_context():
        cursor = db.session.scalar(sa.select(StorageCursor))
        assert cursor.name == f"graph-delta:{library.settings.drive_id}" and "token=" in cursor.cursor
    assert _sync(app) == 1
    assert library.delta_calls() == 2  # and nothing else: no versions listed, nothing downloaded
    assert library.graph.emulator.counters.snapshot()["download_redirects"] == 0
    after = _asset(app, asset.id)
    assert (after.version, after.storage_version, after.sha256) == (1, "1.0", asset.sha256)
    assert [e.action for e in _events(app, "media_assets", asset.id)] == ["media.uploaded"]


def test_a_file_replaced_in_sharepoint_is_a_new_version_and_sends_approved_posts_back(app, client, editor, library):
    asset = _stored(app, client, image("JPEG", size=(80, 60)), "affiche.jpg")
    object_id, publication_id = _approved_post_using(app, asset.id)
    _sync(app)
    new = image("JPEG", size=(120, 90), color=(10, 200, 10))
    assert library.replace(asset.storage_item_id, new) == "2.0"

    _sync(app)
    found = _asset(app, asset.id)
    assert (found.version, found.storage_version, found.size_bytes) == (2, "2.0", len(new))
    assert found.sha256 != asset.sha256 and found.status is MediaStatus.PROCESSING
    event = _events(app, "media_assets", asset.id)[-1]
    assert event.action == "media.version_found" and event.actor_id is None
    assert event.data["storage_version"] == "2.0" and event.data["version"] == 2
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.IN_REVIEW
        assert db.session.get(Publication, publication_id) is None  # withdrawn: never sent
    review = _events(app, "content_objects", object_id)[-1]
    assert review.action == "status:in_review" and review.actor_id is None
    assert review.comment == "new version found in SharePoint"
    assert review.data == {"from": "approved", "withdrawn_publications": 1}

    _run(app, process_media, asset.id)  # the message sent after the commit, run here
    found = _asset(app, asset.id)
    assert found.status is MediaStatus.READY and (found.width, found.height) == (120, 90)
    assert client.get(f"/media/{asset.id}/file").data == new
    _sync(app)  # seen once: a later run finds nothing new
    assert len(_events(app, "media_assets", asset.id)) == 2


def test_our_own_uploads_are_not_outside_changes(app, client, editor, library):
    asset = _stored(app, client, image("JPEG", size=(80, 60)), "nous.jpg")
    _sync(app)
    newcomer = _stored(app, client, image("PNG", size=(40, 40)), "nouveau.png")  # a new item after the baseline
    second = image("JPEG", size=(90, 70), color=(1, 2, 3))
    assert upload(client, second, "nous-v2.jpg", url=f"/media/{asset.id}/file").status_code == 200
    _sync(app)  # the replacement is staged, not uploaded yet
    library.replace(asset.storage_item_id, second)  # what an attempt that died before its commit left
    _sync(app)  # 2.0 in SharePoint, but our transfer is still in flight: ours, not an outside change
    assert _asset(app, asset.id).storage_version == "1.0"
    _run(app, store_media, asset.id)  # the retried attempt: 3.0
    _sync(app)
    found = _asset(app, asset.id)
    assert (found.version, found.storage_version, found.status) == (2, "3.0", MediaStatus.PROCESSING)
    actions = [e.action for e in _events(app, "media_assets", asset.id)]
    assert actions == ["media.uploaded", "media.replaced"]
    assert [e.action for e in _events(app, "media_assets", newcomer.id)] == ["media.uploaded"]


def test_a_file_deleted_in_sharepoint_fails_its_asset(app, client, editor, library):
    asset = _stored(app, client, image("JPEG", size=(80, 60)), "parti.jpg")
    _sync(app)
    library.outsider.delete(asset.storage_item_id)
    _sync(app)
    found = _asset(app, asset.id)
    assert found.status is MediaStatus.FAILED and found.failure_reason == "The file was deleted from SharePoint."
    event = _events(app, "media_assets", asset.id)[-1]
    assert event.action == "media.deleted_in_storage" and event.actor_id is None


def test_bytes_another_asset_holds_fail_the_asset_rather_than_the_sync(app, client, editor, library):
    mine = _stored(app, client, image("JPEG", size=(80, 60)), "mien.jpg")
    theirs_bytes = image("JPEG", size=(60, 80), color=(0, 0, 200))
    theirs = _stored(app, client, theirs_bytes, "autre.jpg")
    object_id, _ = _approved_post_using(app, mine.id)
    _sync(app)
    library.replace(mine.storage_item_id, theirs_bytes)
    _sync(app)
    found = _asset(app, mine.id)
    assert found.status is MediaStatus.FAILED and "autre" in found.failure_reason
    assert (found.version, found.sha256, found.storage_version) == (1, mine.sha256, "1.0")
    assert _events(app, "media_assets", mine.id)[-1].data["refused"] == found.failure_reason
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.IN_REVIEW
    assert _asset(app, theirs.id).status is MediaStatus.READY


def test_a_forgotten_token_restarts_the_enumeration_and_still_finds_the_change(app, client, editor, library):
    asset = _stored(app, client, image("JPEG", size=(80, 60)), "resync.jpg")
    _sync(app)
    library.replace(asset.storage_item_id, image("JPEG", size=(50, 50), color=(9, 99, 9)))
    library.graph.emulator.faults.force_delta_resync(count=1)
    assert _sync(app) == 2  # the 410, then the whole drive from its Location
    found = _asset(app, asset.id)
    assert (found.version, found.storage_version) == (2, "2.0")
    with app.app_context():  # the next run goes on from the new enumeration's deltaLink
        assert "token=" in db.session.scalar(sa.select(StorageCursor.cursor))
    _sync(app)
    assert len(_events(app, "media_assets", asset.id)) == 2


def test_the_client_raises_a_resync_with_the_location(app, library):
    with app.app_context():
        first = library.outsider.delta()
        assert first.items == [] and first.next_link is None and first.delta_link
        library.graph.emulator.faults.force_delta_resync(count=1, code="resyncChangesUploadDifferences")
        with pytest.raises(GraphResync) as raised:
            library.outsider.delta(first.delta_link)
    assert raised.value.status == 410 and raised.value.code == "resyncChangesUploadDifferences"
    assert raised.value.location.endswith(f"/drives/{library.settings.drive_id}/root/delta")
    before = library.delta_calls()
    with app.app_context(), pytest.raises(GraphError, match="outside Graph"):
        library.outsider.delta("https://attacker.example/v1.0/drives/x/root/delta?token=abc")
    assert library.delta_calls() == before  # the bearer token never left for another host


def test_changes_over_several_pages_and_a_crash_between_them(app, client, editor, library, monkeypatch):
    assets = [_stored(app, client, image("JPEG", size=(30 + i, 30), color=(i, 0, 0)), f"p{i}.jpg") for i in range(3)]
    _sync(app)
    for i, asset in enumerate(assets):
        library.replace(asset.storage_item_id, image("JPEG", size=(40, 40 + i), color=(0, i, 0)))
    monkeypatch.setattr(library.graph.emulator.config, "delta_page_size", 2)
    # The third file is on page 2: SharePoint stops answering about it, the run stops there.
    library.graph.emulator.faults.fail_requests(
        503,
        count=library.settings.attempts,
        retry_after=0,
        path_prefix=f"/v1.0/drives/{library.settings.drive_id}/items/{assets[2].storage_item_id}/versions",
    )
    with pytest.raises(StorageUnavailable):
        _sync(app)  # page 1 applied and saved with its nextLink, page 2 rolled back
    assert [_asset(app, a.id).version for a in assets] == [2, 2, 1]
    assert _sync(app) == 1  # resumed at page 2
    assert [_asset(app, a.id).version for a in assets] == [2, 2, 2]
    assert all(len(_events(app, "media_assets", a.id)) == 2 for a in assets)


def test_nothing_happens_with_the_local_backend(app, media_root):
    assert _sync(app) == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StorageCursor)) == 0
    job = next(job for job in JOBS if job.name == "graph_delta")
    assert app.config[job.interval_key] == 60
    broker = app.extensions["dramatiq"]
    with app.app_context():  # this app's actor: outside a context, `bound` is the one bound last
        queued = f"{broker.namespace}:{sync_library_changes.bound.queue_name}.msgs"
        job.run()
        assert broker.client.hlen(queued) == 0  # nothing enqueued: the local disk has no change feed
        app.config["STORAGE_BACKEND"] = "sharepoint"
        try:
            job.run()
        finally:
            app.config["STORAGE_BACKEND"] = "local"
        assert broker.client.hlen(queued) == 1


# -- on a database of its own: two connections, a real worker ---------------------------------------
@pytest.fixture
def live(servers, graph, tmp_path):
    url = create_migrated_database(servers)
    settings = emulator_settings(graph)
    app = make_test_app(
        servers,
        url,
        MEDIA_ROOT=str(tmp_path),
        DRAMATIQ_NAMESPACE=f"cms-test-{SESSION_TAG}:delta",
        GRAPH_DELTA_INTERVAL_S=60,
        **app_config(settings),
    )
    email = f"editor-{uuid.uuid4().hex[:6]}@example.org"
    with app.app_context():
        accounts.create_user(email, "Live editor", Role.EDITOR, PASSWORD)
        db.session.commit()
    library = Library(graph, settings)
    graph.emulator.faults.clear()
    try:
        yield app, library, email
    finally:
        graph.emulator.faults.clear()
        library.outsider.close()
        app.extensions["dramatiq"].flush_all()
        with app.app_context():
            db.engine.dispose()
        drop_database(servers.database_url, url)


def _signed_in(app, email):
    from tests.conftest import csrf_token

    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 303
    return client


def test_two_runs_at_once_one_does_the_work(live):
    app, library, email = live
    asset = _stored(app, _signed_in(app, email), image("JPEG", size=(80, 60)), "deux.jpg")
    _sync(app)
    library.replace(asset.storage_item_id, image("JPEG", size=(70, 70), color=(5, 5, 250)))
    library.graph.emulator.faults.delay(1.0, path_prefix=f"/v1.0/drives/{library.settings.drive_id}/root/delta")
    results = {}

    def run(label):
        results[label] = _sync(app)

    first = threading.Thread(target=run, args=("first",))
    first.start()
    time.sleep(0.4)  # the first run holds the cursor row while Graph answers slowly
    started = time.monotonic()
    run("second")
    assert results["second"] == 0 and time.monotonic() - started < 0.9  # skipped, not waiting
    first.join(10)
    assert results["first"] == 1
    assert [e.action for e in _events(app, "media_assets", asset.id)] == ["media.uploaded", "media.version_found"]
    assert _asset(app, asset.id).version == 2


def test_the_scheduler_job_has_a_real_worker_sync_the_library(live):
    app, library, email = live
    worker = dramatiq.Worker(app.extensions["dramatiq"], worker_threads=2)
    worker.start()
    try:
        response = upload(_signed_in(app, email), image("JPEG", size=(80, 60)), "travail.jpg")
        asset_id = response.get_json()["id"]
        _wait(lambda: _asset(app, asset_id).status is MediaStatus.READY)  # stored and processed by the worker
        scheduler = Scheduler(app, jobs=tuple(job for job in JOBS if job.name == "graph_delta"))
        # The ticks below stand for a minute apart: the run recorded in Redis (which keeps
        # several schedulers from running a job twice, on Redis's own clock) is forgotten first.
        _forget_last_run(app)
        scheduler.tick(1000.0)
        _wait(lambda: _cursor(app) is not None)  # the baseline
        library.replace(_asset(app, asset_id).storage_item_id, image("JPEG", size=(64, 32), color=(1, 1, 1)))
        assert scheduler.tick(1030.0) == []  # not due yet
        _forget_last_run(app)
        assert scheduler.tick(1060.0) == ["graph_delta"]
        _wait(lambda: _asset(app, asset_id).version == 2 and _asset(app, asset_id).status is MediaStatus.READY)
        assert _asset(app, asset_id).width == 64  # reprocessed by the worker from SharePoint's 2.0
    finally:
        worker.stop()


def _forget_last_run(app) -> None:
    from app.extensions import redis_store
    from app.scheduler import last_run_key

    with app.app_context():
        redis_store.client.delete(last_run_key("graph_delta"))


def _cursor(app) -> str | None:
    with app.app_context():
        return db.session.scalar(sa.select(StorageCursor.cursor))


def _wait(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
