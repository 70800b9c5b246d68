"""A post's version per network (app/versions.py): overrides, what flows from the base, the
checks, the approval fingerprint and the payload each network receives."""

from __future__ import annotations

import sqlalchemy as sa

from app import versions
from app.extensions import db
from app.models import ContentObject, MediaKind, ObjectVariant, Platform, Publication, VariantMedia
from tests.objects_support import make_asset, make_objects, seed_campaign


def _post(seed, platforms=("x", "linkedin"), media=None):
    [object_id] = make_objects(
        seed.campaign_id, [seed.scenarios[p] for p in platforms], seed.media if media is None else media, 1
    )
    return db.session.get(ContentObject, object_id)


def test_a_version_overrides_only_what_it_sets_and_follows_the_base_otherwise(app):
    with app.app_context():
        seed = seed_campaign(media=2)
        obj = _post(seed)
        assert set(versions.versions(obj)) == {Platform.LINKEDIN, Platform.X}
        changed = versions.save(obj, Platform.X, message="Court pour X")
        assert changed == {"message": "Court pour X"}
        found = versions.versions(obj)
        assert found[Platform.X].message == "Court pour X" and found[Platform.X].overridden == {"message"}
        assert found[Platform.LINKEDIN].message == obj.message and not found[Platform.LINKEDIN].overridden
        # The base's link and media flow into X, which does not override them.
        obj.message, obj.link = "Nouveau texte de base", "https://example.org/nouveau"
        found = versions.versions(obj)
        assert found[Platform.X].message == "Court pour X"
        assert found[Platform.X].link == "https://example.org/nouveau"
        assert found[Platform.LINKEDIN].message == "Nouveau texte de base"
        assert found[Platform.X].media_ids == seed.media


def test_an_empty_link_and_an_empty_media_list_are_overrides_and_none_follows_again(app):
    with app.app_context():
        seed = seed_campaign(media=2)
        obj = _post(seed)
        versions.save(obj, Platform.X, link="", media=[])
        x = versions.version(obj, Platform.X)
        assert x.link is None and x.media == [] and x.overridden == {"link", "media"}
        versions.save(obj, Platform.X, media=list(reversed(seed.media)))
        assert versions.version(obj, Platform.X).media_ids == list(reversed(seed.media))
        versions.save(obj, Platform.X, link=None, media=None)
        # Nothing of its own left: the row goes, and X follows the base again.
        assert db.session.get(ObjectVariant, (obj.id, Platform.X)) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VariantMedia)) == 0
        assert versions.version(obj, Platform.X).media_ids == seed.media


def test_checks_count_and_check_each_network_on_its_own_version(app):
    from app.campaigns import objects

    with app.test_request_context():
        seed = seed_campaign(media=1)
        obj = _post(seed)
        obj.message = "Un long texte pour LinkedIn. " * 60  # 1,680 characters: too long for X
        versions.save(obj, Platform.X, message="Version courte pour X")
        found = {check.account.platform: check for check in objects.checks(obj)}
        assert found[Platform.X].length == len("Version courte pour X") and not found[Platform.X].problems
        assert found[Platform.LINKEDIN].length == len(obj.message) and not found[Platform.LINKEDIN].problems
        # Without its own text, X gets the base, which it refuses.
        versions.save(obj, Platform.X, message=None)
        found = {check.account.platform: check for check in objects.checks(obj)}
        assert found[Platform.X].problems and found[Platform.X].overflow


def test_the_fingerprint_covers_every_version_and_stays_put_without_versions(app):
    from app.publishing import outbox

    with app.app_context():
        seed = seed_campaign(media=1)
        obj = _post(seed)
        plain = outbox.fingerprint(obj)
        versions.save(obj, Platform.X, message="Pour X")
        with_x = outbox.fingerprint(obj)
        assert with_x != plain
        versions.save(obj, Platform.X, options={"reply_settings": "following"})
        assert outbox.fingerprint(obj) != with_x
        versions.save(obj, Platform.X, message=None, options={})
        assert outbox.fingerprint(obj) == plain
        # A version of a network the post does not target is not what is approved.
        versions.save(obj, Platform.TIKTOK, message="Pas ciblé")
        assert outbox.fingerprint(obj) == plain


def test_each_payload_carries_its_networks_version(app):
    from app.publishing import payload

    with app.test_request_context():
        seed = seed_campaign(media=0)
        flyer = make_asset("programme", kind=MediaKind.DOCUMENT)  # sent as it is, no rendition
        obj = _post(seed, media=[flyer.id])
        versions.save(obj, Platform.X, message="Pour X", link="", media=[])
        versions.save(obj, Platform.LINKEDIN, options={"visibility": "CONNECTIONS"})
        bodies = {}
        for platform in ("x", "linkedin"):
            publication = Publication(
                object_id=obj.id,
                campaign_scenario_id=seed.scenarios[platform],
                idempotency_key=f"v-{platform}",
                fingerprint="f",
            )
            db.session.add(publication)
            db.session.flush()
            bodies[platform] = payload.build(publication)
        assert (bodies["x"]["text"], bodies["x"]["link"], bodies["x"]["media"]) == ("Pour X", None, [])
        assert bodies["linkedin"]["text"] == obj.message and bodies["linkedin"]["link"] == obj.link
        assert [item["mime"] for item in bodies["linkedin"]["media"]] == [flyer.mime]
        # Every option of the network travels, with its default where the version sets none.
        assert bodies["linkedin"]["options"] == {"visibility": "CONNECTIONS", "alt_texts": {}, "first_comment": None}
        assert bodies["x"]["options"] == {"reply_settings": "everyone", "first_comment": None}


def test_a_file_used_only_by_a_version_counts_as_used(app):
    from app.reviews.service import objects_using_media

    with app.app_context():
        seed = seed_campaign(media=1)
        obj = _post(seed)
        own = make_asset("Seulement pour X")
        versions.save(obj, Platform.X, media=[own.id])
        assert objects_using_media(own.id) == [obj.id]
