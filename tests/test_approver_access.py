"""Approvers read what they review: the campaign page (no drafts, no controls), the calendar,
and the assets of the posts submitted to them (page, thumbnail, preview, file); not the library,
not an asset used only by drafts or by nothing (404, as a missing id). Every link on every page
an approver reaches opens for them."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest

from app.extensions import db
from app.models import Campaign, ObjectStatus
from app.tasks.media import process_media
from tests.media_support import EN, image, media_root, upload  # noqa: F401
from tests.objects_support import make_objects, seed_campaign


@pytest.fixture
def reviewed(app, client, auth, media_root):
    """A campaign with a post in review and an approved one (asset "seen"), a draft (asset
    "draft_only"), an asset used by nothing, and a second campaign using "seen" only in a draft.
    The assets are real uploads, processed: thumbnails, previews and files exist."""
    auth.login("editor")
    ids = {}
    for n, name in enumerate(("seen", "draft_only", "unused")):
        response = upload(client, image("PNG", size=(320, 240), color=(40 * n, 120, 200)), f"{name}.png")
        ids[name] = response.get_json()["id"]
    auth.logout()
    with app.app_context():
        for asset_id in ids.values():
            process_media(asset_id)
        seed = seed_campaign(media=0)
        scenarios = [seed.scenarios["instagram"], seed.scenarios["linkedin"]]
        ids["in_review"], ids["approved"] = make_objects(
            seed.campaign_id, scenarios, [ids["seen"]], 2, statuses=(ObjectStatus.IN_REVIEW, ObjectStatus.APPROVED)
        )
        [ids["draft"]] = make_objects(
            seed.campaign_id, scenarios, [ids["draft_only"]], 1, statuses=(ObjectStatus.DRAFT,)
        )
        other = Campaign(name="Campagne brouillon")
        db.session.add(other)
        db.session.commit()
        ids["other_campaign"] = other.id
        make_objects(other.id, [], [ids["seen"]], 1, statuses=(ObjectStatus.DRAFT,))
        db.session.execute(
            db.text("UPDATE content_objects SET title = 'Brouillon secret' WHERE id = :id"), {"id": ids["draft"]}
        )
        db.session.commit()
        ids["campaign"] = seed.campaign_id
    return ids


def test_approvers_read_the_campaign_without_drafts_or_controls(client, auth, reviewed):
    auth.login("approver")
    response = client.get(f"/campaigns/{reviewed['campaign']}", headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Salon 2026" in html and "Instagram · instagram ready" in html and "LinkedIn · linkedin ready" in html
    assert f'data-testid="campaign-post-{reviewed["in_review"]}"' in html
    assert f'data-testid="campaign-post-{reviewed["approved"]}"' in html
    assert "Brouillon secret" not in html and f'campaign-post-{reviewed["draft"]}"' not in html
    # No edit, archive, board or scenario controls.
    for control in ("/edit", "/archive", "/board", "Make scenarios", "/retry", "/scenarios/", "make-box"):
        assert control not in html, control
    assert f'href="/media/{reviewed["seen"]}"' in html and f'/media/{reviewed["draft_only"]}' not in html
    # Still refused: the list of campaigns, their forms and actions.
    assert client.get("/campaigns/").status_code == 403
    assert client.get(f"/campaigns/{reviewed['campaign']}/edit").status_code == 403
    assert client.get(f"/campaigns/{reviewed['campaign']}/board").status_code == 403
    assert client.get("/campaigns/999999").status_code == 404


def test_editors_keep_the_managed_campaign_page(client, auth, reviewed):
    auth.login("editor")
    html = client.get(f"/campaigns/{reviewed['campaign']}", headers=EN).get_data(as_text=True)
    assert "Make scenarios" in html and "/edit" in html and "campaign-posts" not in html


@pytest.mark.parametrize("suffix", ["", "/card", "/thumb", "/preview", "/file"])
def test_approvers_open_the_assets_of_posts_they_can_see_and_nothing_else(client, auth, reviewed, suffix):
    auth.login("approver")
    assert client.get(f"/media/{reviewed['seen']}{suffix}").status_code == 200
    for hidden in (reviewed["draft_only"], reviewed["unused"], 999999):
        assert client.get(f"/media/{hidden}{suffix}").status_code == 404, hidden


def test_the_asset_page_is_read_only_for_approvers(client, auth, reviewed):
    auth.login("approver")
    html = client.get(f"/media/{reviewed['seen']}", headers=EN).get_data(as_text=True)
    assert "/fields/" not in html and "Replace the file" not in html and "Delete" not in html
    assert "Public link" not in html and "/m/" not in html
    # The campaign of the posts submitted to them, as a link; not the one using it only in a draft.
    assert f'href="/campaigns/{reviewed["campaign"]}"' in html and "Campagne brouillon" not in html
    auth.logout()
    auth.login("editor")
    html = client.get(f"/media/{reviewed['seen']}", headers=EN).get_data(as_text=True)
    assert "Campagne brouillon" in html and "Public link" in html


def test_the_library_and_its_search_stay_closed_to_approvers(client, auth, reviewed):
    auth.login("approver")
    for path in ("/media/", "/media/facets", "/media/search.json?q=seen", "/media/picker", "/media/tags/options"):
        assert client.get(path).status_code == 403, path


HREF = re.compile(r'\b(?:href|hx-get|src)="([^"#][^"]*)"')


def test_every_link_an_approver_reaches_opens_for_them(app, client, auth, reviewed):
    """Crawl from the review queue: every href (and hx-get, src) of every page reached answers
    200 or a redirect to the approver; pages are followed a few levels deep."""
    auth.login("approver")
    seen, queue, checked, failures = {"/reviews/"}, deque([("/reviews/", 0)]), 0, []
    while queue:
        path, depth = queue.popleft()
        response = client.get(path, headers=EN)
        checked += 1
        if response.status_code not in (200, 301, 302, 303, 304, 286):
            failures.append((path, response.status_code))
            continue
        if depth >= 3 or not response.mimetype == "text/html":
            continue
        for link in HREF.findall(response.get_data(as_text=True)):
            target = urljoin(path, link.replace("&amp;", "&"))
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or target in seen or target.startswith("/static/"):
                continue  # other sites; static files are public
            seen.add(target)
            queue.append((target, depth + 1))
    assert failures == []
    # It went through the campaign, the calendar and an asset.
    assert {f"/campaigns/{reviewed['campaign']}", f"/media/{reviewed['seen']}", "/calendar/"} <= seen
    assert checked > 10
