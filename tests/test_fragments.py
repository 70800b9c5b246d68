"""One view, one template: the full page for a normal request, the block for htmx."""

import pytest


@pytest.mark.parametrize(
    "role,path",
    [
        ("editor", "/campaigns/"),
        ("editor", "/media/"),
        ("approver", "/reviews/"),
        ("admin", "/platforms/"),
        ("admin", "/hooks/"),
    ],
)
def test_fragment_contract(client, auth, role, path):
    auth.login(role)
    page = client.get(path)
    fragment = client.get(path, headers={"HX-Request": "true"})
    boosted = client.get(path, headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert page.status_code == fragment.status_code == 200
    assert b"<html" in page.data and b"<html" not in fragment.data and b"<html" in boosted.data
    assert b"empty-state" in fragment.data  # the empty state of the listing
    assert "HX-Request" in fragment.headers["Vary"] and "HX-Request" in page.headers["Vary"]


def test_navigation_follows_the_role(client, auth):
    auth.login("approver")
    html = client.get("/reviews/").get_data(as_text=True)
    assert "/reviews/" in html and 'href="/campaigns/"' not in html and 'href="/admin/users"' not in html


def test_admin_sees_every_area(client, auth):
    auth.login("admin")
    html = client.get("/admin/users").get_data(as_text=True)
    for href in ("/campaigns/", "/media/", "/reviews/", "/platforms/", "/hooks/", "/admin/users"):
        assert f'href="{href}"' in html


def test_error_pages_are_translated_fragments_for_htmx(client, auth):
    auth.login("editor")
    full = client.get("/nowhere")
    fragment = client.get("/nowhere", headers={"HX-Request": "true"})
    assert full.status_code == fragment.status_code == 404
    assert "Cette page n’existe pas." in full.get_data(as_text=True)
    assert b"<html" not in fragment.data and "Cette page n’existe pas." in fragment.get_data(as_text=True)
