"""The approver's queue on a phone under Chromium's "fast 3G" profile: what a cold and a warm visit
cost in bytes, and how soon the first paint comes. Its own database and server, so the queue
holds exactly the four posts made here whatever else the session committed."""

from __future__ import annotations

import uuid

import pytest
from PIL import Image

from app.auth import service as accounts
from app.extensions import db
from app.models import (
    Campaign,
    CampaignScenario,
    ContentObject,
    ObjectMedia,
    ObjectStatus,
    Platform,
    Role,
    SocialAccount,
    object_targets,
)
from app.storage import media_root
from sandbox.server import BackgroundServer
from tests.conftest import create_migrated_database, drop_database, make_test_app
from tests.e2e.conftest import PASSWORD, PHONE
from tests.objects_support import make_asset

pytestmark = pytest.mark.browser

# Chromium DevTools' "Fast 3G" preset: 150 ms, 1.6 Mbit/s down, 750 kbit/s up (bytes per second).
FAST_3G = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1.6 * 1024 * 1024 / 8 * 0.9,
    "uploadThroughput": 750 * 1024 / 8 * 0.9,
}


@pytest.fixture(scope="module")
def queue_server(servers):
    url = create_migrated_database(servers)
    app = make_test_app(servers, url)
    with app.app_context():
        email = f"approver-{uuid.uuid4().hex[:6]}@example.org"
        accounts.create_user(email, "Agathe", Role.APPROVER, PASSWORD)
        campaign = Campaign(name="Salon")
        account = SocialAccount(
            platform=Platform.INSTAGRAM,
            label="Marque FR",
            make_connection_id=77,
            account_identifier=str(uuid.uuid4().int % 10**15),
        )
        db.session.add_all([campaign, account])
        db.session.flush()
        scenario = CampaignScenario(campaign_id=campaign.id, social_account_id=account.id, status="ready")
        db.session.add(scenario)
        db.session.flush()
        for n in range(4):
            obj = ContentObject(
                campaign_id=campaign.id,
                title=f"Visuel {n + 1}",
                status=ObjectStatus.IN_REVIEW,
                message="Rendez-vous au salon le 12 mars ! #salon2026",
                link="https://example.org/",
            )
            db.session.add(obj)
            db.session.flush()
            db.session.execute(object_targets.insert().values(object_id=obj.id, campaign_scenario_id=scenario.id))
            asset = make_asset(f"Affiche {n + 1}", size=(1080, 1350))
            # A thumbnail as processing makes it (256 px WebP) of a picture with some detail.
            relative = f"derived/speed-{uuid.uuid4().hex}.webp"
            (media_root() / relative).parent.mkdir(parents=True, exist_ok=True)
            picture = Image.radial_gradient("L").resize((256, 320)).convert("RGB")
            picture.save(media_root() / relative, "WEBP", quality=80)
            asset.thumb_path = asset.preview_path = relative
            db.session.add(ObjectMedia(object_id=obj.id, media_asset_id=asset.id, position=0))
        db.session.commit()
    with BackgroundServer(app) as server:
        yield server, email
    with app.app_context():
        db.engine.dispose()
    drop_database(servers.database_url, url)


def _visit(page, cdp, url) -> dict:
    """Load `url`, then the bytes that crossed the (emulated) network, the requests and the first paint."""
    sizes, cached, urls = {}, set(), {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    cdp.on("Network.requestServedFromCache", lambda e: cached.add(e["requestId"]))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    paint = page.evaluate("(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime")
    network = {k: v for k, v in sizes.items() if k not in cached}
    return {
        "bytes": sum(network.values()),
        "requests": len(network),
        "first_paint_ms": paint,
        "sizes": {urls.get(k, k).split("/", 3)[-1]: v for k, v in network.items()},
    }


def test_the_approver_queue_is_light_on_fast_3g(browser, queue_server, screenshot):
    server, email = queue_server
    context = browser.new_context(viewport=PHONE, locale="fr-FR", has_touch=True, is_mobile=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(server.url + "/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(server.url + "/reviews/", timeout=10_000)
    assert page.locator("[data-testid=media-thumb] img").count() == 4

    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")
    cdp.send("Network.emulateNetworkConditions", FAST_3G)
    cold = _visit(page, cdp, server.url + "/reviews/")
    screenshot(page, "speed-queue-cold-phone")
    warm = _visit(page, cdp, server.url + "/reviews/")
    print(f"\nfast 3G queue, 4 cards: cold {cold}, warm {warm}")
    assert page.locator("[data-testid=media-thumb] img").count() == 4
    assert not errors, errors  # the CSP still lets every script and style through
    assert cold["bytes"] < 60_000, cold
    assert warm["bytes"] < 10_000, warm
    assert cold["first_paint_ms"] < 1000, cold
    context.close()
