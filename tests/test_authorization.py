"""The authorization matrix, walked from the URL map: every route x every role and anonymous.

A route must declare its rule (`@public` or `@role_required`); only the routes the architecture
lists as open may be public. A new route without a rule fails `test_every_route_declares_access`.
"""

import re

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.routing import AnyConverter, IntegerConverter

from app.extensions import db
from app.models import Role
from app.security import access_rule
from tests.conftest import csrf_token

# The architecture's open routes (+ the language switch, invitation acceptance and review links, see README).
OPEN_ENDPOINTS = {
    "static",
    "auth.login",
    "auth.login_post",
    "auth.set_language",
    "auth.accept_invitation",
    "health.healthz",
    "health.readyz",
    "hooks.make_callback",
    "media_links.serve",
    "rendition_links.serve",
    "metrics.metrics",
    # an outside reviewer's link: the signed, single-use token is its proof
    "review_links.open_link",
    "review_links.approve",
    "review_links.request_changes",
    "review_links.undo",
}
# What approvers may open beyond the shared pages (notifications, their preferences, the dev mail
# box): the queue and its decisions, the posts submitted to them with their conversation, the
# calendar, a campaign's page, and the assets of those posts read-only (the page, its tile,
# thumbnail, preview and file). The library, its search and every editing route stay closed.
APPROVER_ENDPOINTS = {
    "reviews.index",
    "reviews.approve",
    "reviews.undo_approval",
    "reviews.request_changes",
    "reviews.history",
    "reviews.previews",
    "comments.show",
    "comments.create",
    "comments.mentions",
    "calendar.index",
    "campaigns.show",
    "campaigns.calendar",
    "media.detail",
    "media.card",
    "media.thumb",
    "media.preview",
    "media.file",
}
SHARED_PREFIXES = ("auth.", "notifications.", "devmail.")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Routes that take no CSRF token because a signature is their proof.
CSRF_EXEMPT = {"hooks.make_callback"}


def _sample(converter):
    """A value the converter accepts (ids that match nothing: guards run before lookups)."""
    if isinstance(converter, IntegerConverter):
        return 999999
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    return "x"


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {arg: _sample(rule._converters[arg]) for arg in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


def _call(client, method, path, token=None):
    data = {"csrf_token": token} if token and method in UNSAFE else None
    return client.open(path, method=method, data=data)


def _is_login_redirect(response):
    return response.status_code in (302, 303) and response.headers["Location"].startswith("/login")


def test_every_route_declares_access(app):
    with app.test_request_context():
        undeclared = [r.endpoint for r in app.url_map.iter_rules() if access_rule(r.endpoint) is None]
        public = {r.endpoint for r in app.url_map.iter_rules() if access_rule(r.endpoint) == "public"}
    assert undeclared == []
    assert public == OPEN_ENDPOINTS


def test_a_route_without_a_rule_is_refused(servers, test_database):
    from tests.conftest import make_test_app

    app = make_test_app(servers, test_database)
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    try:
        assert app.test_client().get("/forgotten").status_code == 403
    finally:
        with app.app_context():
            db.engine.dispose()  # this app's own pool, which no fixture closes


def test_approvers_open_what_they_review_and_nothing_else(app):
    """The rules as declared: an endpoint outside the shared ones opens to approvers exactly
    when it is listed in APPROVER_ENDPOINTS (a new approver route must be added there)."""
    with app.test_request_context():
        rules = {endpoint: access_rule(endpoint) for endpoint, _, _ in _routes(app)}
    approver = {
        endpoint
        for endpoint, rule in rules.items()
        if rule not in (None, "public") and Role.APPROVER in rule and not endpoint.startswith(SHARED_PREFIXES)
    }
    assert approver == APPROVER_ENDPOINTS


def test_anonymous_matrix(app, client):
    token = csrf_token(client)
    with app.test_request_context():
        rules = {endpoint: access_rule(endpoint) for endpoint, _, _ in _routes(app)}
    for endpoint, method, path in _routes(app):
        response = _call(client, method, path, token)
        if rules[endpoint] == "public":
            assert not _is_login_redirect(response), (endpoint, method)
        else:
            assert _is_login_redirect(response), (endpoint, method, response.status_code)


@pytest.mark.parametrize("role", list(Role))
def test_role_matrix(app, client, auth, role):
    auth.login(role)
    token = csrf_token(client, "/")
    with app.test_request_context():
        rules = {endpoint: access_rule(endpoint) for endpoint, _, _ in _routes(app)}
    checked = 0
    for endpoint, method, path in _routes(app):
        if endpoint == "auth.logout":
            continue  # would end the session the matrix runs in; covered in test_auth
        rule = rules[endpoint]
        response = _call(client, method, path, token)
        allowed = rule == "public" or role is Role.ADMIN or role in rule
        if allowed:
            assert response.status_code != 403 and not _is_login_redirect(response), (
                role,
                endpoint,
                method,
                response.status_code,
            )
        else:
            assert response.status_code == 403, (role, endpoint, method, response.status_code)
        checked += 1
    assert checked >= 10


def test_unsafe_methods_require_a_csrf_token(app, client, auth):
    auth.login("admin")
    refused = 0
    for endpoint, method, path in _routes(app):
        if method not in UNSAFE or endpoint in CSRF_EXEMPT:
            continue
        response = client.open(path, method=method, data={})
        assert response.status_code == 400, (endpoint, method, response.status_code)
        assert re.search("formulaire a expiré", response.get_data(as_text=True)), endpoint
        refused += 1
    assert refused >= 6
    # The htmx header form of the token is accepted.
    token = csrf_token(client, "/admin/users")
    ok = client.post("/language", data={"lang": "en"}, headers={"X-CSRFToken": token})
    assert ok.status_code == 303


def test_no_state_change_on_get(app, client, auth):
    """Every GET route, walked as an admin, commits nothing to the database."""
    auth.login("admin")
    commits = []
    listener = lambda session: commits.append(session)  # noqa: E731
    sa.event.listen(Session, "after_commit", listener)
    try:
        for endpoint, method, path in _routes(app):
            if method == "GET":
                client.get(path)
    finally:
        sa.event.remove(Session, "after_commit", listener)
    assert commits == []
