"""Writers tell the search index what changed (Meilisearch only: PostgreSQL's own triggers keep
its index current). Media calls `schedule_media_sync` itself; content objects are scheduled by
the session listeners of `app.search.wiring`, whatever code path changed them. Checked on the
real broker (the message leaves after the commit) and, with a real worker, in the Meilisearch
emulator's documents."""

import json
import uuid

import dramatiq
import pytest
import redis

from app.auth import service as accounts
from app.campaigns import objects, service as campaigns
from app.extensions import db
from app.models import Campaign, ContentObject, ObjectStatus, Platform, Role
from app.search import indexing, tasks
from app import workflow
from tests.media_support import editor, image, media_root, upload  # noqa: F401  (fixtures)
from tests.objects_support import seed_campaign
from tests.search.conftest import committed_search_app


def _sync_messages(app, index="media") -> list[dict]:
    broker = app.extensions["dramatiq"]
    queue = tasks.SYNC_ACTORS[index].bound.queue_name
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    return [json.loads(raw) for raw in client.hvals(f"{broker.namespace}:{queue}.msgs")]


def _scheduled(app, index="objects") -> set[int]:
    """The ids of every queued sync message of this index."""
    return {
        i for m in _sync_messages(app) if m["actor_name"] == tasks.SYNC_ACTORS[index].actor_name for i in m["args"][0]
    }


def test_an_upload_schedules_its_sync_after_commit(app, client, editor, media_root, monkeypatch):
    monkeypatch.setitem(app.config, "MEILI_URL", "http://127.0.0.1:9")  # configured; not called here
    asset_id = upload(client, image("PNG", color=(1, 2, 3)), "sync.png").get_json()["id"]
    messages = _sync_messages(app)
    assert any(asset_id in m["args"][0] for m in messages), messages
    app.extensions["dramatiq"].flush_all()


def test_without_meilisearch_nothing_is_scheduled(app, client, editor, media_root):
    app.extensions["dramatiq"].flush_all()
    upload(client, image("PNG", color=(3, 2, 1)), "nosync.png")
    with app.app_context():
        seed = seed_campaign(media=0)
        objects.create_object(
            db.session.get(Campaign, seed.campaign_id),
            title="Quiet",
            message="",
            link=None,
            media=[],
            targets=[],
            scheduled_at=None,
            actor=None,
        )
        db.session.commit()
    assert _sync_messages(app) == []


def _user(role: Role):
    return accounts.create_user(f"{role.value}-{uuid.uuid4().hex[:6]}@example.org", role.value, role)


def _edit(obj, actor, **changes):
    values = {
        "title": obj.title,
        "message": obj.message,
        "link": obj.link,
        "media": [],
        "targets": objects.target_ids(obj),
        "scheduled_at": obj.scheduled_at,
        **changes,
    }
    return objects.update_object(obj, actor=actor, **values)


def test_each_object_change_schedules_its_sync_after_commit(app, monkeypatch):
    """Create, edit, a targets-only edit, a status change, a rename of the campaign, a deletion:
    each commit queues one message naming the objects concerned, and a rollback none."""
    monkeypatch.setitem(app.config, "MEILI_URL", "http://127.0.0.1:9")  # configured; not called here
    broker = app.extensions["dramatiq"]
    broker.flush_all()
    with app.app_context():
        seed = seed_campaign(media=0)
        campaign, author = db.session.get(Campaign, seed.campaign_id), _user(Role.EDITOR)
        db.session.commit()
        assert _scheduled(app) == set()  # a campaign without objects: nothing to index

        def after_commit(change) -> set[int]:
            broker.flush_all()
            change()
            db.session.commit()
            return _scheduled(app)

        made = []
        assert after_commit(
            lambda: made.extend(
                objects.create_object(
                    campaign,
                    title=t,
                    message="",
                    link=None,
                    media=[],
                    scheduled_at=None,
                    targets=[seed.scenarios["instagram"]],
                    actor=author,
                ).id
                for t in ("One", "Two")
            )
        ) == set(made)
        first, second = (db.session.get(ContentObject, i) for i in made)
        assert after_commit(lambda: _edit(first, author, title="One, edited")) == {first.id}
        assert after_commit(lambda: _edit(first, author, targets=[seed.scenarios["linkedin"]])) == {first.id}
        assert after_commit(lambda: workflow.transition(second, ObjectStatus.IN_REVIEW, actor=author)) == {second.id}
        assert after_commit(
            lambda: campaigns.update_campaign(
                campaign,
                name="Salon 2027",
                description="",
                starts_on=None,
                ends_on=None,
                account_ids=campaigns.target_ids(campaign),
                actor=author,
            )
        ) == {first.id, second.id}
        assert after_commit(lambda: db.session.delete(second)) == {second.id}

        broker.flush_all()
        first.title = "Rolled back"
        db.session.flush()
        db.session.rollback()
        db.session.commit()
        assert _scheduled(app) == set()
    broker.flush_all()


@pytest.fixture
def committed_app(servers, meili):
    """Committed data, fresh indexes and a real worker on the search queue."""
    with committed_search_app(servers, meili, "wiring") as app:
        worker = dramatiq.Worker(app.extensions["dramatiq"], queues={"search"}, worker_threads=1)
        worker.start()
        try:
            yield app
        finally:
            worker.stop()


def _indexed(app) -> dict[int, dict]:
    """Wait for the worker, then the documents of the objects index, by id."""
    app.extensions["dramatiq"].join("search", timeout=20_000)
    with app.app_context():
        from app.search import meili

        return {int(d["id"]): d for d in indexing.index_documents(meili.client(), "objects")}


def test_the_index_follows_the_objects_through_the_real_code_paths(committed_app):
    app = committed_app
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.LINKEDIN), extra_statuses=(), media=0)
        campaign, author = db.session.get(Campaign, seed.campaign_id), _user(Role.EDITOR)
        post = objects.create_object(
            campaign,
            title="Teaser du stand",
            message="Pavillon 3",
            link=None,
            media=[],
            targets=[seed.scenarios["instagram"]],
            scheduled_at=None,
            actor=author,
        )
        db.session.commit()
        post_id = post.id
    documents = _indexed(app)
    assert documents[post_id]["title"] == "Teaser du stand"
    assert (documents[post_id]["status"], documents[post_id]["platforms"]) == ("draft", ["instagram"])

    with app.app_context():
        post = db.session.get(ContentObject, post_id)
        author = db.session.get(type(author), post.author_id)
        _edit(post, author, title="Teaser du grand stand", targets=list(seed.scenarios.values()))
        workflow.transition(post, ObjectStatus.IN_REVIEW, actor=author)
        campaign = db.session.get(Campaign, seed.campaign_id)
        campaigns.update_campaign(
            campaign,
            name="Foire de Paris",
            description="",
            starts_on=None,
            ends_on=None,
            account_ids=campaigns.target_ids(campaign),
            actor=author,
        )
        db.session.commit()
    document = _indexed(app)[post_id]
    assert (document["title"], document["status"]) == ("Teaser du grand stand", "in_review")
    assert (document["platforms"], document["campaign_name"]) == (["instagram", "linkedin"], "Foire de Paris")

    with app.app_context():
        db.session.delete(db.session.get(ContentObject, post_id))
        db.session.commit()
        assert _indexed(app) == {}
        assert indexing.drift("objects").clean
