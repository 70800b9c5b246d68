"""The orphan sweeper: leftovers of dead requests and workers go once old enough; whatever is in
flight (young) or referenced (a transfer row, an asset) stays; SharePoint orphans are listed, and
deleted only when asked. Also: a deletion rolled back keeps the asset's files."""

from __future__ import annotations

import os
import time
import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.media import service, sweeper
from app.models import MediaAsset, User
from app.models.media import MediaTransfer
from app.scheduler import JOBS
from app.tasks.media import store_media, sweep_orphans
from tests.media_support import editor, image, media_root, stored_files, upload  # noqa: F401
from tests.objects_support import make_asset
from tests.graph_support import graph, run, sharepoint, transfer_of  # noqa: F401

DAY = 86400


def _age(path, seconds: float = 2 * DAY):
    """Make `path` (a file, or a folder and everything in it) look `seconds` old."""
    moment = time.time() - seconds
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (moment, moment))
    return path


def _file(path, data: bytes = b"x" * 10):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _asset_with_transfer(app) -> tuple[int, str]:
    with app.app_context():
        asset = make_asset(f"staged {uuid.uuid4().hex[:6]}")
        name = f"{asset.id}-v1"
        db.session.add(
            MediaTransfer(
                asset=asset, version=1, staging_path=f"staging/{name}", item_name=f"{asset.id}-x.jpg", size_bytes=10
            )
        )
        db.session.commit()
        return asset.id, name


def _unused_asset_id(app) -> int:
    with app.app_context():
        return (db.session.scalar(sa.select(sa.func.max(MediaAsset.id))) or 0) + 1000


@pytest.fixture
def leftovers(app, client, editor, media_root):
    """One old and one young orphan of each kind, and old files that are referenced."""
    asset_id = upload(client, image("JPEG"), "kept.jpg").get_json()["id"]
    kept_object = next(media_root.glob("objects/*"))
    staged_id, staged_name = _asset_with_transfer(app)
    gone = _unused_asset_id(app)
    files = {
        "old tmp": _age(_file(media_root / "tmp" / "upload-dead", b"a" * 100)),
        "young tmp": _file(media_root / "tmp" / "upload-running"),
        "foreign tmp": _age(_file(media_root / "tmp" / "notes.txt")),
        "old staging": _age(_file(media_root / "staging" / f"{gone}-v1", b"b" * 200)),
        "young staging": _file(media_root / "staging" / f"{gone}-v3"),
        "transferred staging": _age(_file(media_root / "staging" / staged_name)),
        "old object": _age(_file(media_root / "objects" / uuid.uuid4().hex / "1", b"c" * 300).parent),
        "young object": _file(media_root / "objects" / uuid.uuid4().hex / "1").parent,
        "referenced object": _age(kept_object),
        "old derived": _age(_file(media_root / "derived" / str(gone) / "v1-thumb.webp", b"d" * 400).parent),
        "young derived": _file(media_root / "derived" / str(gone + 1) / "v1-thumb.webp").parent,
        "referenced derived": _age(_file(media_root / "derived" / str(asset_id) / "v1-thumb.webp").parent),
    }
    return files


ORPHANS = {"old tmp", "old staging", "old object", "old derived"}


def test_old_orphans_of_each_kind_go_and_the_rest_stays(app, leftovers):
    with app.app_context():
        report = sweeper.sweep_local()
    assert {name for name, path in leftovers.items() if not path.exists()} == ORPHANS
    counts = {kind: (tally.count, tally.bytes) for kind, tally in report.kinds.items()}
    assert counts == {"tmp": (1, 100), "staging": (1, 200), "objects": (1, 300), "derived": (1, 400)}


def test_a_dry_run_removes_nothing_and_reports_the_same(app, leftovers):
    with app.app_context():
        report = sweeper.sweep_local(dry_run=True)
    assert all(path.exists() for path in leftovers.values())
    assert sum(t.count for t in report.kinds.values()) == len(ORPHANS)


def test_the_minimum_age_is_a_setting(app, leftovers, monkeypatch):
    monkeypatch.setitem(app.config, "MEDIA_ORPHAN_MIN_AGE_S", 3 * DAY)
    with app.app_context():
        sweeper.sweep_local()
    assert all(path.exists() for path in leftovers.values())


def test_a_reader_link_made_now_to_an_old_staged_file_is_kept(app, media_root):
    staged = _age(_file(media_root / "staging" / "999999-v1"))
    reading = staged.with_name(f"{staged.name}.{uuid.uuid4().hex}.reading")
    os.link(staged, reading)  # as transfers.current_file does: the old mtime, a new ctime
    with app.app_context():
        sweeper.sweep_local()
    assert reading.exists() and not staged.exists()


def test_the_cli_prints_the_report(app, runner, leftovers):
    result = runner.invoke(args=["media", "sweep", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "tmp: would remove 1 (100 bytes)" in result.output
    assert "staging: would remove 1 (200 bytes)" in result.output
    assert "sharepoint: not configured, skipped" in result.output
    assert all(path.exists() for path in leftovers.values())
    result = runner.invoke(args=["media", "sweep"])
    assert "objects: removed 1 (300 bytes)" in result.output and not leftovers["old object"].exists()


def test_the_scheduler_sends_the_actor_which_sweeps(app, leftovers):
    """The job puts one message on the real broker's queue of the sweeping actor."""
    job = next(job for job in JOBS if job.name == "sweep_orphans")
    assert job.interval_key == "MEDIA_SWEEP_INTERVAL_S" and app.config[job.interval_key] == 3600
    broker = app.extensions["dramatiq"]
    queued = f"{broker.namespace}:{sweep_orphans.bound.queue_name}.msgs"
    with app.app_context():
        before = set(broker.client.hkeys(queued))
        job.run()
        added = set(broker.client.hkeys(queued)) - before
        assert len(added) == 1
        broker.client.hdel(queued, *added)  # no later test's worker runs it
        broker.client.lrem(queued.removesuffix(".msgs"), 0, *added)
        sweep_orphans()  # as the worker runs it
    assert not leftovers["old derived"].exists() and leftovers["referenced derived"].exists()


# -- deletion ordering -----------------------------------------------------------------------------


def test_a_rolled_back_deletion_keeps_the_files(app, client, editor, media_root):
    asset_id = upload(client, image("PNG"), "keep.png").get_json()["id"]
    _file(media_root / "derived" / str(asset_id) / "v1-thumb.webp")
    before = stored_files(media_root)
    assert len(before) == 2
    with app.app_context():
        asset, user = db.session.get(MediaAsset, asset_id), db.session.get(User, editor.user_id)
        service.delete_asset(asset, user)
        db.session.flush()
        db.session.rollback()  # e.g. the commit failed
        assert db.session.get(MediaAsset, asset_id) is not None
    assert stored_files(media_root) == before
    with app.app_context():
        service.delete_asset(db.session.get(MediaAsset, asset_id), db.session.get(User, editor.user_id))
        assert stored_files(media_root) == before  # nothing goes before the commit
        db.session.commit()
    assert stored_files(media_root) == []


# -- SharePoint ------------------------------------------------------------------------------------


def test_sharepoint_orphans_are_reported_and_deleted_only_when_asked(
    app, client, editor, sharepoint, runner, monkeypatch, tmp_path
):
    from app.integrations.graph import GraphNotFound

    stored_id = upload(client, image("JPEG", size=(40, 30)), "stored.jpg").get_json()["id"]
    run(app, store_media, stored_id)
    pending_id = upload(client, image("JPEG", size=(41, 30)), "pending.jpg").get_json()["id"]
    loose = _file(tmp_path / "loose.jpg", image("PNG"))
    with app.app_context():
        graph_client = sharepoint.client()
        stored = db.session.get(MediaAsset, stored_id).storage_item_id
        orphan = graph_client.upload(loose, name="orphan.jpg")["id"]
        # committed in Graph by an attempt that died before recording it: the retry adopts it
        adoptable = graph_client.upload(loose, name=transfer_of(app, pending_id).item_name)["id"]

    result = runner.invoke(args=["media", "sweep"])  # everything there is younger than a day
    assert result.exit_code == 0, result.output
    assert "sharepoint: 0 item(s)" in result.output

    monkeypatch.setitem(app.config, "MEDIA_ORPHAN_MIN_AGE_S", 0)
    for args in (["media", "sweep"], ["media", "sweep", "--dry-run", "--sharepoint-delete"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
        assert "sharepoint: 1 item(s) of no asset" in result.output and "reported, kept" in result.output
        assert f"orphan.jpg ({orphan}," in result.output and "stored.jpg" not in result.output
    with app.app_context():
        assert graph_client.item(orphan)["id"] == orphan

    result = runner.invoke(args=["media", "sweep", "--sharepoint-delete"])
    assert result.exit_code == 0, result.output
    assert "sharepoint: 1 item(s) of no asset" in result.output and ", deleted" in result.output
    with app.app_context():
        with pytest.raises(GraphNotFound):
            graph_client.item(orphan)
        assert graph_client.item(stored)["id"] == stored
        assert graph_client.item(adoptable)["id"] == adoptable
        for item in (stored, adoptable):
            graph_client.delete(item)


def test_a_sharepoint_folder_not_made_yet_has_no_orphans(app, sharepoint, runner):
    with app.app_context():
        assert sharepoint.client().children() == []
    result = runner.invoke(args=["media", "sweep", "--sharepoint-delete"])
    assert result.exit_code == 0 and "sharepoint: 0 item(s) of no asset" in result.output


def test_a_minimum_age_under_an_hour_is_refused_at_start(servers, test_database):
    from app import ConfigurationError
    from tests.conftest import make_test_app

    with pytest.raises(ConfigurationError, match="MEDIA_ORPHAN_MIN_AGE_S must be at least 3600"):
        make_test_app(servers, test_database, MEDIA_ORPHAN_MIN_AGE_S=60)
