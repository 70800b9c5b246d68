"""A whole publication stack for pipeline tests and benchmarks: a database of its own, the app
served on loopback (for Make's callbacks), the Make emulator, a real broker (Redis, or RabbitMQ
with `BROKER_URL`) and workers."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx

from app.auth import service as accounts
from app.extensions import db
from app.models import (
    Campaign,
    CampaignScenario,
    ContentObject,
    ObjectStatus,
    Platform,
    Role,
    ScenarioStatus,
    SocialAccount,
    object_targets,
)
from sandbox.make import MakeEmulatorConfig, create_app as create_make, emulator_of
from sandbox.make.config import Knobs
from sandbox.server import BackgroundServer
from tests.brokers import delete_queues
from tests.conftest import CALLBACK_SECRET, create_migrated_database, drop_database, make_test_app

EXAMPLE_BLUEPRINT = Path(__file__).resolve().parent.parent / "sandbox" / "make" / "blueprint_example.json"
MAKE_TOKEN = str(uuid.UUID(int=7))


class PublishingStack:
    def __init__(self, servers, **config):
        self.servers = servers
        self.database = create_migrated_database(servers)
        # The undo window after an approval (APPROVAL_UNDO_S) is off unless a test asks for it:
        # these tests are about what happens once a publication is due.
        self.app = make_test_app(
            servers,
            self.database,
            PUBLISH_BACKOFF_BASE_S=0.05,
            PUBLISH_BACKOFF_MAX_S=0.2,
            **{"APPROVAL_UNDO_S": 0, **config},
        )
        self.web = BackgroundServer(self.app).start()
        self.app.config["PUBLIC_BASE_URL"] = self.web.url
        self.make_app = create_make(
            MakeEmulatorConfig(tokens=(MAKE_TOKEN,), knobs=Knobs(callback_delay=0.0, break_interval_scale=0.01))
        )
        self.make = BackgroundServer(self.make_app).start()
        self.api = httpx.Client(
            base_url=self.make.url + "/api/v2", headers={"Authorization": f"Token {MAKE_TOKEN}"}, timeout=10
        )

    # -- Make side ------------------------------------------------------------------------
    def provision(self, name: str) -> tuple[int, str]:
        """A hook and an active scenario running the example blueprint with our secret."""
        hook = self.api.post(
            "/hooks",
            json={
                "name": name,
                "teamId": 215,
                "typeName": "gateway-webhook",
                "method": False,
                "headers": False,
                "stringify": False,
            },
        )
        hook = hook.raise_for_status().json()["hook"]
        blueprint = json.loads(EXAMPLE_BLUEPRINT.read_text().replace("CALLBACK_SECRET", CALLBACK_SECRET))
        blueprint["name"] = name
        blueprint["flow"][0]["parameters"]["hook"] = hook["id"]
        scenario = (
            self.api.post(
                "/scenarios",
                params={"confirmed": "true"},
                json={
                    "teamId": 215,
                    "blueprint": json.dumps(blueprint),
                    "scheduling": json.dumps({"type": "immediately"}),
                },
            )
            .raise_for_status()
            .json()["scenario"]
        )
        self.api.post(f"/scenarios/{scenario['id']}/start").raise_for_status()
        return scenario["id"], hook["url"]

    def emulator(self, path: str) -> dict:
        return httpx.get(f"{self.make.url}/_emulator/{path}", timeout=10).json()

    def knobs(self, **values) -> None:
        httpx.post(f"{self.make.url}/_emulator/knobs", json=values, timeout=10).raise_for_status()

    # -- CMS side -------------------------------------------------------------------------
    def seed(self, objects: int, targets: int = 2) -> tuple[int, list[int]]:
        """An approver, a campaign with `targets` ready scenarios, and `objects` in review."""
        with self.app.app_context():
            approver = accounts.create_user(
                f"a{uuid.uuid4().hex[:6]}@example.org", "Approver", Role.APPROVER, "an approver password"
            )
            campaign = Campaign(name="Salon 2026")
            db.session.add(campaign)
            db.session.flush()
            scenario_ids = []
            for n, platform in enumerate(list(Platform)[:targets]):
                account = SocialAccount(
                    platform=platform,
                    label=platform.value,
                    make_connection_id=77,
                    account_identifier=f"{n}{uuid.uuid4().int % 10**12}",
                )
                db.session.add(account)
                db.session.flush()
                make_id, url = self.provision(f"cms-test-c{campaign.id}-a{account.id}-{platform.value}")
                scenario = CampaignScenario(
                    campaign_id=campaign.id,
                    social_account_id=account.id,
                    make_scenario_id=make_id,
                    webhook_url=url,
                    status=ScenarioStatus.READY,
                )
                db.session.add(scenario)
                db.session.flush()
                scenario_ids.append(scenario.id)
            object_ids = []
            for n in range(objects):
                obj = ContentObject(
                    campaign_id=campaign.id, title=f"Post {n}", message=f"Bonjour {n}", status=ObjectStatus.IN_REVIEW
                )
                db.session.add(obj)
                db.session.flush()
                object_ids.append(obj.id)
            db.session.execute(
                object_targets.insert(),
                [{"object_id": o, "campaign_scenario_id": s} for o in object_ids for s in scenario_ids],
            )
            db.session.commit()
            return approver.id, object_ids

    def wait_for(self, predicate, timeout: float, interval: float = 0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"condition not met within {timeout} s")

    def close(self) -> None:
        self.api.close()
        self.make.stop()
        emulator_of(self.make_app).shutdown()
        self.web.stop()
        delete_queues(self.app.extensions["dramatiq"])
        self.app.extensions["dramatiq"].close()  # RabbitMQ: every thread's connection, not left to the collector
        with self.app.app_context():
            db.engine.dispose()
        drop_database(self.servers.database_url, self.database)
