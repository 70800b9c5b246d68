"""The post's history (`/reviews/objects/<id>/history`) says each event in words: every audit
action recorded on a post or a publication has a label in French and English, and an outside
reviewer's decision carries the name they gave instead of "System"."""

import ast
import re
from pathlib import Path

from app.labels import EVENT_LABELS
from tests.test_review_links import EN, FR, _decide, _editor_link
from tests.test_reviews import in_review  # noqa: F401  (the fixture)

APP = Path(__file__).resolve().parent.parent / "app"
# Recorded on other subjects (users, campaigns and their scenarios, media, tags, social accounts,
# snippets), which the post history never lists.
ELSEWHERE = re.compile(
    r"^(login|user_.*|invitation_.*|role_changed|campaign_.*|scenario_.*|media\..*|tag\..*"
    r"|social_account_.*|snippet_.*)$"
)


def recorded_actions() -> set[str]:
    """Every action name `audit.record(...)` is called with in app/ (an f-string: its prefix)."""
    found = set()
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and ast.unparse(node.func) == "audit.record" and node.args):
                continue
            found |= _names(node.args[0])
    return found


def _names(expression) -> set[str]:
    """The action names an expression may give: a string, an f-string's fixed start followed by
    `*`, either branch of `a if c else b` (a plain variable is another subject's, checked there)."""
    if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        return {expression.value}
    if isinstance(expression, ast.JoinedStr):
        first = expression.values[0]
        return {(first.value if isinstance(first, ast.Constant) else "") + "*"}
    if isinstance(expression, ast.IfExp):
        return _names(expression.body) | _names(expression.orelse)
    return set()


def test_every_action_a_post_history_shows_has_words():
    actions = recorded_actions()
    assert {"review_link_used", "step_approved", "status:*"} <= actions  # the walk finds them
    unlabelled = sorted(
        a for a in actions if a not in EVENT_LABELS and a != "status:*" and not ELSEWHERE.match(a.rstrip("*"))
    )
    assert unlabelled == []


def test_an_outside_reviewers_decision_reads_with_their_name(app, client, auth, in_review):
    [object_id] = in_review(1)
    path = _editor_link(app, client, auth, object_id)
    assert _decide(app.test_client(), path, "approve", name="Claire J.").status_code == 303
    history = f"/reviews/objects/{object_id}/history"
    english = client.get(history, headers=EN).get_data(as_text=True)
    assert "<strong>Claire J.</strong> — decided through a review link" in english
    assert "created a review link" in english and "review_link" not in english
    french = client.get(history, headers=FR).get_data(as_text=True)
    assert "<strong>Claire J.</strong> — a décidé par un lien de relecture" in french
