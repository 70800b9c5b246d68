"""Login, logout, sessions the server can revoke, throttling, invitations, user admin."""

import re
import time

import sqlalchemy as sa

from app.extensions import db, redis_store
from app.models import AuditEvent, Role, User
from tests.conftest import PASSWORD, csrf_token


def _post_login(client, email, password):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def test_login_lands_on_role_home(client, auth):
    auth.login("approver")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/reviews/"


def test_password_is_hashed_with_argon2id(app, make_user):
    user_id, _ = make_user("editor")
    with app.app_context():
        assert db.session.get(User, user_id).password_hash.startswith("$argon2id$")


def test_wrong_password_and_unknown_user_get_the_same_answer(client, make_user):
    _, email = make_user("editor")
    wrong = _post_login(client, email, "not the password at all")
    unknown = _post_login(client, "nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 422
    assert b"Adresse e-mail ou mot de passe incorrect." in wrong.data
    assert b"Adresse e-mail ou mot de passe incorrect." in unknown.data
    # The e-mail typed is kept, the password is not echoed back.
    assert email.encode() in wrong.data and b"not the password" not in wrong.data


def test_login_issues_a_new_session(client, make_user):
    _, email = make_user("editor")
    client.get("/login")
    before = client.get_cookie("cms_session").value
    assert _post_login(client, email, PASSWORD).status_code == 303
    assert client.get_cookie("cms_session").value != before


def test_logout_refuses_the_old_session_cookie(client, auth):
    auth.login("editor")
    assert client.get("/campaigns/").status_code == 200
    stolen = client.get_cookie("cms_session").value
    assert auth.logout().headers["Location"] == "/login"
    client.set_cookie("cms_session", stolen)  # replay the cookie captured before logout
    response = client.get("/campaigns/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_deactivation_ends_existing_sessions(app, client, auth, make_user):
    auth.login("editor")
    admin_client = app.test_client()
    _, admin_email = make_user("admin")
    _post_login(admin_client, admin_email, PASSWORD)
    response = admin_client.post(
        f"/admin/users/{auth.user_id}/active",
        data={"active": "0", "csrf_token": csrf_token(admin_client, "/admin/users")},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and b"<html" not in response.data
    assert client.get("/campaigns/").status_code == 302
    assert _post_login(client, auth.email, PASSWORD).status_code == 422


def test_role_change_ends_existing_sessions(app, client, auth, make_user):
    auth.login("editor")
    admin_client = app.test_client()
    _, admin_email = make_user("admin")
    _post_login(admin_client, admin_email, PASSWORD)
    response = admin_client.post(
        f"/admin/users/{auth.user_id}/role",
        data={"role": "approver", "csrf_token": csrf_token(admin_client, "/admin/users")},
    )
    assert response.status_code == 303  # no htmx: back to the list
    assert client.get("/campaigns/").status_code == 302
    with app.app_context():
        assert db.session.get(User, auth.user_id).role is Role.APPROVER
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(
                AuditEvent.subject_type == "users", AuditEvent.subject_id == auth.user_id
            )
        ).all()
    assert "role_changed" in actions


def test_idle_timeout(app, client, auth, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_TIMEOUT", 1)
    auth.login("editor")
    assert client.get("/campaigns/").status_code == 200
    time.sleep(2.1)  # the server record's TTL is the idle timeout
    assert client.get("/campaigns/").status_code == 302


def test_absolute_timeout(app, client, auth):
    auth.login("editor")
    with app.test_request_context():
        for key in redis_store.client.scan_iter(redis_store.key("auth:session:*")):
            created = int(redis_store.client.hget(key, "created"))
            redis_store.client.hset(key, "created", created - app.config["SESSION_ABSOLUTE_TIMEOUT"] - 1)
    assert client.get("/campaigns/").status_code == 302


def test_htmx_request_without_session_is_told_to_navigate(client):
    response = client.get("/campaigns/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def test_throttling_per_account_even_with_the_right_password(client, make_user, app):
    _, email = make_user("editor")
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"]):
        assert _post_login(client, email, "wrong password!!").status_code == 422
    blocked = _post_login(client, email, PASSWORD)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Trop de tentatives" in blocked.get_data(as_text=True)


def test_throttling_unknown_accounts_answers_alike(client, app):
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"]):
        _post_login(client, "ghost@example.org", "wrong password!!")
    assert _post_login(client, "ghost@example.org", "wrong password!!").status_code == 429


def test_throttling_per_ip_across_accounts(client, app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_IP", 4)
    _, email = make_user("editor")
    for n in range(4):
        _post_login(client, f"someone{n}@example.org", "wrong password!!")
    assert _post_login(client, email, PASSWORD).status_code == 429


def test_open_redirect_is_refused(client, make_user):
    _, email = make_user("editor")
    response = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "next": "//evil.example/x", "csrf_token": csrf_token(client)},
    )
    assert response.headers["Location"] == "/"


def test_invitation_flow(app, client, auth):
    auth.login("admin")
    response = client.post(
        "/admin/users",
        data={
            "email": "New.Person@Example.org",
            "name": "Nouvelle Personne",
            "role": "approver",
            "csrf_token": csrf_token(client, "/admin/users"),
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    link = html.split('id="invitation-link"')[0].rsplit('value="', 1)[1].split('"')[0]
    path = "/" + link.split("/", 3)[3]
    auth.logout()
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and "Nouvelle Personne" in page.get_data(as_text=True)
    token = csrf_token(visitor, path)
    short = visitor.post(path, data={"password": "short", "confirm": "short", "csrf_token": token})
    assert short.status_code == 422 and "Entre 12 et 128 caractères" in short.get_data(as_text=True)
    done = visitor.post(
        path, data={"password": "a long enough passphrase", "confirm": "a long enough passphrase", "csrf_token": token}
    )
    assert done.status_code == 303
    assert visitor.get(path).status_code == 410  # single use
    assert _post_login(visitor, "new.person@example.org", "a long enough passphrase").status_code == 303


def test_invite_refuses_duplicate_email_and_keeps_the_form(client, auth, make_user):
    _, existing = make_user("editor")
    auth.login("admin")
    response = client.post(
        "/admin/users",
        data={
            "email": existing.upper(),
            "name": "Dup",
            "role": "editor",
            "csrf_token": csrf_token(client, "/admin/users"),
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Un compte existe déjà" in html and 'value="Dup"' in html


def test_admin_cannot_deactivate_self_or_demote_last_admin(app, client, auth):
    auth.login("admin")
    with app.app_context():
        others = db.session.scalars(sa.select(User).where(User.role == Role.ADMIN, User.id != auth.user_id))
        for other in others:  # make this admin the last one
            other.active = False
        db.session.commit()
    token = csrf_token(client, "/admin/users")
    r = client.post(
        f"/admin/users/{auth.user_id}/active", data={"active": "0", "csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 422 and "votre propre compte" in r.get_data(as_text=True)
    r = client.post(
        f"/admin/users/{auth.user_id}/role",
        data={"role": "editor", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 422 and "dernier administrateur" in r.get_data(as_text=True)


def test_users_create_cli(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "cli@example.org",
            "--name",
            "Cli",
            "--role",
            "approver",
            "--password",
            "a long cli password",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "cli@example.org"))
        assert user.role is Role.APPROVER
    short = runner.invoke(
        args=["users", "create", "--email", "c2@example.org", "--name", "C", "--role", "editor", "--password", "short"]
    )
    assert short.exit_code != 0


def test_login_target_the_role_cannot_open_falls_back_to_home(client, make_user):
    _, email = make_user("approver")
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "next": "/admin/users", "csrf_token": csrf_token(client)}
    )
    assert response.headers["Location"] == "/"
    _, editor = make_user("editor")
    other = client.application.test_client()
    response = other.post(
        "/login",
        data={"email": editor, "password": PASSWORD, "next": "/media/?page=2", "csrf_token": csrf_token(other)},
    )
    assert response.headers["Location"] == "/media/?page=2"


def test_invitation_link_uses_the_public_base_url_and_renewal_kills_the_old_link(app, client, auth):
    auth.login("admin")
    token = csrf_token(client, "/admin/users")
    html = client.post(
        "/admin/users", data={"email": "inv@example.org", "name": "Inv", "role": "editor", "csrf_token": token}
    ).get_data(as_text=True)
    first = html.split('id="invitation-link"')[0].rsplit('value="', 1)[1].split('"')[0]
    # Built on PUBLIC_BASE_URL, not on the Host the request came in with ("localhost" here).
    assert first.startswith(app.config["PUBLIC_BASE_URL"] + "/invite/") and "localhost" not in first
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.email == "inv@example.org"))
    html = client.post(f"/admin/users/{user_id}/invitation", data={"csrf_token": token}).get_data(as_text=True)
    second = html.split('id="invitation-link"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert second != first
    visitor = app.test_client()
    assert visitor.get("/" + first.split("/", 3)[3]).status_code == 410
    assert visitor.get("/" + second.split("/", 3)[3]).status_code == 200


def _focused(html: str, field_id: str) -> bool:
    tag = re.search(rf'<input[^>]*\sid="{field_id}"[^>]*>', html).group(0)
    return re.search(r"\sautofocus[\s>]", tag) is not None


def test_login_page_focuses_one_field_and_never_renders_none(client, make_user):
    html = client.get("/login").get_data(as_text=True)
    assert 'autofocus="' not in html
    assert _focused(html, "email") and not _focused(html, "password")
    _, email = make_user("editor")
    refused = _post_login(client, email, "not the password at all").get_data(as_text=True)
    # The e-mail is kept, so the password field takes the focus (a bare attribute, not the address).
    assert 'autofocus="' not in refused
    assert _focused(refused, "password") and not _focused(refused, "email")


def test_language_chosen_on_the_login_page_becomes_the_saved_preference(app, client, make_user):
    user_id, email = make_user("editor")
    token = csrf_token(client)
    client.post(
        "/language", data={"lang": "en", "next": "/login", "csrf_token": token}, headers={"Accept-Language": "fr"}
    )
    assert _post_login(client, email, PASSWORD).status_code == 303
    assert "No campaigns yet" in client.get("/campaigns/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user_id).locale == "en"
    # Another device, a French browser, no choice made there: the saved preference wins.
    other = app.test_client()
    assert _post_login(other, email, PASSWORD).status_code == 303
    assert "No campaigns yet" in other.get("/campaigns/", headers={"Accept-Language": "fr"}).get_data(as_text=True)


def test_logging_in_without_choosing_keeps_the_saved_preference(app, client, make_user):
    user_id, email = make_user("editor")
    with app.app_context():
        db.session.get(User, user_id).locale = "en"
        db.session.commit()
    assert _post_login(client, email, PASSWORD).status_code == 303
    with app.app_context():
        assert db.session.get(User, user_id).locale == "en"
