"""Per-network checks: text counted each network's way, media count, mix, kind, size, shape."""

import pytest

from app.models import Platform
from app.networks import MB, RULES, MediaFacts, adaptations, check, text_length

JPEG_SQUARE = MediaFacts("image", "image/jpeg", 500_000, 1080, 1080)
PNG_WIDE = MediaFacts("image", "image/png", 900_000, 1920, 1080)
REEL = MediaFacts("video", "video/mp4", 40 * MB, 1080, 1920, duration_s=30, fps=30)


def codes(platform, text, media, adapt=False):
    """The problems of the file as it is (`adapt=False`), or what still refuses the post once
    the renditions have adapted what they can (`adapt=True`, what submitting uses)."""
    return [p.code for p in check(platform, text, media, adapt=adapt)]


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
        problems = check(Platform.INSTAGRAM, "x", [PNG_WIDE], adapt=False)
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
    assert "video_small" in codes(Platform.TIKTOK, "x", [small])
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


def test_what_a_rendition_fixes_is_adapted_not_refused(app):
    """The issue's walk: a 1920-px JPEG or a PNG for Instagram, a 13 MB photo for Facebook, a
    1280x720 video for Facebook feed: each was refused, each is now adapted with a note."""
    wide_jpeg = MediaFacts("image", "image/jpeg", 900_000, 1920, 1280)
    heavy = MediaFacts("image", "image/jpeg", 13 * MB, 4000, 3000)
    landscape = MediaFacts("video", "video/mp4", 20 * MB, 1280, 720, duration_s=20, fps=60)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert codes(Platform.INSTAGRAM, "x", [wide_jpeg]) == ["image_width"]
        assert codes(Platform.INSTAGRAM, "x", [wide_jpeg], adapt=True) == []
        assert codes(Platform.INSTAGRAM, "x", [PNG_WIDE], adapt=True) == []
        assert codes(Platform.FACEBOOK, "x", [heavy], adapt=True) == []
        assert codes(Platform.FACEBOOK, "x", [landscape], adapt=True) == []
        [note] = adaptations(Platform.INSTAGRAM, [PNG_WIDE])
        assert note.message == "Media 1 will be adapted: resized to 1440 px wide; converted to JPEG."
        [note] = adaptations(Platform.FACEBOOK, [heavy])
        assert note.message == ("Media 1 will be adapted: resized to 2048 px wide; compressed under 4.0 MB.")
        [note] = adaptations(Platform.FACEBOOK, [landscape])
        assert "re-encoded as MP4 (H.264, AAC); 30 images per second" in note.message
        assert adaptations(Platform.INSTAGRAM, [JPEG_SQUARE]) == []
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        [note] = adaptations(Platform.FACEBOOK, [heavy])
        assert "4,0 Mo" in note.message  # sizes in the reader's locale


def test_a_video_too_long_or_too_short_is_still_refused_saying_by_how_much(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        long = MediaFacts("video", "video/mp4", MB, 1080, 1920, duration_s=95.5, fps=30)
        [problem] = check(Platform.TIKTOK, "x", [MediaFacts("video", "video/mp4", MB, 1080, 1920, 1.5, 30)])
        assert problem.message == (
            "Media 1: it lasts 1.5 s, 1.5 s too short; accepted: 3 to 600 s. Use a longer video."
        )
        [problem] = check(Platform.X, "x", [MediaFacts("video", "video/mp4", MB, 1080, 1920, 1300, 30)])
        assert "100 s too long" in problem.message and "Trim the video" in problem.message
        assert codes(Platform.INSTAGRAM, "x", [long], adapt=True) == []


def test_facebook_feed_videos_have_no_reels_minimum():
    """540x960 is the Reels minimum (Meta's reels-publishing guide), not the feed's."""
    landscape = MediaFacts("video", "video/mp4", 20 * MB, 1280, 720, duration_s=20, fps=30)
    assert codes(Platform.FACEBOOK, "x", [landscape]) == []
