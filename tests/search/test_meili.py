"""Meilisearch engine contract: against the emulator, and a real server with MEILI_TEST_URL.

Settings as docs/external-apis.md §3, filters that user input cannot bend, failed tasks that
raise with their code, documents kept in sync by the actors on a real worker, and the
`flask search` commands that rebuild an index and report its drift.
"""

import json
from datetime import date

import dramatiq
import pytest
import redis

from app import search
from app.extensions import db
from app.models import Campaign, ContentObject, MediaAsset
from app.search import indexing, meili
from app.search.types import SearchRequest
from tests.conftest import make_test_app
from tests.search.conftest import add_asset, committed_search_app, drop_indexes, meili_config, seed_corpus, tag


@pytest.fixture
def meili_app(servers, test_database, meili_servers):
    app = make_test_app(servers, test_database, **meili_config(meili_servers))
    yield app
    drop_indexes(app)


@pytest.fixture
def committed_app(servers, meili_servers):
    with committed_search_app(servers, meili_servers, "search") as app:
        yield app


def test_settings_are_applied_idempotently(meili_app):
    with meili_app.app_context():
        meili.ensure_indexes()
        meili.ensure_indexes()
        admin = meili.client()
        for index, (_, expected) in meili.INDEXES.items():
            uid = meili.index_uid(index)
            assert admin.get_index(uid).primary_key == "id"
            settings = admin.index(uid).get_settings()
            for name, value in expected.items():
                if isinstance(value, dict):
                    assert {k: settings[name][k] for k in value} == value, name
                else:
                    assert settings[name] == value, name


TRICKY = [
    'a" OR kind = "video',
    "back\\slash",
    'ends with \\',
    'salon] OR [x',
    "OR",
    '"',
    '\\"',
    "l'été",
    "NOT (kind = image)",
]


def test_filter_values_cannot_inject_conditions(meili_app):
    with meili_app.app_context():
        meili.ensure_indexes()
        admin = meili.client()
        docs = [
            {
                "id": n,
                "title": f"doc {n}",
                "filename": "f.jpg",
                "description": "",
                "tags": [value],
                "kind": "image",
                "status": "ready",
                "uploader_id": 1,
                "created_at": 0,
                "created_month": "1970-01",
            }
            for n, value in enumerate(TRICKY)
        ]
        docs.append({**docs[0], "id": 99, "tags": ["a"], "kind": "video"})
        meili.wait(admin, admin.index(meili.index_uid("media")).add_documents(docs, "id").task_uid)
        for number, value in enumerate(TRICKY):
            request = SearchRequest.build("media", "", search.MediaFilters(tags=[value]), "relevance", 1, True)
            result = meili.search(request, "Europe/Paris", 5000)
            assert result.ids == [number], (value, meili.filter_expression(request, "UTC"))
        assert meili.quote('a"b\\') == '"a\\"b\\\\"'


def test_a_failed_task_raises_with_its_code(meili_app):
    with meili_app.app_context():
        meili.ensure_indexes()
        admin = meili.client()
        task = admin.index(meili.index_uid("media")).add_documents([{"title": "no id"}])
        with pytest.raises(meili.TaskFailed) as failure:
            meili.wait(admin, task.task_uid)
        assert failure.value.code == "missing_document_id" and not failure.value.transient


def _drain(app):
    broker = app.extensions["dramatiq"]
    broker.join("search", timeout=20_000)


def test_actors_keep_the_index_in_sync(committed_app):
    app = committed_app
    worker = dramatiq.Worker(app.extensions["dramatiq"], worker_threads=1)
    worker.start()
    try:
        with app.app_context():
            corpus = seed_corpus()
            search.schedule_media_sync(db.session, corpus.ids.values())
            db.session.commit()
        _drain(app)
        worker.join()
        with app.app_context():
            result = search.search_media("campgane", search.MediaFilters(kinds=["image"]))
            assert (result.engine, corpus.keys(result.ids)) == ("meilisearch", ["hiring"])
            assert result.facets["kind"] == {"image": 1}
            assert str(result.hits[0].highlights["title"]).startswith("<mark>Campagne</mark>")
            mine = search.MediaFilters(
                uploader_ids=[corpus.uploaders[0]], kinds=["document"], created_from=date(2026, 1, 1)
            )
            result = search.search_media("", mine)
            assert set(corpus.keys(result.ids)) == {"salon", "plan", "press"}
            assert result.facets["uploader"] == {str(corpus.uploaders[0]): 3}

            asset = db.session.get(MediaAsset, corpus.ids["hiring"])
            asset.title = "Campagne bénévoles"
            asset.tags.append(tag("Urgent"))
            search.schedule_media_sync(db.session, [asset.id])
            db.session.delete(db.session.get(MediaAsset, corpus.ids["lights"]))
            search.schedule_media_sync(db.session, [corpus.ids["lights"]])
            db.session.commit()
        _drain(app)
        worker.join()
        with app.app_context():
            assert corpus.keys(search.search_media("urgent").ids) == ["hiring"]
            assert search.search_media("recrutement printemps ").ids == []
            assert search.search_media("illuminations").ids == []
            assert indexing.drift("media").clean

            campaign = Campaign(name="Salon de l'agriculture")
            db.session.add(campaign)
            db.session.flush()
            post = ContentObject(
                campaign_id=campaign.id, title="Teaser du stand", message="Rendez-vous au pavillon 3", status="draft"
            )
            db.session.add(post)
            db.session.flush()
            search.schedule_object_sync(db.session, [post.id])
            db.session.commit()
            campaign_id, post_id = campaign.id, post.id
        _drain(app)
        worker.join()
        with app.app_context():
            found = search.search_objects(
                "agricutlure", search.ObjectFilters(campaign_ids=[campaign_id], statuses=["draft"])
            )
            assert (found.engine, found.ids) == ("meilisearch", [post_id])
            assert found.facets["campaign"] == {str(campaign_id): 1}
            # The board's ids-only form asks Meilisearch for no highlights and no facets.
            assert search.object_ids("pavilon", search.ObjectFilters(campaign_ids=[campaign_id])) == [post_id]
            assert search.engine_status()["engine"] == "meilisearch"
    finally:
        worker.stop()


def test_one_message_per_transaction(committed_app):
    app = committed_app
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    messages = f"{app.extensions['dramatiq'].namespace}:search.msgs"

    def queued():
        return sorted(json.loads(body)["args"][0] for body in client.hvals(messages))

    with app.app_context():
        asset = add_asset("Affiche", "a.jpg")
        search.schedule_media_sync(db.session, [asset.id])
        search.schedule_media_sync(db.session, [asset.id, asset.id + 1])
        db.session.commit()
        assert queued() == [[asset.id, asset.id + 1]]
        search.schedule_media_sync(db.session, [asset.id])
        db.session.rollback()
        search.schedule_media_sync(db.session, [asset.id + 2])
        db.session.commit()
        assert queued() == [[asset.id, asset.id + 1], [asset.id + 2]]
        # A savepoint's release is not the commit: one message still; a close drops what was queued.
        search.schedule_media_sync(db.session, [asset.id + 3])
        with db.session.begin_nested():
            search.schedule_media_sync(db.session, [asset.id + 4])
        search.schedule_media_sync(db.session, [asset.id + 5])
        db.session.commit()
        search.schedule_media_sync(db.session, [asset.id + 6])
        db.session.close()
        search.schedule_media_sync(db.session, [asset.id + 7])
        db.session.commit()
        expected = [
            [asset.id, asset.id + 1],
            [asset.id + 2],
            [asset.id + 3, asset.id + 4, asset.id + 5],
            [asset.id + 7],
        ]
        assert queued() == expected


def test_reindex_and_check_commands(committed_app):
    app = committed_app
    runner = app.test_cli_runner()
    with app.app_context():
        corpus = seed_corpus()
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1 and "missing: 11" in result.output
    result = runner.invoke(args=["search", "reindex", "--batch-size", "4"])
    assert result.exit_code == 0, result.output
    assert "11 documents indexed, 0 removed" in result.output
    assert runner.invoke(args=["search", "check"]).exit_code == 0
    with app.app_context():
        admin = meili.client()
        index = admin.index(meili.index_uid("media"))
        stale = {**indexing.documents("media", [corpus.ids["plan"]])[0], "title": "Old title"}
        extra = {**stale, "id": 424242}
        meili.wait(admin, index.add_documents([stale, extra], "id").task_uid)
        meili.wait(admin, index.delete_document(corpus.ids["team"]).task_uid)
    result = runner.invoke(args=["search", "check", "--index", "media"])
    assert result.exit_code == 1
    assert f"missing: 1 ({corpus.ids['team']})" in result.output
    assert f"stale: 1 ({corpus.ids['plan']})" in result.output
    assert "extra: 1 (424242)" in result.output
    result = runner.invoke(args=["search", "reindex", "--index", "media"])
    assert "11 documents indexed, 1 removed" in result.output
    assert runner.invoke(args=["search", "check"]).exit_code == 0


def test_commands_need_meilisearch(runner):
    result = runner.invoke(args=["search", "setup"])
    assert result.exit_code == 1 and "MEILI_URL is not set" in result.output


def test_alt_text_is_indexed_and_searchable(committed_app):
    with committed_app.app_context():
        asset = add_asset("Affiche du stand", "stand.jpg")
        asset.alt_text = "Une girafe orange devant le pavillon"
        db.session.commit()
        indexing.sync("media", [asset.id])
        assert indexing.documents("media", [asset.id])[0]["alt_text"] == asset.alt_text
        result = search.search_media("girafe")
        assert (result.engine, result.ids) == ("meilisearch", [asset.id])
        assert indexing.drift("media").clean
