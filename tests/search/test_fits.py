"""Network-fit facets (`fits_<network>`): whether an asset can go to each network as it is or
once adapted, the verdict of the post check (`networks.check`) in both engines, in the library's
browsing, and in the picker of a post form, which offers by default the files that fit every
target of the post."""

import itertools
import re
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app import networks
from app.campaigns import objects
from app.extensions import db
from app.media import service
from app.models import MediaAsset, Platform
from app.search import MediaFilters, fits, indexing
from app.search import meili as engine
from app.search import postgres
from app.search.types import SearchRequest
from tests.conftest import csrf_token
from tests.media_support import EN, editor  # noqa: F401  (fixture)
from tests.objects_support import seed_campaign
from tests.search.test_search_ui import HX, chips, get

MB = 1024 * 1024
TZ = "Europe/Paris"
IMAGE_MIMES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/heic")
VIDEO_MIMES = ("video/mp4", "video/quicktime", "video/webm", "video/x-matroska")
# Every limit of app/networks.py broken, met exactly, or unknown (None).
IMAGE_SIZES = (0, 4 * MB, 4 * MB + 1, 8 * MB + 1, 16 * MB, 20 * MB + 1)
SHAPES = (None, (100, 100), (320, 400), (1440, 754), (4000, 1000), (200, 2000), (8000, 6000), (1920, 1080))
DURATIONS = (
    None,
    "0.2",
    "0.5",
    "0.999",
    "1",
    "2.999",
    "3",
    "60",
    "600",
    "600.001",
    "900",
    "900.5",
    "1200",
    "1200.001",
    "1800",
    "1800.001",
    "14400",
    "14400.5",
)
FPS = (None, "12", "24", "30", "60", "120")
VIDEO_SHAPES = (None, (320, 240), (1280, 720), (1080, 1920), (3840, 2160), (4000, 1000))
VIDEO_SIZES = (1000, 300 * MB + 1, 500 * MB + 1, 5 * 1024 * MB)
DOCUMENT_SIZES = (0, 1000, 100 * MB, 100 * MB + 1, 2 * 1024 * MB)
ITEM_CODES = {
    "image_type",
    "image_size",
    "image_ratio",
    "image_width",
    "image_pixels",
    "video_type",
    "video_size",
    "video_duration",
    "video_fps",
    "video_small",
    "video_large",
    "video_ratio",
    "document",
    "document_size",
}


def corpus_rows():
    rows = [
        ("image", mime, size, shape, None, None)
        for mime, size, shape in itertools.product(IMAGE_MIMES, IMAGE_SIZES, SHAPES)
    ]
    for n, (duration, mime) in enumerate(itertools.product(DURATIONS, VIDEO_MIMES)):
        # each duration with every format, and the other values turned through in step
        rows.append(
            (
                "video",
                mime,
                VIDEO_SIZES[n % len(VIDEO_SIZES)],
                VIDEO_SHAPES[n % len(VIDEO_SHAPES)],
                duration,
                FPS[n % len(FPS)],
            )
        )
    rows += [("document", "application/pdf", size, None, None, None) for size in DOCUMENT_SIZES]
    return rows


def insert(kind, mime, size, shape=None, duration=None, fps=None, title="file") -> int:
    return db.session.scalar(
        sa.insert(MediaAsset)
        .values(
            title=title,
            filename="f",
            mime=mime,
            kind=kind,
            size_bytes=size,
            sha256=uuid.uuid4().hex + uuid.uuid4().hex,
            storage_backend="local",
            status="ready",
            width=shape[0] if shape else None,
            height=shape[1] if shape else None,
            duration_s=Decimal(duration) if duration is not None else None,
            frame_rate=Decimal(fps) if fps is not None else None,
        )
        .returning(MediaAsset.id)
    )


def expected_fits(asset: MediaAsset) -> set[str]:
    """What the post check says of a post holding this file alone, per network."""
    facts = objects.facts(asset)
    return {p.value for p in Platform if not networks.check(p, "", [facts])}


def test_the_facets_agree_with_the_post_check_for_every_limit(app):
    with app.test_request_context(headers=EN):
        ids = [insert(*row) for row in corpus_rows()]
        assets = list(db.session.scalars(sa.select(MediaAsset).where(MediaAsset.id.in_(ids))))
        expected = {asset.id: expected_fits(asset) for asset in assets}

        # The corpus breaks every limit a file can break, and each network takes some and not others.
        codes = {
            problem.code
            for asset in assets
            for p in Platform
            for problem in networks.check(p, "", [objects.facts(asset)], adapt=False)
        }
        assert ITEM_CODES <= codes, ITEM_CODES - codes
        for platform in Platform:
            taken = sum(platform.value in found for found in expected.values())
            assert 0 < taken < len(assets), platform

        # Meilisearch's documents
        documents = {doc["id"]: doc for doc in indexing.documents("media", ids)}
        for asset_id, found in expected.items():
            assert {p.value for p in Platform if documents[asset_id][f"fits_{p.value}"]} == found, asset_id
        # PostgreSQL's expression, as the facet counts read it
        rows = db.session.execute(
            sa.text(f"SELECT d.id, {fits.sql_array()} FROM media_assets d WHERE d.id = ANY(:ids)"), {"ids": ids}
        )
        assert {asset_id: set(found) for asset_id, found in rows} == expected
        # ... as the search filters with it, and as the library's browsing does
        for platform in Platform:
            fitting = {i for i, found in expected.items() if platform.value in found}
            where = db.session.scalars(
                sa.text(f"SELECT d.id FROM media_assets d WHERE d.id = ANY(:ids) AND {fits.sql(platform)}"),
                {"ids": ids},
            )
            assert set(where) == fitting, platform
            browsed = db.session.scalars(
                service._filtered(service.Filters(fits=(platform.value,))).where(MediaAsset.id.in_(ids))
            )
            assert {asset.id for asset in browsed} == fitting, platform


# -- both engines ----------------------------------------------------------------------------

FILES = {  # key: (kind, mime, size, shape, duration, fps)
    "wide_jpeg": ("image", "image/jpeg", 13 * MB, (5000, 2000), None, None),  # adapted everywhere it goes
    "png": ("image", "image/png", 200_000, (1200, 1200), None, None),
    "clip": ("video", "video/quicktime", 80 * MB, (1280, 720), "45", "60"),
    "long": ("video", "video/mp4", 900 * MB, (1920, 1080), "1500", "25"),  # Facebook and LinkedIn only
    "short": ("video", "video/mp4", 2 * MB, (1080, 1920), "2", "30"),  # under the 3 s of IG, LI, TikTok
    "pdf": ("document", "application/pdf", 5 * MB, None, None, None),  # LinkedIn alone
    "big_pdf": ("document", "application/pdf", 150 * MB, None, None, None),  # over LinkedIn's 100 MB
}


@pytest.fixture
def files(app):
    with app.app_context():
        ids = {key: insert(*values, title=f"Affiche salon {key}") for key, values in FILES.items()}
        db.session.commit()
        return ids


@pytest.fixture
def indexed(app, files, meili, monkeypatch):
    monkeypatch.setitem(app.config, "MEILI_URL", meili.url)
    monkeypatch.setitem(app.config, "MEILI_API_KEY", meili.key)
    monkeypatch.setitem(app.config, "MEILI_INDEX_PREFIX", "")
    with app.app_context():
        admin = engine.client()
        engine.ensure_indexes(admin)
        engine.wait(
            admin, admin.index("media_assets").add_documents(indexing.documents("media", files.values()), "id").task_uid
        )
    return files


@pytest.mark.parametrize(
    "query,filters,expected",
    [
        ("", {"fits": ["instagram"]}, {"wide_jpeg", "png", "clip"}),
        ("", {"fits": ["instagram", "x"]}, {"wide_jpeg", "png", "clip"}),
        ("", {"fits": ["youtube"]}, {"clip", "short"}),
        ("", {"fits": ["linkedin"]}, {"wide_jpeg", "png", "clip", "long", "pdf"}),
        ("", {"fits": ["tiktok"], "kinds": ["video"]}, {"clip"}),
        ("affiche", {"fits": ["facebook"]}, {"wide_jpeg", "png", "clip", "long", "short"}),
        ("salon", {}, set(FILES)),
    ],
)
def test_both_engines_filter_and_count_alike(app, indexed, query, filters, expected):
    with app.test_request_context(headers=EN):
        request = SearchRequest.build("media", query, MediaFilters(**filters), "title", 1, True)
        by_postgres = postgres.search(request, TZ)
        by_meili = engine.search(request, TZ, 5000)
        keys = {value: key for key, value in indexed.items()}
        assert {keys[i] for i in by_postgres.ids if i in keys} == expected
        assert by_meili.ids == [i for i in by_postgres.ids if i in keys]
        counts = by_postgres.facets["fits"]
        assert by_meili.facets["fits"] == counts and list(by_meili.facets["fits"]) == list(counts)
        # every file found fits each network asked for; the counts say how many fit each one
        for network in filters.get("fits", []):
            assert counts[network] == len(expected)
        with_x = sum(1 for key in expected if "x" in expected_fits(db.session.get(MediaAsset, indexed[key])))
        assert counts.get("x", 0) == with_x


def test_an_unknown_network_is_refused(client, editor):
    response = client.get("/media/search.json?fits=myspace")
    assert response.status_code == 400 and "fits" in response.get_json()["error"]
    assert client.get("/media/search.json?fits=instagram").status_code == 200


# -- the library and the picker --------------------------------------------------------------


def added(page: str) -> set[int]:
    return {int(i) for i in re.findall(r"add=(\d+)", page)}


def test_the_library_offers_a_fit_chip_and_a_checkbox_per_network(client, editor, files):
    page = get(client, "/media/", HX)
    found = chips(page)
    assert found["YouTube"][0] == "/media/?fits=youtube" and not found["YouTube"][1]
    assert 'name="fits" value="youtube" form="media-filters">' in page
    narrowed = get(client, "/media/?fits=youtube&fits=x", HX)
    assert 'name="fits" value="youtube" form="media-filters" checked>' in narrowed
    cards = {int(i) for i in re.findall(r'data-asset-id="(\d+)"', narrowed)}
    assert cards == {files["clip"], files["short"]}
    # the active chip takes its network out and keeps the other
    assert chips(narrowed)["YouTube"] == ("/media/?fits=x", True)


def test_the_picker_offers_the_files_that_fit_every_target_and_can_show_them_all(client, editor, files):
    base = "/media/picker/results?field=media_ids&picker_for=instagram&picker_for=x"
    page = get(client, base, HX)
    assert added(page) == {files[k] for k in ("wide_jpeg", "png", "clip")}
    box = re.search(r'<label class="checkbox picker-fit".*?</label>', page, re.S).group()
    assert 'name="picker_anyfit" value="0" checked' in box and "fit every target (Instagram, X)" in box
    # unticked, the box leaves the hidden `anyfit=1` alone: every file is offered again
    everything = get(client, base + "&picker_anyfit=1", HX)
    assert added(everything) == set(files.values())
    assert 'name="picker_anyfit" value="0">' in everything
    # ticked again, the browser sends both: the box wins
    assert added(get(client, base + "&picker_anyfit=1&picker_anyfit=0", HX)) == added(page)
    # the links it makes keep the targets and the choice
    more = chips(everything)["Facebook"][0]
    assert "picker_for=instagram&picker_for=x" in more and "picker_anyfit=1" in more
    # no target: no box, every file
    plain = get(client, "/media/picker/results?field=media_ids", HX)
    assert "picker-fit" not in plain and added(plain) == set(files.values())
    # the picker follows its form's target boxes (media.js), unless told its networks are fixed
    assert '<div class="picker" id="picker-media_ids" data-follow-targets>' in get(
        client, "/media/picker?field=media_ids&picker_for=x", HX
    )
    fixed = get(client, "/media/picker?field=media_ids&picker_for=youtube&follow=none", HX)
    assert '<div class="picker" id="picker-media_ids">' in fixed and added(fixed) == {files["clip"], files["short"]}


def test_the_post_form_gives_the_picker_its_targets(app, client, editor):
    with app.app_context():
        seed = seed_campaign(platforms=(Platform.INSTAGRAM, Platform.X, Platform.LINKEDIN))
    token = csrf_token(client, "/campaigns/")
    response = client.post(
        f"/campaigns/{seed.campaign_id}/objects",
        headers=EN,
        data={
            "title": "Teaser",
            "message": "Salon",
            "link": "",
            "media_ids": seed.media,
            "targets": [seed.scenarios["instagram"], seed.scenarios["x"]],
            "scheduled_date": "",
            "scheduled_time": "",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    edit = get(client, response.headers["Location"].rstrip("/") + "/edit")
    picker = re.search(r'<div hx-get="([^"]+)"[^>]*data-testid="object-picker"', edit).group(1)
    assert "picker_for=instagram&amp;picker_for=x" in picker and "linkedin" not in picker
    new = get(client, f"/campaigns/{seed.campaign_id}/objects/new")
    assert "picker_for" not in re.search(r'<div hx-get="([^"]+)"[^>]*data-testid="object-picker"', new).group(1)
