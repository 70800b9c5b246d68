"""Per-network checks: text counted each network's way, media count, mix, kind, size, shape."""
import pytest

from app.models import Platform
from app.networks import MB, RULES, MediaFacts, check, text_length

JPEG_SQUARE = MediaFacts("image", "image/jpeg", 500_000, 1080, 1080)
PNG_WIDE = MediaFacts("image", "image/png", 900_000, 1920, 1080)
REEL = MediaFacts("video", "video/mp4", 40 * MB, 1080, 1920, duration_s=30, fps=30)


def codes(platform, text, media):
    return [p.code for p in check(platform, text, media)]


def test_every_network_has_rules_with_sources():
    assert set(RULES) == set(Platform)
    assert all(rules.sources for rules in RULES.values())


def test_x_counts_weighted_characters_and_urls_as_23():
    assert text_length("a" * 10, "x_weighted") == 10
    assert text_length("日本", "x_weighted") == 4
    assert text_length("voir https://example.org/un/tres/long/chemin/de/page", "x_weighted") == 5 + 23
    assert codes(Platform.X, "é" * 280, []) == []
    assert codes(Platform.X, "é" * 281, []) == ["text_too_long"]
    assert codes(Platform.X, "🎉" * 141, []) == ["text_too_long"]


def test_youtube_counts_bytes_and_refuses_angle_brackets():
    assert text_length("été", "utf8_bytes") == 5
    problems = codes(Platform.YOUTUBE, "é" * 2501 + "<b>", [REEL])
    assert "text_too_long" in problems and "forbidden_characters" in problems


def test_instagram_needs_media_and_limits_hashtags_and_mentions(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert codes(Platform.INSTAGRAM, "hello", []) == ["media_required"]
        text = " ".join(f"#tag{n}" for n in range(31)) + " " + " ".join(f"@user{n}" for n in range(21))
        problems = check(Platform.INSTAGRAM, text, [JPEG_SQUARE])
        assert [p.code for p in problems] == ["too_many_hashtags", "too_many_mentions"]
        assert problems[0].message == "31 hashtags; at most 30."


def test_instagram_image_shape_type_and_width(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        problems = check(Platform.INSTAGRAM, "x", [PNG_WIDE])
        assert [p.code for p in problems] == ["image_type", "image_width"]
        assert problems[0].message.startswith("Media 1: this image format is not accepted")
        tall = MediaFacts("image", "image/jpeg", 100_000, 1000, 1500)
        assert codes(Platform.INSTAGRAM, "x", [tall]) == ["image_ratio"]


def test_mixing_and_counts():
    assert codes(Platform.FACEBOOK, "x", [JPEG_SQUARE, REEL]) == ["media_mix"]
    assert codes(Platform.X, "x", [JPEG_SQUARE] * 5) == ["too_many_media"]
    assert codes(Platform.LINKEDIN, "x", [JPEG_SQUARE]) == []
    assert codes(Platform.LINKEDIN, "x", [JPEG_SQUARE] * 21) == ["too_many_media"]
    assert codes(Platform.YOUTUBE, "x", [JPEG_SQUARE]) == ["too_many_media", "one_video"]
    assert codes(Platform.INSTAGRAM, "x", [JPEG_SQUARE, REEL]) == []  # a carousel may mix


def test_video_duration_fps_and_size():
    short = MediaFacts("video", "video/mp4", MB, 1080, 1920, duration_s=1.5, fps=30)
    assert codes(Platform.TIKTOK, "x", [short]) == ["video_duration"]
    slow = MediaFacts("video", "video/mp4", MB, 1080, 1920, duration_s=10, fps=15)
    assert codes(Platform.INSTAGRAM, "x", [slow]) == ["video_fps"]
    small = MediaFacts("video", "video/mp4", MB, 320, 240, duration_s=10, fps=30)
    assert "video_small" in codes(Platform.FACEBOOK, "x", [small])
    big = MediaFacts("video", "video/mp4", 600 * MB, 1920, 1080, duration_s=10, fps=30)
    assert codes(Platform.LINKEDIN, "x", [big]) == ["video_size"]
    assert codes(Platform.X, "x", [MediaFacts("video", "video/mp4", MB, 1920, 1080, 10, 30)]) == ["video_large"]


@pytest.mark.parametrize("platform", list(Platform))
def test_a_reasonable_post_fits_where_it_should(platform):
    media = {Platform.YOUTUBE: [REEL], Platform.TIKTOK: [REEL], Platform.X: [JPEG_SQUARE]}.get(platform, [JPEG_SQUARE])
    assert codes(platform, "Rendez-vous au salon ! #salon2026 https://example.org", media) == []


def test_documents_only_where_accepted():
    pdf = MediaFacts("document", "application/pdf", 2 * MB)
    assert codes(Platform.LINKEDIN, "x", [pdf]) == []
    assert codes(Platform.FACEBOOK, "x", [pdf]) == ["too_many_media", "document"]
