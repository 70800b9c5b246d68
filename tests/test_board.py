"""The campaign board: columns by status with counts, filters, and a number of
queries that does not grow with the number of objects."""

import re
from contextlib import contextmanager

import sqlalchemy as sa

from app.extensions import db
from app.models import ObjectStatus, Platform, Publication, PublicationStatus
from tests.objects_support import make_objects, seed_campaign

EN = {"Accept-Language": "en"}


@contextmanager
def counting(app):
    queries = []
    listener = lambda *args: queries.append(args[2])  # noqa: E731  (statement)
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield queries
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


def _seed(app, count, platforms=(Platform.INSTAGRAM, Platform.LINKEDIN)):
    with app.app_context():
        seed = seed_campaign(platforms=platforms, extra_statuses=(), media=2)
        make_objects(seed.campaign_id, list(seed.scenarios.values()), seed.media, count)
        return seed


def test_board_query_count_is_the_same_for_10_and_500_objects(app, client, auth):
    auth.login("editor")
    seed = _seed(app, 10)
    url = f"/campaigns/{seed.campaign_id}/board"
    client.get(url)  # warm up (session, caches)
    with counting(app) as small:
        assert client.get(url).status_code == 200
    with app.app_context():
        make_objects(seed.campaign_id, list(seed.scenarios.values()), seed.media, 490)
    with counting(app) as large:
        html = client.get(url).get_data(as_text=True)
    assert html.count('data-testid="object-card"') == 500
    assert len(large) == len(small), (len(small), len(large))
    assert len(small) <= 12


def test_columns_have_counts_in_workflow_order(app, client, auth):
    auth.login("editor")
    seed = _seed(app, 16)  # two of each status
    html = client.get(f"/campaigns/{seed.campaign_id}/board", headers=EN).get_data(as_text=True)
    positions = [
        html.index(f'data-testid="column-{s.value}"')
        for s in (
            ObjectStatus.DRAFT,
            ObjectStatus.IN_REVIEW,
            ObjectStatus.CHANGES_REQUESTED,
            ObjectStatus.APPROVED,
            ObjectStatus.SCHEDULED,
            ObjectStatus.PUBLISHING,
            ObjectStatus.PUBLISHED,
            ObjectStatus.FAILED,
        )
    ]
    assert positions == sorted(positions)
    assert html.count('data-testid="count">2<') == 8
    # Quick action: only drafts and changes requested get a submit button.
    assert html.count(">Submit for review<") == 4


def test_filters_by_network_author_and_text(app, client, auth, make_user):
    auth.login("editor")
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.X), extra_statuses=(), media=0)
        other_author = make_user("editor", name="Zoé")[0]
        make_objects(seed.campaign_id, [seed.scenarios["instagram"]], [], 3, author_id=auth.user_id)
        make_objects(
            seed.campaign_id, [seed.scenarios["x"]], [], 2, author_id=other_author, statuses=(ObjectStatus.DRAFT,)
        )
    url = f"/campaigns/{seed.campaign_id}/board"
    cards = lambda **args: client.get(url, query_string=args).get_data(as_text=True).count('data-testid="object-card"')  # noqa: E731
    assert cards() == 5
    assert cards(network="x") == 2 and cards(network="instagram") == 3
    assert cards(author=other_author) == 2
    # Through the search service: every word matches, the last one as a prefix, typos forgiven.
    assert cards(q="post 1") == 2  # "Post 1" of each batch
    assert cards(q="mesage 0") == 2  # one typo in "message"
    assert cards(q="100%") == 0
    fragment = client.get(url, query_string={"network": "x"}, headers={"HX-Request": "true"})
    assert b"<html" not in fragment.data and b'id="board"' in fragment.data
    assert "HX-Request" in fragment.headers["Vary"]


def test_cards_flag_failed_and_unknown_deliveries_of_the_newest_generation(app, client, auth):
    auth.login("editor")
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.LINKEDIN, Platform.X), extra_statuses=(), media=0)
        scenarios = [seed.scenarios[p] for p in ("instagram", "linkedin", "x")]
        failed, published = make_objects(
            seed.campaign_id, scenarios, [], 2, statuses=(ObjectStatus.FAILED, ObjectStatus.PUBLISHED)
        )

        def deliver(obj, scenario, generation, status):
            db.session.add(
                Publication(
                    object_id=obj,
                    campaign_scenario_id=scenario,
                    generation=generation,
                    idempotency_key=f"o{obj}-s{scenario}-g{generation}",
                    fingerprint="f",
                    status=status,
                )
            )

        deliver(failed, scenarios[0], 1, PublicationStatus.FAILED)  # retried since: history
        deliver(failed, scenarios[0], 2, PublicationStatus.PUBLISHED)
        deliver(failed, scenarios[1], 1, PublicationStatus.UNKNOWN)  # sent, no callback in time
        deliver(failed, scenarios[2], 1, PublicationStatus.FAILED)
        for scenario in scenarios:
            deliver(published, scenario, 1, PublicationStatus.PUBLISHED)
        db.session.commit()
    html = client.get(f"/campaigns/{seed.campaign_id}/board", headers=EN).get_data(as_text=True)
    flags = re.findall(r'data-object-id="(\d+)".*?(?:data-testid="delivery-flags">(.*?)</ul>|</li>)', html, re.S)
    flagged = {
        int(object_id): re.findall(r'class="flag flag-(\w+)"><a href="([^"]+)">\s*([^<]+)</a>', body)
        for object_id, body in flags
        if body
    }
    assert list(flagged) == [failed]
    assert [(kind, text.strip()) for kind, _, text in flagged[failed]] == [
        ("unknown", "Outcome unknown on LinkedIn"),
        ("failed", "Failed on X"),
    ]
    assert {href for _, href, _ in flagged[failed]} == {f"/reviews/objects/{failed}/history"}


def test_cards_show_the_first_thumbnail_and_live_links_in_the_same_queries(app, client, auth):
    auth.login("editor")
    with app.app_context():
        from tests.objects_support import make_asset

        seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.LINKEDIN), extra_statuses=(), media=0)
        pdf = make_asset("Programme", mime="application/pdf", kind="document").id
        poster = make_asset("Affiche", thumb_path="derived/affiche.webp").id
        scenarios = [seed.scenarios["instagram"], seed.scenarios["linkedin"]]
        published = make_objects(seed.campaign_id, scenarios, [poster, pdf], 1, statuses=(ObjectStatus.PUBLISHED,))[0]
        document_first = make_objects(seed.campaign_id, scenarios, [pdf, poster], 1, statuses=(ObjectStatus.DRAFT,))[0]
        for generation, (scenario, url) in enumerate(
            (
                (scenarios[0], "https://www.instagram.com/p/old/"),
                (scenarios[0], "https://www.instagram.com/p/new/"),
                (scenarios[1], "javascript:alert(1)"),
            ),
            1,
        ):
            db.session.add(
                Publication(
                    object_id=published,
                    campaign_scenario_id=scenario,
                    generation=generation,
                    idempotency_key=f"board-live-{published}-{generation}",
                    fingerprint="f",
                    status=PublicationStatus.PUBLISHED,
                    external_url=url,
                )
            )
        db.session.commit()
    url = f"/campaigns/{seed.campaign_id}/board"
    client.get(url)
    with counting(app) as queries:
        html = client.get(url, headers=EN).get_data(as_text=True)
    assert len(queries) <= 12
    cards = dict(re.findall(r'data-object-id="(\d+)">(.*?)</li>\s*(?=<li class="card|</ul>\s*</section>)', html, re.S))
    first = cards[str(published)]
    assert f'src="/media/{poster}/thumb?v=1"' in first and first.index("card-thumb") < first.index("object-title")
    assert '"https://www.instagram.com/p/new/"' in first and ">Live on Instagram<" in first
    assert "/p/old/" not in first and "javascript:" not in html  # the newest generation; unsafe addresses never linked
    assert 'data-testid="card-thumb"' in cards[str(document_first)] and "<img" not in cards[str(document_first)]


def test_board_queries_stay_seven_with_thumbnails_and_live_links(app, client, auth):
    """Objects with their authors, targets, media (count and first thumbnail), deliveries (flags
    and live links), authors for the filter: the same statements for 10 and 500 posts."""
    auth.login("editor")
    seed = _seed(app, 10)
    url = f"/campaigns/{seed.campaign_id}/board"
    client.get(url)
    with counting(app) as queries:
        client.get(url)
    board_queries = [q for q in queries if "content_objects" in q or "object_media" in q or "publications" in q]
    assert len(board_queries) == 5, board_queries
