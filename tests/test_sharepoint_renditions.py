"""Renditions of files stored in SharePoint, against the Graph emulator over HTTPS: made from
the item's bytes (downloaded in chunks to a scratch file, never held whole), stored back in
the library's `renditions` subfolder (not among the library's own files, and not taken for one
by the change feed), served at their signed link with ranges, swept once their asset is gone,
and kept pending through a Graph outage until they are made (docs/external-apis.md §2)."""

from __future__ import annotations

import io
import json
import time

import pytest
import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.integrations.graph import GraphNotFound
from app.media import graph_sync, sweeper
from app.media.links import signed_rendition_url
from app.models import MediaAsset, MediaStatus, Platform, Rendition, RenditionStatus
from app.renditions import service
from app.storage import StorageUnavailable, sharepoint as sp
from app.tasks.media import discard_media, process_media, store_media
from app.renditions.tasks import make_rendition
from tests.conftest import PASSWORD, csrf_token
from tests.graph_support import asset_of, graph, live_stack, run, sharepoint  # noqa: F401
from tests.media_live import signed_in
from tests.media_support import EN, editor, media_root, noisy_jpeg, upload, video  # noqa: F401


def _stored_photo(app, client, data: bytes, name: str) -> int:
    asset_id = upload(client, data, name).get_json()["id"]
    run(app, store_media, asset_id)
    run(app, process_media, asset_id)
    assert asset_of(app, asset_id).status is MediaStatus.READY
    return asset_id


def _request(app, asset_id, platform=Platform.INSTAGRAM) -> int:
    with app.app_context():
        rendition = service.request(db.session.get(MediaAsset, asset_id), platform)
        db.session.commit()
        return rendition.id


def _rendition(app, rendition_id) -> Rendition:
    with app.app_context():
        found = db.session.get(Rendition, rendition_id)
        db.session.expunge_all()
        return found


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_a_photo_in_sharepoint_gets_its_rendition_stored_beside_the_library_not_in_it(app, client, editor, sharepoint):
    data = noisy_jpeg((600, 300))  # wider than Instagram's 1.91:1: cropped
    asset_id = _stored_photo(app, client, data, "paysage.jpg")
    with app.app_context():
        assert graph_sync.sync() == 1  # the change feed's baseline: from now on
        library = {item["id"] for item in sharepoint.client().children()}
    rendition_id = _request(app, asset_id)
    sharepoint.graph.emulator.counters.reset()
    run(app, make_rendition, rendition_id)
    rendition = _rendition(app, rendition_id)
    assert rendition.status is RenditionStatus.READY, rendition.failure_reason
    assert rendition.storage_backend.value == "sharepoint" and rendition.storage_version == "1.0"
    assert (rendition.width, rendition.height) == (573, 300) and rendition.mime == "image/jpeg"
    requests = sharepoint.counters()["requests"]
    # The original's version read once (streamed in chunks to a scratch file), the rendition put once.
    assert requests["GET item/version/content"] == requests["GET blobs.download"] == 1, requests

    with app.app_context():
        graph_client = sharepoint.client()
        # The library's folder shows its own files and one subfolder, `renditions`: no rendition.
        files = {item["id"] for item in graph_client.children() if "file" in item}
        folders = [item["name"] for item in graph_client.children() if "folder" in item]
        assert files == library and folders == ["renditions"]
        derived = sp.derived_client(graph_client)
        [item] = derived.children()
        assert item["id"] == rendition.storage_item_id and item["name"] == f"rendition-{rendition_id}-instagram.jpg"
        assert derived.settings.folder == f"{graph_client.settings.folder}/renditions"
        # The change feed lists the new item, and records nothing: it is no asset's file.
        assets_before = db.session.scalar(sa.select(sa.func.count()).select_from(MediaAsset))
        assert graph_sync.sync() >= 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MediaAsset)) == assets_before
    asset = asset_of(app, asset_id)
    assert asset.version == 1 and asset.status is MediaStatus.READY and asset.storage_version == "1.0"

    # The link the payload carries serves the rendition's bytes from SharePoint, ranges too.
    with app.test_request_context():
        from app.publishing.payload import _media

        item = _media(db.session.get(MediaAsset, asset_id), Platform.INSTAGRAM)
        stored = b"".join(sp.derived_client(sharepoint.client()).download(rendition.storage_item_id))
    # The same signed link but for its timestamp (the two may be made a second apart).
    assert _unstamped(item["url"]) == _unstamped(signed_rendition_url_of(app, rendition_id))
    assert item["size"] == len(stored)
    web = app.test_client()
    whole = web.get(_path(item["url"]))
    assert whole.status_code == 200 and whole.data == stored and whole.headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(whole.data)) as picture:
        assert picture.size == (573, 300)
    part = web.get(_path(item["url"]), headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.data == stored[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(stored)}"
    tail = web.get(_path(item["url"]), headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.data == stored[-10:]


def _unstamped(url: str) -> str:
    """A signed link without its timestamp and signature: `…/<payload>.<timestamp>.<signature>`."""
    base, token = url.rsplit("/", 1)
    return f"{base}/{token.split('.')[0]}"


def signed_rendition_url_of(app, rendition_id) -> str:
    with app.test_request_context():
        return signed_rendition_url(db.session.get(Rendition, rendition_id))


def test_a_rendition_made_twice_replaces_its_own_file(app, client, editor, sharepoint):
    """A worker that stored the file but died before recording it: the retry stores it again
    under the same name (the name is the CMS's own), one item, not a refusal."""
    asset_id = _stored_photo(app, client, noisy_jpeg((300, 300)), "carre.jpg")
    rendition_id = _request(app, asset_id, Platform.FACEBOOK)
    run(app, make_rendition, rendition_id)
    first = _rendition(app, rendition_id)
    with app.app_context():
        db.session.execute(
            sa.update(Rendition)
            .where(Rendition.id == rendition_id)
            .values(status=RenditionStatus.PENDING, storage_item_id=None, storage_version=None)
        )
        db.session.commit()
    run(app, make_rendition, rendition_id)
    again = _rendition(app, rendition_id)
    assert again.status is RenditionStatus.READY and again.storage_item_id == first.storage_item_id
    assert again.storage_version == "2.0"
    with app.app_context():
        assert len(sp.derived_client(sharepoint.client()).children()) == 1


def test_a_short_video_in_sharepoint_gets_its_mp4_rendition_served_from_there(app, client, editor, sharepoint):
    clip = video(size=(320, 180), fps=25, frames=25)  # one second
    asset_id = _stored_photo(app, client, clip, "clip.mp4")
    rendition_id = _request(app, asset_id, Platform.FACEBOOK)
    run(app, make_rendition, rendition_id)
    rendition = _rendition(app, rendition_id)
    assert rendition.status is RenditionStatus.READY, rendition.failure_reason
    assert rendition.mime == "video/mp4" and (rendition.width, rendition.height) == (320, 180)
    with app.app_context():
        [item] = sp.derived_client(sharepoint.client()).children()
        assert item["name"] == f"rendition-{rendition_id}-facebook.mp4"
    url = _path(signed_rendition_url_of(app, rendition_id))
    whole = app.test_client().get(url)
    assert whole.status_code == 200 and len(whole.data) == rendition.size_bytes
    assert whole.data.index(b"moov") < whole.data.index(b"mdat")  # faststart, as stored
    part = app.test_client().get(url, headers={"Range": f"bytes={rendition.size_bytes - 100}-"})
    assert part.status_code == 206 and part.data == whole.data[-100:]


def test_the_rendition_of_a_deleted_asset_is_swept_as_an_orphan(app, client, editor, sharepoint, runner, monkeypatch):
    asset_id = _stored_photo(app, client, noisy_jpeg((200, 150)), "parti.jpg")
    rendition_id = _request(app, asset_id)
    run(app, make_rendition, rendition_id)
    rendition = _rendition(app, rendition_id)
    monkeypatch.setitem(app.config, "MEDIA_ORPHAN_MIN_AGE_S", 0)
    with app.app_context():
        assert sweeper.sharepoint_orphans(sharepoint.client()) == []  # its row holds it
    item_id = asset_of(app, asset_id).storage_item_id
    response = client.post(f"/media/{asset_id}/delete", data={"csrf_token": csrf_token(client, f"/media/{asset_id}")})
    assert response.status_code == 303
    run(app, discard_media, asset_id, "sharepoint", item_id)
    assert _rendition(app, rendition_id) is None  # its row went with the asset
    with app.app_context():
        orphans = sweeper.sharepoint_orphans(sharepoint.client())
    assert [item["id"] for item in orphans] == [rendition.storage_item_id]
    result = runner.invoke(args=["media", "sweep"])
    assert "sharepoint: 1 item(s) of no asset" in result.output and "reported, kept" in result.output
    result = runner.invoke(args=["media", "sweep", "--sharepoint-delete"])
    assert "sharepoint: 1 item(s) of no asset" in result.output and ", deleted" in result.output
    with app.app_context(), pytest.raises(GraphNotFound):
        sharepoint.client().item(rendition.storage_item_id)


def test_the_hourly_sweep_deletes_rendition_orphans_and_leaves_the_library_folder_alone(
    app, client, editor, sharepoint, monkeypatch, tmp_path
):
    kept_id = _stored_photo(app, client, noisy_jpeg((220, 160)), "garde.jpg")
    gone_id = _stored_photo(app, client, noisy_jpeg((200, 150)), "parti.jpg")
    kept, gone = (_request(app, asset_id) for asset_id in (kept_id, gone_id))
    for rendition_id in (kept, gone):
        run(app, make_rendition, rendition_id)
    kept_item, gone_item = (_rendition(app, r).storage_item_id for r in (kept, gone))
    team_file = tmp_path / "notes.txt"
    team_file.write_text("le fichier d'une personne de l'équipe")
    with app.app_context():  # a file somebody keeps in the library folder: never ours to delete
        from app.models import StorageBackend
        from app.storage import get_storage

        team_item = get_storage(StorageBackend.SHAREPOINT).put(team_file, name="notes-equipe.txt").ref
    item_id = asset_of(app, gone_id).storage_item_id
    response = client.post(f"/media/{gone_id}/delete", data={"csrf_token": csrf_token(client, f"/media/{gone_id}")})
    assert response.status_code == 303
    run(app, discard_media, gone_id, "sharepoint", item_id)

    # The scheduler's sweep job sends the Graph sweep beside the local one, on the graph queue.
    from app.scheduler import JOBS
    from app.tasks.media import sweep_sharepoint_renditions

    broker = app.extensions["dramatiq"]
    with app.app_context():
        queued = f"{broker.namespace}:{sweep_sharepoint_renditions.bound.queue_name}.msgs"
        next(job for job in JOBS if job.name == "sweep_orphans").run()
        sent = [json.loads(body)["actor_name"] for body in broker.client.hvals(queued)]
        assert sweep_sharepoint_renditions.bound.queue_name == "graph"
        assert sent.count("sweep_sharepoint_renditions") == 1 and "sweep_orphans" not in sent  # local: default queue

    run(app, sweep_sharepoint_renditions)  # younger than MEDIA_ORPHAN_MIN_AGE_S (24 h): kept
    with app.app_context():
        sharepoint.client().item(gone_item)
    monkeypatch.setitem(app.config, "MEDIA_ORPHAN_MIN_AGE_S", 0)
    run(app, sweep_sharepoint_renditions)
    with app.app_context():
        client_ = sharepoint.client()
        with pytest.raises(GraphNotFound):
            client_.item(gone_item)
        assert client_.item(kept_item)["id"] == kept_item  # its row holds it
        assert client_.item(team_item)["name"] == "notes-equipe.txt"  # the library folder: reported only
        assert [item["id"] for item in sweeper.sharepoint_orphans(client_)] == [team_item]


def test_a_graph_outage_leaves_the_rendition_pending_then_it_is_made(app, client, editor, sharepoint):
    asset_id = _stored_photo(app, client, noisy_jpeg((200, 150)), "orage.jpg")
    rendition_id = _request(app, asset_id)
    sharepoint.faults.fail_requests(503, count=5, retry_after=0)  # every attempt of one call
    with pytest.raises(StorageUnavailable):
        run(app, make_rendition, rendition_id)
    rendition = _rendition(app, rendition_id)
    assert rendition.status is RenditionStatus.PENDING  # why it waits, not a failure
    assert "503" in rendition.failure_reason
    sharepoint.faults.fail_requests(429, count=5, retry_after=0)
    with pytest.raises(StorageUnavailable):
        run(app, make_rendition, rendition_id)
    run(app, make_rendition, rendition_id)  # Graph is back
    rendition = _rendition(app, rendition_id)
    assert rendition.status is RenditionStatus.READY and rendition.failure_reason is None
    assert sharepoint.counters()["faults_served"] == {"503": 5, "429": 5}


def test_the_actor_retries_transient_storage_errors_without_end_and_others_three_times():
    from app.storage import StorageError
    from app.renditions.tasks import retry_rendition

    assert retry_rendition(500, StorageUnavailable("503 serviceNotAvailable"))
    assert retry_rendition(2, StorageError("403 accessDenied")) and not retry_rendition(3, StorageError("403"))


# -- over real sockets, with a real worker --------------------------------------------------------
@pytest.fixture
def live(servers, graph, tmp_path):
    with live_stack(servers, graph, tmp_path, "spr") as stack:
        yield stack


def _wait(check, seconds: float):
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.2)
    return check()


def test_a_real_worker_makes_the_rendition_through_throttling_respecting_retry_after(live, graph):
    app, web, email = live
    data = noisy_jpeg((400, 300))
    http, token = signed_in(web.url, email, PASSWORD)
    response = http.post(
        "/media/upload",
        content=data,
        headers={
            "Content-Type": "application/octet-stream",
            "X-Filename": "live.jpg",
            "X-CSRFToken": token,
            "Accept": "application/json",
            **EN,
        },
    )
    assert response.status_code == 200, response.text
    asset_id = response.json()["id"]
    assert _wait(lambda: asset_of(app, asset_id).status is not MediaStatus.PROCESSING, 60)
    assert asset_of(app, asset_id).status is MediaStatus.READY
    graph.emulator.counters.reset()
    graph.emulator.faults.fail_requests(429, count=6, retry_after=1)  # five for the first try, one after
    started = time.monotonic()
    rendition_id = _request(app, asset_id)
    assert _wait(lambda: _rendition(app, rendition_id).failure_reason is not None, 30)
    assert _rendition(app, rendition_id).status is RenditionStatus.PENDING  # throttled: waiting, not failed
    assert _wait(lambda: _rendition(app, rendition_id).status is not RenditionStatus.PENDING, 60)
    elapsed = time.monotonic() - started
    rendition = _rendition(app, rendition_id)
    assert rendition.status is RenditionStatus.READY, rendition.failure_reason
    assert graph.emulator.counters.snapshot()["faults_served"] == {"429": 6}
    assert elapsed >= 5  # the client waited Retry-After (1 s) after each 429 but the try's last
    link = http.get(_path(signed_rendition_url_of(app, rendition_id)), headers={"Range": "bytes=0-2"})
    assert link.status_code == 206 and link.content == b"\xff\xd8\xff"
    http.close()
