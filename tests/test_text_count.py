"""Counting a post's text as each network does, in one place (app/text_count.py), and the live
counters the post form asks the server for as the editor types."""

import json
from pathlib import Path

import pytest

from app import networks
from app.extensions import db
from app.models import Platform
from app.text_count import length
from tests.conftest import csrf_token
from tests.objects_support import seed_campaign

# X's own published cases (the fixture names its source and what was left out).
CONFORMANCE = json.loads(
    (Path(__file__).parent / "fixtures/twitter_text/validate_v3_weighted.json").read_text(encoding="utf-8")
)["cases"]

FAMILY = "Famille \U0001f468\u200d\U0001f469\u200d\U0001f467 au salon"  # man ZWJ woman ZWJ girl
FLAG = "Drapeau \U0001f1eb\U0001f1f7"  # two regional indicators
BARE_URL = "Voir example.org/salon"  # a URL without a scheme
ISSUE_CASES = [(FAMILY, 19), (FLAG, 10), (BARE_URL, 28)]


@pytest.mark.parametrize("case", CONFORMANCE, ids=[c["description"][:60] for c in CONFORMANCE])
def test_x_counts_as_twitter_text_conformance(case):
    assert length(case["text"], "x_weighted") == case["weightedLength"]


def test_the_conformance_fixture_is_the_v3_sections():
    sections = {c["section"] for c in CONFORMANCE}
    assert sections == {"WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest"}
    assert len(CONFORMANCE) == 23


@pytest.mark.parametrize("text,expected", ISSUE_CASES)
def test_the_issues_strings_count_as_x_does(text, expected):
    assert length(text, "x_weighted") == expected
    # and the server's check uses the same count: 19 fits, 19 + 262 does not
    assert networks.text_length(text, networks.RULES[Platform.X].counting) == expected


def test_the_x_check_refuses_one_over_280_with_emoji_and_a_bare_url():
    text = BARE_URL + " " + "a" * (280 - 28 - 1)
    assert length(text, "x_weighted") == 280
    assert not networks.check(Platform.X, text, [])
    problems = networks.check(Platform.X, text + "!", [])
    assert [p.code for p in problems] == ["text_too_long"]


def test_x_normalises_to_nfc():
    assert length("e\u0301te\u0301", "x_weighted") == length("été", "x_weighted") == 3


def test_other_networks_count_as_they_document():
    text = "Été \U0001f468\u200d\U0001f469\u200d\U0001f467"  # decomposed É below
    decomposed = "E\u0301te\u0301 \U0001f468\u200d\U0001f469\u200d\U0001f467"
    # code points after NFC (Facebook, Instagram, LinkedIn): É, t, é, space, 3 people + 2 ZWJ
    assert length(decomposed, "chars") == length(text, "chars") == 9
    # UTF-16 code units (TikTok): each person is a surrogate pair
    assert length(decomposed, "utf16") == 4 + 3 * 2 + 2
    # UTF-8 bytes (YouTube's description): É and é 2 bytes each, people 4, ZWJ 3
    assert length(decomposed, "utf8_bytes") == 2 + 1 + 2 + 1 + 3 * 4 + 2 * 3
    with pytest.raises(ValueError):
        length("x", "words")


def test_every_network_counts_with_a_known_kind():
    for rules in networks.RULES.values():
        length("x", rules.counting)


# The endpoint the form's message calls (hx-post) as the editor types.


def _count(client, campaign_id, message, targets, token):
    return client.post(
        f"/campaigns/{campaign_id}/objects/count",
        data={"message": message, "targets": targets, "csrf_token": token},
        headers={"HX-Request": "true"},
    )


def test_counters_endpoint_counts_each_ticked_network(app, client, auth):
    auth.login("editor")
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.X, Platform.YOUTUBE), extra_statuses=(), media=0)
        db.session.remove()
    token = csrf_token(client, f"/campaigns/{seed.campaign_id}/objects/new")
    for text, expected in ISSUE_CASES:
        response = _count(client, seed.campaign_id, text, [seed.scenarios["x"]], token)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert body.count("<li") == 1 and f"{expected} / 280" in body and 'data-platform="x"' in body

    response = _count(
        client,
        seed.campaign_id,
        FAMILY,
        [seed.scenarios["instagram"], seed.scenarios["x"], seed.scenarios["youtube"]],
        token,
    )
    body = response.get_data(as_text=True)
    assert body.count("<li") == 3
    assert f"{len(FAMILY)} / 2200" in body  # code points
    assert "19 / 280" in body
    assert f"{len(FAMILY.encode())} / 5000" in body  # bytes
    assert 'class="over"' not in body


def test_counters_endpoint_marks_over_and_ignores_foreign_or_bad_targets(app, client, auth):
    auth.login("editor")
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.X,), extra_statuses=(), media=0)
        other = seed_campaign(platforms=(Platform.LINKEDIN,), extra_statuses=(), media=0)
        db.session.remove()
    token = csrf_token(client, f"/campaigns/{seed.campaign_id}/objects/new")
    body = _count(client, seed.campaign_id, "\U0001f637" * 141, [seed.scenarios["x"]], token).get_data(as_text=True)
    assert "282 / 280" in body and 'class="over"' in body
    # another campaign's target and a value that is not an id: no counter, no error
    response = _count(client, seed.campaign_id, "Bonjour", [other.scenarios["linkedin"], "abc"], token)
    assert response.status_code == 200 and "<li" not in response.get_data(as_text=True)
    assert _count(client, 999_999, "Bonjour", [], token).status_code == 404


def test_counters_endpoint_needs_an_editor(app, client, auth):
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.X,), extra_statuses=(), media=0)
        db.session.remove()
    response = client.post(f"/campaigns/{seed.campaign_id}/objects/count", data={"message": "x"})
    assert response.status_code in (302, 303, 400, 401, 403)
    assert "/ 280" not in response.get_data(as_text=True)


def test_the_form_asks_the_server_and_holds_no_counting_rules(app, client, auth):
    auth.login("editor")
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.X,), extra_statuses=(), media=0)
        db.session.remove()
    html = client.get(f"/campaigns/{seed.campaign_id}/objects/new").get_data(as_text=True)
    assert f'hx-post="/campaigns/{seed.campaign_id}/objects/count"' in html
    assert 'hx-trigger="load, input changed delay:150ms, change from:closest form"' in html
    assert "data-limits" not in html and "objects.js" not in html
    assert not (Path(__file__).parents[1] / "app/static/objects.js").exists()
