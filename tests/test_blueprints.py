"""The project's scenario blueprints, rendered, validated and run by the strict Make emulator
(docs/make-modules.md): every route of every network, the dry run, a refused post, a media
download, a callback retried hours later, and the importable starter files."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from app.hooks import signature
from app.integrations import blueprints, template_check
from app.integrations.make import MakeClient, MakeConfig
from app.models import Platform
from app.network_options import payload_options
from sandbox.make.validation import validate
from sandbox.server import BackgroundServer
from tests.make_sandbox import CONNECTIONS, SECRET, ServedEmulator, wait_for

OUTBOUND = ("datastore:", "http:")
VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40


class Receiver:
    """Stands for the CMS: keeps every callback (answering the scripted statuses, then 204) and
    serves the media files a scenario downloads (`/media/<name>`; `forbidden` answers 403)."""

    def __init__(self):
        self.calls: list[tuple[dict, bytes]] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        if environ["REQUEST_METHOD"] == "GET" and path.startswith("/media/"):
            if path.endswith("/forbidden"):
                start_response("403 Forbidden", [("Content-Type", "text/plain")])
                return [b"expired link"]
            start_response(
                "200 OK", [("Content-Type", "video/mp4"), ("Content-Disposition", 'inline; filename="salon.mp4"')]
            )
            return [VIDEO]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        with self._lock:
            self.calls.append((headers, body))
            status = self.statuses.pop(0) if self.statuses else 204
        start_response(f"{status} Scripted", [])
        return [b""]

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _, body in self.calls]


@pytest.fixture(scope="module")
def stack():
    emulator, receiver = ServedEmulator(), Receiver()
    with BackgroundServer(receiver) as cms:
        yield emulator, receiver, cms.url
    emulator.stop()


def _rendered(platform: str, hook_id: int = 4711) -> dict:
    return blueprints.render(
        platform,
        name=f"cms-test-c1-a1-{platform}",
        hook_id=hook_id,
        connection_id=CONNECTIONS[platform],
        datastore_id=1,
        secret=SECRET,
    )


def _signature_headers(blueprint: dict) -> list[dict]:
    return [
        header
        for module in blueprints.walk_modules(blueprint["flow"])
        for header in (module.get("mapper") or {}).get("headers") or []
        if header["name"] == "webhook-signature"
    ]


@pytest.mark.parametrize("platform", blueprints.NATIVE_PLATFORMS)
def test_render_fills_every_placeholder(platform):
    blueprint = _rendered(platform)
    text = json.dumps(blueprint)
    parameters = [
        value
        for module in blueprints.walk_modules(blueprint["flow"])
        for value in (module.get("parameters") or {}).values()
    ]
    assert blueprints.SECRET_PLACEHOLDER not in text and None not in parameters
    assert blueprint["name"] == f"cms-test-c1-a1-{platform}"
    assert blueprints.bindings(blueprint) == (4711, {CONNECTIONS[platform]})
    assert blueprint["metadata"]["scenario"]["confidential"] is True
    assert blueprint["metadata"]["scenario"]["dlq"] is True


@pytest.mark.parametrize("platform", blueprints.NATIVE_PLATFORMS)
def test_every_module_that_can_fail_has_an_error_handler_and_callbacks_stop_on_http_errors(platform):
    flow = blueprints.load(platform)["flow"]
    for module in blueprints.walk_modules(flow[1:]):
        name = module["module"]
        if name.startswith(OUTBOUND) or "__IMTCONN__" in (module.get("parameters") or {}):
            assert module.get("onerror"), f"{platform}: module {module['id']} {name}"
        if name == "http:MakeRequest":
            assert module["mapper"]["stopOnHttpError"] is True
            assert module["onerror"][0]["module"] == "builtin:Break"


@pytest.mark.parametrize("platform", blueprints.NATIVE_PLATFORMS)
def test_each_rendered_blueprint_passes_the_emulators_validation_endpoint(stack, platform):
    emulator, _, _ = stack
    answer = httpx.post(f"{emulator.url}/api/v2/blueprints/validate", json={"blueprint": _rendered(platform)})
    assert answer.json() == {"valid": True, "errors": []}


@pytest.mark.parametrize("platform", blueprints.NATIVE_PLATFORMS)
def test_each_rendered_blueprint_honours_the_template_contract(platform):
    """What the CMS demands of a template built in Make's editor, ours meet too."""
    assert template_check.check(_rendered(platform), secrets=[SECRET]) == []


@pytest.mark.parametrize("platform", ["x", "tiktok"])
def test_networks_without_a_public_make_module_publish_through_a_template(platform):
    assert not blueprints.native_supported(platform) and blueprints.requires_template(platform)
    assert blueprints.connection_types(platform) == ()
    with pytest.raises(blueprints.BlueprintError, match="template scenario"):
        _rendered(platform)


def test_native_networks_and_their_connection_types():
    assert blueprints.NATIVE_PLATFORMS == ("facebook", "instagram", "youtube", "linkedin")
    assert blueprints.connection_types("instagram") == ("facebook",)
    assert blueprints.connection_types("linkedin") == ("linkedin2", "linkedin-openid")


@pytest.mark.parametrize(
    "kwargs,problem",
    [
        ({"secret": "not hex at all, not long"}, "MAKE_CALLBACK_SECRET"),
        ({"secret": "ab" * 8}, "MAKE_CALLBACK_SECRET"),
        ({"hook_id": 0}, "hook id"),
        ({"connection_id": "77"}, "connection id"),
        ({"datastore_id": None}, "Data Store id"),
    ],
)
def test_render_refuses_what_would_make_a_broken_scenario(kwargs, problem):
    settings = {"name": "n", "hook_id": 1, "connection_id": 2, "datastore_id": 3, "secret": SECRET, **kwargs}
    with pytest.raises(blueprints.BlueprintError, match=problem):
        blueprints.render("facebook", **settings)


def test_replace_secret_swaps_the_key_of_every_signature():
    blueprint = _rendered("facebook")
    swapped, changed = blueprints.replace_secret(blueprint, SECRET, "0d" * 32)
    assert changed == len(_signature_headers(blueprint)) == 6  # dry run, stored, 2 x 2 routes
    assert SECRET not in json.dumps(swapped) and SECRET in json.dumps(blueprint)


@pytest.mark.parametrize("platform", blueprints.NATIVE_PLATFORMS)
def test_starter_files_are_generated_importable_and_in_sync(platform):
    starter = blueprints.starter(platform)
    on_disk = json.loads((blueprints.STARTERS_DIR / f"{platform}.json").read_text(encoding="utf-8"))
    assert on_disk == starter, "run: python -m app.integrations.blueprints"
    assert validate(starter, shareable=True) == []
    text = json.dumps(starter)
    assert all(f'"{key}"' not in text for key in blueprints.BINDINGS)
    assert text.count(blueprints.SECRET_PLACEHOLDER) == len(_signature_headers(starter))
    assert sorted(path.stem for path in blueprints.STARTERS_DIR.glob("*.json")) == sorted(blueprints.NATIVE_PLATFORMS)


# What the CMS sends as `options` (docs/external-apis.md §4.1): every option, defaults filled in.
OPTIONS = {"youtube": {"title": "Le salon en vidéo"}}


def _options(platform: str, **own) -> dict:
    return payload_options(Platform(platform), {**OPTIONS.get(platform, {}), **own})


def _payload(cms: str, platform: str, key: str, **changes) -> dict:
    payload = {
        "options": _options(platform),
        "delivery_id": "pub-7",
        "idempotency_key": key,
        "attempt": 1,
        "fingerprint": "sha256:abc",
        "platform": platform,
        "text": 'Rendez-vous "salon"',
        "account_identifier": "2414183" if platform == "linkedin" else "104857600000000",
        "object": {"id": 3, "title": "Salon 2026"},
        "link": None,
        "media": [{"url": f"{cms}/media/affiche.jpg", "mime": "image/jpeg", "alt_text": "Le stand B"}],
        "callback_url": f"{cms}/hooks/make",
    }
    return {**payload, **changes}


def _media(cms: str, *names: str, mime: str = "image/jpeg") -> list[dict]:
    return [{"url": f"{cms}/media/{name}", "mime": mime, "alt_text": ""} for name in names]


# (platform, payload changes, module published, what the network received, external_url)
ROUTES = [
    (
        "facebook",
        {"media": []},
        "facebook-pages:CreatePost",
        lambda cms: {"page_id": "104857600000000", "message": 'Rendez-vous "salon"', "link": None},
        "https://www.facebook.com/{id}",
    ),
    (
        "facebook",
        {"media": "two"},
        "facebook-pages:CreatePostWithPhotos",
        lambda cms: {
            "page_id": "104857600000000",
            "message": 'Rendez-vous "salon"',
            "photos": [{"type": "url", "url": f"{cms}/media/a.jpg"}, {"type": "url", "url": f"{cms}/media/b.jpg"}],
        },
        "https://www.facebook.com/{id}",
    ),
    (
        "instagram",
        {},
        "instagram-business:CreatePostPhoto",
        lambda cms: {
            "accountId": "104857600000000",
            "image_url": f"{cms}/media/affiche.jpg",
            "caption": 'Rendez-vous "salon"',
        },
        None,
    ),
    (
        "instagram",
        {"media": "video"},
        "instagram-business:CreateAReelPost",
        lambda cms: {
            "accountId": "104857600000000",
            "video_url": f"{cms}/media/clip.mp4",
            "caption": 'Rendez-vous "salon"',
            "share_to_feed": True,
            "thumb_offset": None,
        },
        None,
    ),
    # A Reel with its cover frame, kept off the feed (the options of docs/network-options.md §1.2).
    (
        "instagram",
        {"media": "video", "options": _options("instagram", format="reel", cover_frame_ms=2500, share_to_feed=False)},
        "instagram-business:CreateAReelPost",
        lambda cms: {
            "accountId": "104857600000000",
            "video_url": f"{cms}/media/clip.mp4",
            "caption": 'Rendez-vous "salon"',
            "share_to_feed": False,
            "thumb_offset": 2500,
        },
        None,
    ),
    (
        "linkedin",
        {},
        "linkedin:CreateCompanyImagePost",
        lambda cms: {
            "organization": "urn:li:organization:2414183",
            "content": 'Rendez-vous "salon"',
            "visibility": "PUBLIC",
            "feedDistribution": "MAIN_FEED",
            "isReshareDisabledByAuthor": False,
            "method": "link",
            "url": f"{cms}/media/affiche.jpg",
            "title": "Salon 2026",
            "altText": "Le stand B",
        },
        "https://www.linkedin.com/feed/update/{id}/",
    ),
    # The version's visibility reaches the module.
    (
        "linkedin",
        {"options": _options("linkedin", visibility="CONNECTIONS")},
        "linkedin:CreateCompanyImagePost",
        lambda cms: {
            "organization": "urn:li:organization:2414183",
            "content": 'Rendez-vous "salon"',
            "visibility": "CONNECTIONS",
            "feedDistribution": "MAIN_FEED",
            "isReshareDisabledByAuthor": False,
            "method": "link",
            "url": f"{cms}/media/affiche.jpg",
            "title": "Salon 2026",
            "altText": "Le stand B",
        },
        "https://www.linkedin.com/feed/update/{id}/",
    ),
    (
        "linkedin",
        {"media": [], "options": _options("linkedin", visibility="LOGGED_IN")},
        "linkedin:CreateTextShare",
        lambda cms: {
            "organization": "urn:li:organization:2414183",
            "content": 'Rendez-vous "salon"',
            "visibility": "LOGGED_IN",
            "feedDistribution": "MAIN_FEED",
            "isReshareDisabledByAuthor": False,
        },
        "https://www.linkedin.com/feed/update/{id}/",
    ),
    (
        "linkedin",
        {"media": [], "link": "https://cms.example/salon"},
        "linkedin:CreateTextShare",
        lambda cms: {
            "organization": "urn:li:organization:2414183",
            "content": 'Rendez-vous "salon"',
            "visibility": "PUBLIC",
            "feedDistribution": "MAIN_FEED",
            "isReshareDisabledByAuthor": False,
            "type": "ARTICLE",
            "media": {"originalUrl": "https://cms.example/salon", "title": "Salon 2026"},
        },
        "https://www.linkedin.com/feed/update/{id}/",
    ),
    (
        "linkedin",
        {"media": []},
        "linkedin:CreateTextShare",
        lambda cms: {
            "organization": "urn:li:organization:2414183",
            "content": 'Rendez-vous "salon"',
            "visibility": "PUBLIC",
            "feedDistribution": "MAIN_FEED",
            "isReshareDisabledByAuthor": False,
        },
        "https://www.linkedin.com/feed/update/{id}/",
    ),
    (
        "youtube",
        {"media": "video"},
        "youtube:uploadVideo",
        lambda cms: {
            "title": "Le salon en vidéo",
            "description": 'Rendez-vous "salon"',
            "file": {
                "filename": "salon.mp4",
                "data": {"__buffer__": True, "size": len(VIDEO), "sha256": hashlib.sha256(VIDEO).hexdigest()},
            },
            "privacyStatus": "public",
            "categoryId": "22",
            "madeForKids": False,
            "containsAlteredMedia": False,
        },
        "https://www.youtube.com/watch?v={id}",
    ),
    # The video's own visibility, category and audience (uploads were always public before).
    (
        "youtube",
        {"media": "video", "options": _options("youtube", privacy="unlisted", category="27", made_for_kids=True)},
        "youtube:uploadVideo",
        lambda cms: {
            "title": "Le salon en vidéo",
            "description": 'Rendez-vous "salon"',
            "file": {
                "filename": "salon.mp4",
                "data": {"__buffer__": True, "size": len(VIDEO), "sha256": hashlib.sha256(VIDEO).hexdigest()},
            },
            "privacyStatus": "unlisted",
            "categoryId": "27",
            "madeForKids": True,
            "containsAlteredMedia": False,
        },
        "https://www.youtube.com/watch?v={id}",
    ),
    # A post approved before titles were asked for: the post's title, as before.
    (
        "youtube",
        {"media": "video", "options": _options("youtube", title="")},
        "youtube:uploadVideo",
        lambda cms: {
            "title": "Salon 2026",
            "description": 'Rendez-vous "salon"',
            "file": {
                "filename": "salon.mp4",
                "data": {"__buffer__": True, "size": len(VIDEO), "sha256": hashlib.sha256(VIDEO).hexdigest()},
            },
            "privacyStatus": "public",
            "categoryId": "22",
            "madeForKids": False,
            "containsAlteredMedia": False,
        },
        "https://www.youtube.com/watch?v={id}",
    ),
]


def _provision(emulator, platform: str) -> tuple[MakeClient, dict]:
    make = MakeClient(MakeConfig.from_settings(emulator.settings()))
    hook = make.create_hook(f"cms-test-{platform}")
    scenario = make.create_scenario(_rendered(platform, hook["id"]))
    assert scenario["isinvalid"] is False
    make.start_scenario(scenario["id"])
    return make, hook


@pytest.mark.parametrize(
    "platform, changes, module, received, url",
    ROUTES,
    ids=[f"{r[0]}-{r[2].split(':')[1]}-{i}" for i, r in enumerate(ROUTES)],
)
def test_each_route_publishes_once_and_calls_back_signed(stack, platform, changes, module, received, url):
    emulator, receiver, cms = stack
    emulator.reset()
    receiver.calls.clear()
    shapes = {"two": _media(cms, "a.jpg", "b.jpg"), "video": _media(cms, "clip.mp4", mime="video/mp4")}
    media = shapes.get(changes["media"]) if isinstance(changes.get("media"), str) else None
    payload = _payload(cms, platform, f"pub-7-g1-{platform}", **{**changes, **({"media": media} if media else {})})
    make, hook = _provision(emulator, platform)
    with make:
        for attempt in (1, 2):  # the same key twice: one post, two callbacks
            assert httpx.post(make.hook_url(hook), json={**payload, "attempt": attempt}).text == "Accepted"
            wait_for(lambda: len(receiver.calls) == attempt)
    posts = emulator.inspect("posts")["posts"]
    assert [(post["module"], post["input"]) for post in posts] == [(module, received(cms))]
    stats = emulator.inspect("stats")
    # The second run took the "already published" route: the Data Store lookup and the
    # filters kept it away from the network module (real Make would have posted again).
    assert stats["republish_blocked"] == 0 and stats["executions_by_status"] == {"success": 2}
    first, second = receiver.bodies()
    for (headers, body), attempt in zip(receiver.calls, (1, 2)):
        # The CMS's own verifier (POST /hooks/make) accepts what the blueprint signed.
        assert signature.verify(headers, body, [SECRET]) == f"pub-7:published:{attempt}"
    assert first == {**second, "sent_at": first["sent_at"]}
    assert first["status"] == "published" and first["error"] is None
    assert first["external_id"] == posts[0]["external_id"]
    assert first["external_url"] == (url.format(id=first["external_id"]) if url else None)


@pytest.mark.parametrize("platform", blueprints.NATIVE_PLATFORMS)
def test_a_dry_run_posts_nothing_stores_nothing_and_answers_dry_run_ok(stack, platform):
    emulator, receiver, cms = stack
    emulator.reset()
    receiver.calls.clear()
    make, hook = _provision(emulator, platform)
    key = "dry-9-0123456789abcdef0123456789abcdef"
    with make:
        httpx.post(make.hook_url(hook), json={**_payload(cms, platform, key), "dry_run": True, "delivery_id": "dry-9"})
        wait_for(lambda: receiver.calls)
        ((headers, body),) = receiver.calls
        assert json.loads(body) == {"delivery_id": "dry-9", "idempotency_key": key, "status": "dry_run_ok"}
        assert signature.verify(headers, body, [SECRET]) == f"{key}:dry_run_ok"
        assert emulator.inspect("posts")["posts"] == []
        # Nothing was recorded: the same key without dry_run publishes.
        httpx.post(
            make.hook_url(hook),
            json=_payload(
                cms,
                platform,
                key,
                media=_media(cms, "clip.mp4", mime="video/mp4")
                if platform == "youtube"
                else _payload(cms, platform, key)["media"],
            ),
        )
        wait_for(lambda: len(receiver.calls) == 2)
    assert json.loads(receiver.calls[1][1])["status"] == "published"
    assert len(emulator.inspect("posts")["posts"]) == 1


def _publish_once(stack, platform: str, key: str, **changes) -> tuple[dict, bytes]:
    """One payload through a fresh scenario of the platform; the callback it produced."""
    emulator, receiver, cms = stack
    make, hook = _provision(emulator, platform)
    with make:
        httpx.post(make.hook_url(hook), json=_payload(cms, platform, key, **changes))
        wait_for(lambda: receiver.calls)
        scenario = make.find_scenario(f"cms-test-c1-a1-{platform}")
        assert make.get_scenario(scenario["id"])["isActive"] is True
    return receiver.calls[0]


def test_a_refused_post_calls_back_failed_and_keeps_the_scenario_active(stack):
    emulator, receiver, cms = stack
    emulator.reset()
    receiver.calls.clear()
    # A network's message may hold anything: the callback's JSON must survive quotes,
    # backslashes and line breaks (TransformToJSON serialises it before it is spliced in).
    message = 'Le réseau a dit "non" \\ {"code": 190}\nretry later'
    emulator.knobs(outcome="failed", failure_message=message)
    headers, body = _publish_once(stack, "instagram", "pub-8-g1", delivery_id="pub-8", attempt=2)
    callback = json.loads(body)
    assert signature.verify(headers, body, [SECRET]) == "pub-8:failed:2"
    assert callback["status"] == "failed" and callback["error"] == {"message": message}
    assert callback["external_id"] is None and emulator.inspect("posts")["posts"] == []


def test_a_media_link_that_cannot_be_downloaded_calls_back_failed(stack):
    emulator, receiver, cms = stack
    emulator.reset()
    receiver.calls.clear()
    _, body = _publish_once(stack, "youtube", "pub-9-g1", media=_media(cms, "forbidden", mime="video/mp4"))
    callback = json.loads(body)
    assert callback["status"] == "failed" and "[403]" in callback["error"]["message"]
    assert emulator.inspect("posts")["posts"] == []


def test_a_post_missing_what_the_network_requires_fails_with_makes_reason(stack):
    emulator, receiver, _ = stack
    emulator.reset()
    receiver.calls.clear()
    _, body = _publish_once(stack, "instagram", "pub-10-g1", media=[])
    assert json.loads(body)["error"] == {
        "message": "Validation failed for 1 parameter(s). Missing value of required parameter 'image_url'."
    }


def test_a_refused_callback_is_retried_hours_later_with_its_first_timestamp(stack):
    """Break re-runs the callback module alone: the variables computed in the first run (the
    timestamp, the webhook id, the body) are sent again, unchanged, 30 minutes apart."""
    emulator, receiver, cms = stack
    emulator.reset()
    receiver.calls.clear()
    emulator.knobs(clock_offset_s=-3 * 3600)  # the run began three hours ago
    receiver.statuses = [503] * 6
    make, hook = _provision(emulator, "facebook")
    with make:
        httpx.post(make.hook_url(hook), json=_payload(cms, "facebook", "pub-11-g1", media=[]))
        wait_for(lambda: len(receiver.calls) == 7)
    sent = emulator.inspect("callbacks")["callbacks"]
    assert [(c["attempt"], c["status_code"]) for c in sent] == [(n, 503) for n in range(1, 7)] + [(7, 204)]
    assert (
        len({(h["webhook-id"], h["webhook-timestamp"], h["webhook-signature"], body) for h, body in receiver.calls})
        == 1
    )
    headers, body = receiver.calls[-1]
    assert headers["webhook-signature"] == signature.sign(
        SECRET, headers["webhook-id"], headers["webhook-timestamp"], body
    )
    first_clock, last_clock = (datetime.fromisoformat(c["run_clock"]) for c in (sent[0], sent[-1]))
    assert timedelta(hours=3) <= last_clock - first_clock < timedelta(hours=3, minutes=1)
    signed_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), timezone.utc)
    assert abs(signed_at - first_clock) < timedelta(seconds=5)
    # The last attempt is sent now, carrying a timestamp three hours old: the 5-minute window
    # of Standard Webhooks would refuse it, the CMS's late-callback window has to accept it.
    now = datetime.now(timezone.utc)
    assert abs(last_clock - now) < timedelta(minutes=1)
    assert timedelta(hours=3) - timedelta(minutes=1) < now - signed_at < timedelta(hours=3, minutes=1)
    assert emulator.inspect("stats")["executions_by_status"] == {"success": 1}
