"""The template check against a real scenario export and against its corrected copy.

The export is `tests/fixtures/make/rss-to-social.blueprint.json`: a public export of a real Make
scenario, from `loliba92/Scenario` `assets/make/scenario-daily.blueprint.json` (RSS feed to
Telegram, Buffer and LinkedIn; trimmed as tests/fixtures/make/README.md says).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from app.integrations import template_check
from tests.make_sandbox import SECRET
from tests.make_templates import contract_template, modules

EXPORT = json.loads((Path(__file__).parent / "fixtures/make/rss-to-social.blueprint.json").read_text(encoding="utf-8"))


def _export_module(module_id: int) -> dict:
    return copy.deepcopy(modules(EXPORT)[module_id])


def _corrected() -> dict:
    """The export's LinkedIn image post (module 53, as exported), fed from the CMS's payload
    and set in the contract: webhook, dedupe, signed callbacks for every outcome, dry run."""
    linkedin = _export_module(53)
    linkedin["mapper"].update(
        organization="{{1.account_identifier}}",
        title="{{1.object.title}}",
        content="{{1.text}}",
        url="{{1.media[1].url}}",
    )
    return contract_template(linkedin, secret=SECRET, hook_id=4700)


def _rules(problems) -> list[str]:
    return [problem.rule for problem in problems]


def test_the_public_export_is_diagnosed_rule_by_rule(app):
    problems = template_check.check(EXPORT, secrets=[SECRET])
    assert _rules(problems) == [
        "trigger",
        "dedupe_missing",
        "callback_published",
        "callback_failed",
        "callback_dry_run",
        "dry_run_unguarded",
        "unknown_fields",
    ]
    by_rule = {problem.rule: problem for problem in problems}
    assert by_rule["trigger"].params == {"module": "rss:TriggerNewArticle"}
    network = by_rule["callback_failed"].params["modules"]
    for label in (
        "8 (telegram:SendReplyMessage)",
        "14 (buffer:ActionCreateStatus)",
        "22 (linkedin:CreateTextShare)",
        "53 (linkedin:CreateCompanyImagePost)",
    ):
        assert label in network
    assert "30 (rss:ActionReadArticles)" not in network  # reading a feed posts nothing
    assert "4.enclosures[].url" in by_rule["unknown_fields"].params["fields"]
    assert "4.source.title" in by_rule["unknown_fields"].params["fields"]


@pytest.mark.parametrize(
    "language,trigger,fix",
    [
        (
            "en",
            "does not start with a custom webhook (its first module is rss:TriggerNewArticle)",
            "Webhooks → Custom webhook",
        ),
        (
            "fr",
            "ne commence pas par un webhook personnalisé (son premier module est rss:TriggerNewArticle)",
            "Webhooks → Custom webhook",
        ),
    ],
)
def test_each_problem_comes_with_its_fix_in_the_users_language(app, language, trigger, fix):
    with app.test_request_context(headers={"Accept-Language": language}):
        described = [template_check.describe(p.as_dict()) for p in template_check.check(EXPORT, secrets=[SECRET])]
    assert trigger in described[0][0] and fix in described[0][1]
    assert all(text and fix_text for text, fix_text in described)


def test_the_corrected_copy_passes():
    assert template_check.check(_corrected(), secrets=[SECRET]) == []


def _broken(change) -> dict:
    blueprint = _corrected()
    change(modules(blueprint), blueprint)
    return blueprint


@pytest.mark.parametrize(
    "rules,change",
    [
        (["stop_on_http_error"], lambda m, b: m[22]["mapper"].pop("stopOnHttpError")),
        (["unsigned"], lambda m, b: m[13]["mapper"]["headers"].pop()),
        (
            ["wrong_secret"],
            lambda m, b: m[41]["mapper"]["headers"][2].update(
                value=m[41]["mapper"]["headers"][2]["value"].replace(SECRET, "ab" * 24)
            ),
        ),
        (["dedupe_unused"], lambda m, b: m[10]["filter"]["conditions"][0].pop(0)),
        (["dry_run_unguarded"], lambda m, b: m[10]["filter"]["conditions"][0].pop(1)),
        (["callback_failed"], lambda m, b: m[10].pop("onerror")),
        (["callback_dry_run"], lambda m, b: b["flow"][2]["routes"].pop(2)),
        # posting elsewhere than the callback URL: a request to the outside, not a callback
        (
            ["callback_published", "callback_failed"],
            lambda m, b: m[22]["mapper"].update(url="https://elsewhere.example"),
        ),
        (["unknown_fields"], lambda m, b: m[10]["mapper"].update(title="{{1.title}}")),
        (["dedupe_missing"], lambda m, b: b["flow"][1].update(mapper={"key": "{{1.delivery_id}}"})),
        (["trigger"], lambda m, b: b["flow"][0].update(module="rss:TriggerNewArticle")),
    ],
)
def test_each_rule_catches_its_own_breakage(rules, change):
    assert _rules(template_check.check(_broken(change), secrets=[SECRET])) == rules


def test_a_lookup_placed_after_the_network_module_is_named():
    blueprint = _corrected()
    lookup = blueprint["flow"].pop(1)
    publish = blueprint["flow"][1]["routes"][0]["flow"]
    publish.insert(1, lookup)
    problems = template_check.check(blueprint, secrets=[SECRET])
    assert "dedupe_after" in _rules(problems)
    assert (
        "10 (linkedin:CreateCompanyImagePost)"
        in next(p for p in problems if p.rule == "dedupe_after").params["modules"]
    )


def test_mapped_payload_fields_follow_the_contract():
    blueprint = _corrected()
    modules(blueprint)[10]["mapper"].update(
        title="{{1.campaign.name}} {{1.object.title}}",
        altText="{{1.media[1].alt_text}} {{1.media[].mime}}",
        content="{{1.text}} {{1.link}} {{first(map(1.media; \"url\"))}} {{1.media.sharepoint.item_id}}",
    )
    assert template_check.check(blueprint, secrets=[SECRET]) == []
    modules(blueprint)[10]["mapper"]["content"] = "{{1.object.name}} {{1.media[1].bytes}}"
    [problem] = template_check.check(blueprint, secrets=[SECRET])
    assert problem.params["fields"] == "1.media[1].bytes, 1.object.name"


def test_make_validation_errors_are_shown_as_problems_too():
    [problem] = template_check.from_make_errors(
        [{"path": "flow[2]", "problem": "Module not found", "fix": "Use linkedin:CreateTextShare"}]
    )
    assert template_check.describe(problem.as_dict()) == ("Module not found", "Use linkedin:CreateTextShare")


def test_makes_validation_accepts_the_corrected_copy():
    """The corrected copy is also a blueprint Make's validation endpoint accepts (the emulator's,
    built from the same public exports)."""
    from app.integrations import make
    from tests.make_sandbox import ServedEmulator

    emulator = ServedEmulator()
    try:
        with make.MakeClient(make.MakeConfig.from_settings(emulator.settings())) as client:
            assert client.validate_blueprint(_corrected()) == {"valid": True, "errors": []}
    finally:
        emulator.stop()
