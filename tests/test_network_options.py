"""Each network's own settings (app/network_options.py): reading and checking the form's
fields, what refuses a submission, the preview's lines, the payload and the blueprints' mapping."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import render_template
from werkzeug.datastructures import MultiDict

from app import network_options as no
from app.models import MediaKind, Platform

FR = {"Accept-Language": "fr"}


def _form(platform: Platform, **fields) -> MultiDict:
    prefix = f"options-{platform.value}-"
    return MultiDict({prefix + "shown": "1", **{prefix + k: v for k, v in fields.items()}})


def _asset(kind="video", duration=None, asset_id=1, alt=""):
    return SimpleNamespace(id=asset_id, kind=MediaKind(kind), duration_s=duration, title=f"f{asset_id}", alt_text=alt)


def test_youtube_options_are_read_and_checked_in_french(app):
    with app.test_request_context(headers=FR):
        values, errors = no.parse(
            Platform.YOUTUBE,
            _form(
                Platform.YOUTUBE,
                title="Le salon 2026",
                privacy="unlisted",
                category="27",
                made_for_kids="",
                notify_subscribers="1",
                tags="salon, #paris, salon, stand 12",
            ),
        )
        assert errors == {}
        # Defaults are not stored: notify_subscribers is on by default, made_for_kids off.
        assert values == {
            "title": "Le salon 2026",
            "privacy": "unlisted",
            "category": "27",
            "tags": ["salon", "paris", "stand 12"],
        }
        values, errors = no.parse(
            Platform.YOUTUBE,
            _form(
                Platform.YOUTUBE,
                title="A <b>" + "x" * 100,
                privacy="secret",
                tags=",".join(f"mot{n}" for n in range(100)),
            ),
        )
        assert errors["title"] == "105 caractères ; 100 au plus."
        assert errors["privacy"] == "Choisissez l’une des valeurs proposées."
        assert "YouTube en accepte 500" in errors["tags"]
        _, errors = no.parse(Platform.YOUTUBE, _form(Platform.YOUTUBE, title="A <b>"))
        assert errors["title"] == "Les caractères < et > ne sont pas acceptés."


def test_youtube_tags_count_commas_and_quotes_as_youtube_does():
    assert no.tags_length(["salon", "stand 12"]) == 5 + 1 + 8 + 2
    assert no.tags_length([]) == 0


def test_boxes_keep_their_default_when_the_form_did_not_show_them(app):
    with app.test_request_context():
        values, _ = no.parse(Platform.INSTAGRAM, MultiDict({}))
        assert values == {}
        values, _ = no.parse(Platform.INSTAGRAM, _form(Platform.INSTAGRAM))
        assert values == {"share_to_feed": False}


def test_instagram_options_and_their_problems(app):
    with app.test_request_context(headers=FR):
        values, errors = no.parse(
            Platform.INSTAGRAM,
            _form(
                Platform.INSTAGRAM,
                format="reel",
                cover_frame_ms="2,5",
                share_to_feed="1",
                first_comment="#salon #paris",
            ),
        )
        assert errors == {}
        assert values == {"format": "reel", "cover_frame_ms": 2500, "first_comment": "#salon #paris"}
        _, errors = no.parse(Platform.INSTAGRAM, _form(Platform.INSTAGRAM, cover_frame_ms="deux"))
        assert errors == {"cover_frame_ms": "Indiquez un moment en secondes, par exemple 2,5."}
        photo = SimpleNamespace(media=[_asset("image")])
        found = {p.code: p.message for p in no.problems(Platform.INSTAGRAM, {"format": "reel"}, photo)}
        assert found == {"option_format_reel": "Un Reel est exactement une vidéo."}
        short = SimpleNamespace(media=[_asset("video", duration=2.0)])
        found = {p.code: p.message for p in no.problems(Platform.INSTAGRAM, values, short)}
        assert found == {"option_cover_frame_ms_outside": "L’image de couverture est à 2,5 s mais la vidéo dure 2 s."}
        assert no.problems(Platform.INSTAGRAM, values, SimpleNamespace(media=[_asset("video", 9.0)])) == []
        found = {p.code for p in no.problems(Platform.INSTAGRAM, {"format": "story"}, photo)}
        assert found == {"option_format_unsupported"}


def test_youtube_without_title_and_tiktok_without_privacy_are_refused(app):
    with app.test_request_context(headers=FR):
        video = SimpleNamespace(media=[_asset("video", 30.0)])
        assert [p.message for p in no.problems(Platform.YOUTUBE, {}, video)] == [
            "YouTube exige ce réglage : Titre de la vidéo."
        ]
        assert no.problems(Platform.YOUTUBE, {"title": "Salon"}, video) == []
        assert [p.code for p in no.problems(Platform.TIKTOK, {}, video)] == ["option_privacy_level_missing"]


def test_linkedin_connections_only_with_an_image(app):
    with app.test_request_context():
        text_only = SimpleNamespace(media=[])
        assert [p.code for p in no.problems(Platform.LINKEDIN, {"visibility": "CONNECTIONS"}, text_only)] == [
            "option_visibility_text"
        ]
        assert (
            no.problems(Platform.LINKEDIN, {"visibility": "CONNECTIONS"}, SimpleNamespace(media=[_asset("image")]))
            == []
        )
        values, errors = no.parse(
            Platform.LINKEDIN,
            _form(Platform.LINKEDIN, visibility="LOGGED_IN", **{"alt_texts-7": " Le stand ", "alt_texts-8": ""}),
        )
        assert errors == {} and values == {"visibility": "LOGGED_IN", "alt_texts": {"7": "Le stand"}}


def test_facebook_and_tiktok_options_and_their_problems(app):
    with app.test_request_context(headers=FR):
        values, errors = no.parse(
            Platform.TIKTOK, _form(Platform.TIKTOK, privacy_level="SELF_ONLY", allow_comments="1")
        )
        assert errors == {} and values == {"privacy_level": "SELF_ONLY", "allow_comments": True}
        _, errors = no.parse(Platform.TIKTOK, _form(Platform.TIKTOK, privacy_level="FRIENDS"))
        assert errors == {"privacy_level": "Choisissez l’une des valeurs proposées."}
        # A value stored by another way than the form is refused at submission all the same.
        found = [p.message for p in no.problems(Platform.TIKTOK, {"privacy_level": "FRIENDS"}, None)]
        assert found == ["Qui peut regarder : choisissez l’une des valeurs proposées."]
        photo = SimpleNamespace(media=[_asset("image")])
        found = {p.code for p in no.problems(Platform.FACEBOOK, {"format": "reel"}, photo)}
        assert found == {"option_format_reel", "option_format_unsupported"}
        assert no.problems(Platform.FACEBOOK, {}, photo) == []
        assert no.problems(Platform.FACEBOOK, {"first_comment": "Merci !"}, photo) == []
        _, errors = no.parse(Platform.FACEBOOK, _form(Platform.FACEBOOK, first_comment="x" * 8_001))
        assert errors == {"first_comment": "8001 caractères ; 8000 au plus."}


def test_x_reply_settings_use_the_api_values(app):
    with app.test_request_context():
        values, errors = no.parse(Platform.X, _form(Platform.X, reply_settings="mentionedUsers"))
        assert errors == {} and values == {"reply_settings": "mentionedUsers"}
        assert no.payload_options(Platform.X, {}) == {"reply_settings": "everyone", "first_comment": None}
        # The first reply is a post of its own: 280, counted X's way (a link weighs 23).
        _, errors = no.parse(Platform.X, _form(Platform.X, first_comment="Voir example.org/salon " + "a" * 252))
        assert errors == {"first_comment": "281 caractères ; 280 au plus."}
        _, errors = no.parse(Platform.X, _form(Platform.X, first_comment="Voir example.org/salon " + "a" * 251))
        assert errors == {}


def test_describe_says_what_make_does_not_pass_on(app):
    with app.test_request_context(headers=FR):
        lines = no.describe(Platform.YOUTUBE, {"title": "Salon", "privacy": "unlisted", "tags": ["a"]})
        assert "Visibilité : Non répertoriée" in lines
        assert any(line.startswith("Mots-clés : a — Make ne transmet pas ce réglage :") for line in lines)
        assert no.describe(Platform.YOUTUBE, {})[0] == "Titre de la vidéo : manquant"
        # YouTube notifies subscribers by default: only turning it off needs the warning.
        assert "Prévenir les abonnés : oui" in no.describe(Platform.YOUTUBE, {"title": "Salon"})
        off = no.describe(Platform.YOUTUBE, {"title": "Salon", "notify_subscribers": False})
        assert any(line.startswith("Prévenir les abonnés : non — Make ne transmet pas") for line in off)


@pytest.mark.parametrize("platform", list(Platform))
def test_the_partials_render_every_network(app, platform):
    with app.test_request_context(headers=FR):
        html = render_template(
            "campaigns/_network_options.html",
            platform=platform,
            values={},
            errors={},
            prefix=f"options-{platform.value}-",
            option_media=[_asset("image", asset_id=5, alt="Le stand")],
        )
        assert f'name="options-{platform.value}-shown"' in html
        for option in no.OPTIONS[platform]:
            assert f'options-{platform.value}-{option.name}' in html
        summary = render_template("campaigns/_options_summary.html", platform=platform, options={})
        assert "options-summary" in summary or platform not in (Platform.YOUTUBE, Platform.TIKTOK)


def test_submit_is_refused_for_a_youtube_video_without_title_then_accepted(app, client, auth):
    from app import versions
    from app.extensions import db
    from app.models import ContentObject, ObjectStatus
    from tests.conftest import csrf_token
    from tests.objects_support import make_asset, make_objects, seed_campaign

    auth.login("editor")
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.YOUTUBE,), extra_statuses=(), media=0)
        clip = make_asset("clip", mime="video/mp4", kind=MediaKind.VIDEO, size=(1280, 720))
        clip.duration_s = 30
        [object_id] = make_objects(
            seed.campaign_id,
            [seed.scenarios["youtube"]],
            [clip.id],
            1,
            author_id=auth.user_id,
            statuses=(ObjectStatus.DRAFT,),
        )
    url = f"/campaigns/{seed.campaign_id}/objects/{object_id}"
    token = csrf_token(client, url)
    refused = client.post(url + "/submit", data={"csrf_token": token}, headers=FR)
    assert refused.status_code == 303
    html = client.get(url, headers=FR).get_data(as_text=True)
    assert "YouTube exige ce réglage : Titre de la vidéo." in html
    with app.app_context():
        obj = db.session.get(ContentObject, object_id)
        assert obj.status is ObjectStatus.DRAFT
        versions.save(obj, Platform.YOUTUBE, options={"title": "Le salon en vidéo", "privacy": "unlisted"})
        db.session.commit()
    assert client.post(url + "/submit", data={"csrf_token": token}, headers=FR).status_code == 303
    with app.app_context():
        assert db.session.get(ContentObject, object_id).status is ObjectStatus.IN_REVIEW


def test_the_payload_carries_every_option_and_linkedin_alt_texts(app):
    from app import versions
    from app.extensions import db
    from app.models import ContentObject, Publication
    from app.publishing import payload
    from tests.objects_support import make_asset, make_objects, seed_campaign

    with app.test_request_context():
        seed = seed_campaign(platforms=(Platform.LINKEDIN, Platform.X), extra_statuses=(), media=0)
        flyer = make_asset("programme", mime="application/pdf", kind=MediaKind.DOCUMENT)
        flyer.alt_text = "Le programme"
        [object_id] = make_objects(seed.campaign_id, list(seed.scenarios.values()), [flyer.id], 1)
        obj = db.session.get(ContentObject, object_id)
        versions.save(
            obj,
            Platform.LINKEDIN,
            options={"visibility": "LOGGED_IN", "alt_texts": {str(flyer.id): "Programme du salon"}},
        )
        bodies = {}
        for platform in ("linkedin", "x"):
            publication = Publication(
                object_id=obj.id,
                campaign_scenario_id=seed.scenarios[platform],
                idempotency_key=f"o-{platform}",
                fingerprint="f",
            )
            db.session.add(publication)
            db.session.flush()
            bodies[platform] = payload.build(publication)
        assert bodies["linkedin"]["options"] == {
            "visibility": "LOGGED_IN",
            "first_comment": None,
            "alt_texts": {str(flyer.id): "Programme du salon"},
        }
        assert bodies["linkedin"]["media"][0]["alt_text"] == "Programme du salon"
        assert bodies["x"]["options"] == {"reply_settings": "everyone", "first_comment": None}
        assert bodies["x"]["media"][0]["alt_text"] == "Le programme"


def test_a_format_the_scenario_cannot_publish_fails_the_payload_with_the_reason(app):
    from app import versions
    from app.extensions import db
    from app.models import ContentObject, Publication
    from app.publishing import payload
    from tests.objects_support import make_objects, seed_campaign

    with app.test_request_context(headers=FR):
        seed = seed_campaign(platforms=(Platform.INSTAGRAM,), extra_statuses=(), media=1)
        [object_id] = make_objects(seed.campaign_id, [seed.scenarios["instagram"]], seed.media, 1)
        obj = db.session.get(ContentObject, object_id)
        # Edited after approval (back to review without the submission's checks).
        versions.save(obj, Platform.INSTAGRAM, options={"format": "story"})
        publication = Publication(
            object_id=obj.id,
            campaign_scenario_id=seed.scenarios["instagram"],
            idempotency_key="o-story",
            fingerprint="f",
        )
        db.session.add(publication)
        db.session.flush()
        with pytest.raises(LookupError) as refused:  # the sender fails the publication with it
            payload.build(publication)
        assert isinstance(refused.value, no.Refused)
        assert str(refused.value).startswith("Le scénario Make ne sait pas publier ce format")


def test_a_worker_builds_the_payload_outside_any_request(app):
    """The sender runs in a worker: no request, so no session or Accept-Language to read. The
    checks' messages are then in the default language (French) instead of failing the send."""
    from app import versions
    from app.extensions import db
    from app.models import ContentObject, Publication
    from app.publishing import payload
    from tests.objects_support import make_objects, seed_campaign

    with app.app_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.X), extra_statuses=(), media=0)
        [object_id] = make_objects(seed.campaign_id, list(seed.scenarios.values()), [], 1)
        obj = db.session.get(ContentObject, object_id)
        versions.save(obj, Platform.INSTAGRAM, options={"format": "story"})
        built = {}
        for platform in ("x", "instagram"):
            publication = Publication(
                object_id=obj.id,
                campaign_scenario_id=seed.scenarios[platform],
                idempotency_key=f"w-{platform}",
                fingerprint="f",
            )
            db.session.add(publication)
            db.session.flush()
            try:
                built[platform] = payload.build(publication)
            except LookupError as refused:
                built[platform] = refused
        assert built["x"]["options"]["reply_settings"] == "everyone"
        assert isinstance(built["instagram"], no.Refused)
        assert "Le scénario Make ne sait pas publier ce format" in str(built["instagram"])
