"""Helpers for the notification and conversation tests: people, a post, logging in a client."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.models import ObjectStatus, Platform, Role, User
from tests.conftest import PASSWORD, csrf_token
from tests.objects_support import make_objects, seed_campaign

EN = {"Accept-Language": "en"}


def login(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return client


def token(client, path: str = "/notifications/") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def a_post(app, author_id: int, status=ObjectStatus.DRAFT, teams_url: str | None = None):
    """(campaign id, object id): a LinkedIn post with one image, ready to submit."""
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.LINKEDIN,), extra_statuses=(), media=1, author_id=author_id)
        [object_id] = make_objects(
            seed.campaign_id, list(seed.scenarios.values()), seed.media, 1, author_id=author_id, statuses=(status,)
        )
        if teams_url:
            from app.models import Campaign

            db.session.get(Campaign, seed.campaign_id).teams_webhook_url = teams_url
            db.session.commit()
        return seed.campaign_id, object_id


def set_locale(app, user_id: int, locale: str) -> None:
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == user_id).values(locale=locale))
        db.session.commit()


def bulk_approvers(app, count: int) -> None:
    """`count` active approvers without a password (inserted in one statement: hashing 1,000
    passwords would measure argon2, not the notifications)."""
    import uuid

    with app.app_context():
        tag = uuid.uuid4().hex[:6]
        db.session.execute(
            sa.insert(User),
            [
                {"email": f"bulk{n}-{tag}@example.org", "name": f"Bulk {n}", "role": Role.APPROVER, "active": True}
                for n in range(count)
            ],
        )
        db.session.commit()
