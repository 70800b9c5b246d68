"""Nothing stays stuck, on the real stack: a broker that cannot take the message after the
commit is logged and the request answers as done (the change was committed); the recovery job
re-sends the message of rows left waiting (media processing, SharePoint store, provisioning,
account test), once per RECOVERY_AFTER_S, never for a store whose lease is alive."""

import logging
import socket
from contextlib import contextmanager
from datetime import timedelta

import pytest
import redis
import sqlalchemy as sa
from dramatiq.brokers.redis import RedisBroker

from app import recovery
from app.extensions import db
from app.models import (
    AccountTestStatus,
    Campaign,
    CampaignScenario,
    MediaAsset,
    MediaStatus,
    Platform,
    ScenarioStatus,
    SocialAccount,
)
from app.models.base import utcnow
from app.models.media import MediaTransfer
from app.platforms import service as accounts
from app.tasks import _declared, queue_counts
from tests.conftest import csrf_token
from tests.media_support import editor, image, media_root, upload  # noqa: F401


@contextmanager
def broker_down(app):
    """The app's actors bound to a Redis broker on a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = RedisBroker(
        client=redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5, socket_timeout=0.5),
        namespace="nowhere",
    )
    real = app.extensions["dramatiq_actors"]
    app.extensions["dramatiq_actors"] = {lazy.actor_name: lazy.bind(dead) for lazy in _declared}
    try:
        yield
    finally:
        app.extensions["dramatiq_actors"] = real
        for lazy in _declared:
            lazy._bound = real[lazy.actor_name]


def waiting(app, queue: str = "default") -> int:
    with app.app_context():
        return queue_counts()[queue][0]


def resend(app) -> dict:
    with app.app_context():
        return {kind: n for kind, n in recovery.resend_stuck().items() if n}


def not_sent_logged(caplog, actor_name: str) -> bool:
    return any(
        r.levelno == logging.ERROR and "not sent after the commit" in r.getMessage() and actor_name in r.getMessage()
        for r in caplog.records
    )


@pytest.fixture
def admin(client, auth):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    auth.login("admin")
    return client


def _account(app, **values) -> int:
    with app.app_context():
        account = accounts.create_account(
            Platform.FACEBOOK,
            label="FB",
            make_connection_id=78,
            account_identifier="104857600000001",
            template_scenario_id=None,
        )
        for name, value in values.items():
            setattr(account, name, value)
        db.session.commit()
        return account.id


def test_an_account_test_asked_while_the_broker_is_down_answers_as_done_and_is_resent(app, admin, caplog, monkeypatch):
    account_id = _account(app)
    token = csrf_token(admin, "/platforms/")
    with broker_down(app):
        row = admin.post(f"/platforms/{account_id}/test", headers={"HX-Request": "true"}, data={"csrf_token": token})
    assert row.status_code == 200 and "Testing in Make" in row.get_data(as_text=True)
    assert not_sent_logged(caplog, "test_social_account")
    with app.app_context():
        assert db.session.get(SocialAccount, account_id).test_status is AccountTestStatus.PENDING
    before = waiting(app)
    assert resend(app) == {}  # not waiting long enough yet (RECOVERY_AFTER_S: 15 min)
    monkeypatch.setitem(app.config, "RECOVERY_AFTER_S", 0)
    assert resend(app) == {"account_test": 1}
    assert waiting(app) == before + 1
    monkeypatch.setitem(app.config, "RECOVERY_AFTER_S", 1)
    assert resend(app) == {}  # re-sent once per RECOVERY_AFTER_S, not every run


def test_an_upload_while_the_broker_is_down_is_kept_and_its_processing_resent(
    app, client, editor, media_root, caplog, monkeypatch
):
    with broker_down(app):
        response = upload(client, image("PNG"), "down.png")
    assert response.status_code == 200 and response.get_json()["duplicate"] is False
    asset_id = response.get_json()["id"]
    assert not_sent_logged(caplog, "process_media")
    with app.app_context():
        assert db.session.get(MediaAsset, asset_id).status is MediaStatus.PROCESSING
    monkeypatch.setitem(app.config, "RECOVERY_AFTER_S", 0)
    before = waiting(app)
    assert resend(app) == {"media_processing": 1}
    assert waiting(app) == before + 1
    from app.tasks.media import process_media

    with app.app_context():  # what the re-sent message does
        process_media(asset_id)
        assert db.session.get(MediaAsset, asset_id).status is MediaStatus.READY
    monkeypatch.setitem(app.config, "RECOVERY_AFTER_S", 0)
    assert resend(app) == {}


def test_a_store_not_progressing_is_resent_and_one_under_a_live_lease_is_not(
    app, client, editor, media_root, monkeypatch
):
    ids = [upload(client, image("PNG", color=(n, 9, 9)), f"s{n}.png").get_json()["id"] for n in (1, 2)]
    with app.app_context():
        for n, asset_id in enumerate(ids):
            db.session.get(MediaAsset, asset_id).status = MediaStatus.PROCESSING
            db.session.add(
                MediaTransfer(
                    asset_id=asset_id,
                    version=1,
                    staging_path=f"staging/{asset_id}",
                    item_name=f"s{n}.png",
                    size_bytes=10,
                    claimed_until=utcnow() + timedelta(minutes=10) if n else None,
                )
            )
        # processing done (previews made): only the store waits
        db.session.execute(sa.update(MediaAsset).where(MediaAsset.id.in_(ids)).values(thumb_path="x/v1-t.webp"))
        db.session.commit()
    monkeypatch.setitem(app.config, "RECOVERY_AFTER_S", 0)
    assert resend(app) == {"media_store": 1}
    with app.app_context():
        db.session.execute(sa.update(MediaTransfer).values(claimed_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert resend(app) == {"media_store": 1}  # the lease lapsed: the other one now


def _scenario(status, **values) -> CampaignScenario:
    """A campaign scenario of a new campaign on a new account, flushed (the caller commits)."""
    account = accounts.create_account(
        Platform.FACEBOOK,
        label="FB",
        make_connection_id=78,
        account_identifier="104857600000001",
        template_scenario_id=None,
    )
    campaign = Campaign(name="Salon")
    db.session.add(campaign)
    db.session.flush()
    scenario = CampaignScenario(campaign_id=campaign.id, social_account_id=account.id, status=status, **values)
    db.session.add(scenario)
    db.session.flush()
    return scenario


def test_a_scenario_left_provisioning_is_resent(app, monkeypatch):
    with app.app_context():
        stuck_id = _scenario(ScenarioStatus.PROVISIONING).id
        db.session.commit()
    monkeypatch.setitem(app.config, "RECOVERY_AFTER_S", 0)
    before = waiting(app)
    assert resend(app) == {"provisioning": 1}
    assert waiting(app) == before + 1
    with app.app_context():
        db.session.get(CampaignScenario, stuck_id).status = ScenarioStatus.READY
        db.session.commit()
    with app.app_context():
        app.extensions["redis"] if False else None
    monkeypatch.setitem(app.config, "RECOVERY_AFTER_S", 0)
    assert resend(app) == {}


# -- Lock order: post, then publication, in every writer ---------------------------------------


@pytest.fixture
def committed_app(servers):
    """An app on a database of its own whose rows are really committed (two connections see them)."""
    from tests.conftest import create_migrated_database, drop_database, make_test_app

    database = create_migrated_database(servers)
    app = make_test_app(servers, database)
    yield app
    with app.app_context():
        db.engine.dispose()
    drop_database(servers.database_url, database)


def _post_with_publication(app, status) -> tuple[int, int]:
    from app.models import ContentObject, ObjectStatus, Publication

    with app.app_context():
        scenario = _scenario(ScenarioStatus.READY, webhook_url="https://hook.example.org/x")
        obj = ContentObject(
            campaign_id=scenario.campaign_id, title="Post", message="Bonjour", status=ObjectStatus.PUBLISHING
        )
        db.session.add(obj)
        db.session.flush()
        publication = Publication(
            object_id=obj.id,
            campaign_scenario_id=scenario.id,
            generation=1,
            idempotency_key=f"o{obj.id}-s{scenario.id}-g1",
            fingerprint="f",
            status=status,
            attempts=1,
            sent_at=utcnow() - timedelta(hours=2),
        )
        db.session.add(publication)
        db.session.commit()
        return obj.id, publication.id


@pytest.mark.parametrize("action", ["retry", "settle", "sweep_stuck"])
def test_manual_actions_and_the_sweep_lock_the_post_first_and_never_deadlock_with_a_writer(committed_app, action):
    """A writer in the order of the others (post, then publication, as a callback or a send
    does) holds the post; the action starts meanwhile. Locking the publication first (the old
    order) and then waiting for the post deadlocks as soon as the writer reaches for the
    publication: PostgreSQL aborts one of the two. In the right order the action waits, then runs."""
    import threading
    import time

    from app.models import Publication, PublicationStatus
    from app.publishing import manual, relay

    app = committed_app
    app.config["PUBLISH_CALLBACK_TIMEOUT_S"] = 60
    status = PublicationStatus.SENT if action == "sweep_stuck" else PublicationStatus.UNKNOWN
    object_id, publication_id = _post_with_publication(app, status)
    errors, held = [], threading.Event()

    def writer():
        try:
            with engine.connect() as conn, conn.begin():
                conn.execute(sa.text("SET lock_timeout = '10s'"))
                conn.execute(sa.text("SELECT id FROM content_objects WHERE id = :id FOR UPDATE"), {"id": object_id})
                held.set()
                time.sleep(1.0)  # the action starts and takes what it takes first
                conn.execute(sa.text("SELECT id FROM publications WHERE id = :id FOR UPDATE"), {"id": publication_id})
        except Exception as exc:
            errors.append(exc)

    with app.app_context():
        engine = db.engine
        thread = threading.Thread(target=writer)
        thread.start()
        held.wait(10)
        try:
            if action == "retry":
                manual.retry(publication_id, actor=None)
            elif action == "settle":
                manual.settle(publication_id, published=False, actor=None, reason="checked")
            else:
                assert relay.sweep_stuck() == 1
            db.session.commit()
        except Exception as exc:
            errors.append(exc)
            db.session.rollback()
        thread.join(30)
        assert errors == []
        expected = {
            "retry": PublicationStatus.PENDING,
            "settle": PublicationStatus.FAILED,
            "sweep_stuck": PublicationStatus.UNKNOWN,
        }[action]
        assert db.session.get(Publication, publication_id).status is expected


def test_a_rendition_left_pending_past_its_time_limit_is_resent(app, client, editor, media_root, monkeypatch):
    from app.models import Rendition, RenditionStatus

    asset_id = upload(client, image("PNG", color=(3, 4, 5)), "r.png").get_json()["id"]
    old = utcnow() - timedelta(seconds=app.config["RENDITION_TIMEOUT_S"] + 120)
    with app.app_context():
        asset = db.session.get(MediaAsset, asset_id)
        asset.status = MediaStatus.READY  # processed: only its renditions wait
        for platform, updated in (("instagram-x", old), ("facebook-x", utcnow())):
            db.session.add(
                Rendition(
                    asset_id=asset_id,
                    asset_version=asset.version,
                    profile=platform,
                    status=RenditionStatus.PENDING,
                    storage_backend=asset.storage_backend,
                    created_at=updated,
                    updated_at=updated,
                )
            )
        db.session.commit()
    monkeypatch.setitem(app.config, "RECOVERY_AFTER_S", 0)
    before = waiting(app, "renditions")
    # the recent one may still be in the making (RENDITION_TIMEOUT_S): only the old one goes again
    assert resend(app) == {"rendition": 1}
    assert waiting(app, "renditions") == before + 1
