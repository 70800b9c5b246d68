"""The instant search of the media library and the picker, as the server renders it: hits with
their highlights (escaped), facet chips that add and remove a filter, the whole state in the
URL (the same page from a full load as from htmx), the empty state, paging by search pages."""

import html as htmllib
import re

import pytest

from app.extensions import db
from tests.media_support import EN, editor  # noqa: F401  (fixture)
from tests.search.conftest import add_asset

HX = {"HX-Request": "true", **EN}


def titles(page: str) -> list[str]:
    """The cards' titles as shown, highlights and all (tags stripped, entities decoded)."""
    return [htmllib.unescape(re.sub(r"<[^>]+>", "", t)) for t in re.findall(r'class="media-title">(.*?)</span>', page)]


def chips(page: str) -> dict[str, tuple[str, bool]]:
    """Chip label -> (its href, whether it is active)."""
    found = {}
    for attrs, body in re.findall(r'<a class="chip facet-chip[^"]*"([^>]*)>(.*?)</a>', page, re.S):
        label = htmllib.unescape(re.sub(r"<span.*", "", body, flags=re.S).strip())
        href = htmllib.unescape(re.search(r'href="([^"]+)"', attrs).group(1))
        found[label] = (href, 'aria-pressed="true"' in attrs)
    return found


def get(client, url, headers=EN) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_a_query_with_a_typo_renders_highlighted_hits_the_engine_and_the_url(client, editor, corpus):
    page = get(client, "/media/?q=campgane")
    assert titles(page) == ["Campagne recrutement printemps"]
    assert "<mark>Campagne</mark> recrutement printemps" in page
    assert 'id="media-q" type="search" name="q" value="campgane"' in page
    meta = re.search(r'data-testid="search-meta">(.*?)</p>', page, re.S).group(1)
    assert "1 result" in meta and "PostgreSQL" not in meta and " ms" not in meta  # internals: admins only
    fragment = client.get("/media/?q=campgane&kind=&tag=&uploader=&date_from=&date_to=", headers=HX)
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="media-listing"') and "<html" not in body
    assert fragment.headers["HX-Push-Url"] == "/media/?q=campgane"  # the empty fields left out
    assert "HX-Request" in fragment.headers["Vary"] and titles(body) == titles(page)


def test_the_description_snippet_shows_only_when_it_matched(client, editor, corpus):
    page = get(client, "/media/?q=bellecour")
    assert titles(page) == ["Marathon de Lyon"]
    assert re.search(r'class="media-snippet small">[^<]*<mark>Bellecour</mark>', page)
    assert "media-snippet" not in get(client, "/media/?q=marathon")


def test_facet_chips_add_and_remove_a_filter_and_keep_the_words(client, editor, corpus):
    page = get(client, "/media/?q=lyon")
    assert sorted(titles(page)) == ["Marathon de Lyon", "Photo équipe communication"]
    found = chips(page)
    assert {"October 2025", "November 2025", "Image", "Uploader 0", "Uploader 1"} <= set(found)
    href, active = found["October 2025"]
    assert not active and href == "/media/?q=lyon&date_from=2025-10-01&date_to=2025-10-31"
    narrowed = get(client, href, HX)
    assert titles(narrowed) == ["Marathon de Lyon"]
    href, active = chips(narrowed)["October 2025"]
    assert active and href == "/media/?q=lyon"  # the active chip removes it
    # The From field shows the chip's date day first (the address keeps ISO dates).
    assert re.search(r'id="filter-from" type="text" name="date_from" value="01/10/2025"', narrowed)

    browsing = chips(get(client, "/media/"))  # no words: counts of everything
    assert browsing["PDF"] == ("/media/?kind=document", False)
    pdfs = get(client, "/media/?kind=document")
    assert sorted(titles(pdfs)) == [
        "Affiche été salon de l'agriculture",
        "Communication plan 2026",
        "Conférence de presse du maire",
    ]
    assert chips(pdfs)["PDF"] == ("/media/", True) and "search-meta" not in pdfs
    tagged = chips(get(client, "/media/?q=salon"))["Été 2026"]
    assert tagged == ("/media/?q=salon&tag=%C3%89t%C3%A9+2026", False)


def test_a_full_load_of_a_pushed_url_renders_the_same_state(client, editor, corpus):
    url = f"/media/?q=lyon&kind=image&uploader={corpus.uploaders[1]}"
    page, fragment = get(client, url), get(client, url, HX)
    assert titles(page) == titles(fragment) == ["Marathon de Lyon"]
    assert 'value="lyon"' in page and '<option value="image" selected>' in page
    assert f'<option value="{corpus.uploaders[1]}" selected>' in page
    assert chips(page) == chips(fragment)
    assert chips(page)["Uploader 1"] == ("/media/?q=lyon&kind=image", True)


def test_no_match_says_so_and_offers_to_clear(client, editor, corpus):
    page = get(client, "/media/?q=xyzzyq&kind=video")
    empty = re.search(r'data-testid="no-match">(.*?)</div>', page, re.S).group(1)
    assert "No media match “xyzzyq”" in empty
    assert '<a class="button" href="/media/?kind=video">Clear the search</a>' in empty
    assert '<a class="button" href="/media/">Clear the search and the filters</a>' in empty
    assert "No media yet" not in page and "Nothing matches these filters" not in page


def test_titles_tags_and_words_are_escaped(app, client, editor, corpus):
    with app.app_context():
        add_asset("<img src=x onerror=alert(1)> poster", tags=["<b>bold</b>"])
        db.session.commit()
    page = get(client, "/media/?q=poster")
    assert "<img src=x" not in page and "<b>bold" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; <mark>poster</mark>" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page  # the tag chip and the card's tag
    assert "<b>bold</b>" in chips(page)
    hostile = get(client, "/media/?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert "<script>alert" not in hostile and "No media match “&lt;script&gt;alert(1)&lt;/script&gt;”" in hostile
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in hostile


def test_a_query_pages_by_search_pages(app, client, editor):
    with app.app_context():
        for n in range(25):
            add_asset(f"Banner {n:02d}", created=f"2026-01-{n + 1:02d}")
        db.session.commit()
    page = get(client, "/media/?q=banner")
    assert len(titles(page)) == 20 and "25 results" in page
    more = htmllib.unescape(re.search(r'<li class="load-more">\s*<a class="button" href="([^"]+)"', page).group(1))
    assert more == "/media/?q=banner&page=2"
    rest = client.get(more, headers=HX)
    body = rest.get_data(as_text=True)
    assert "<section" not in body and "HX-Push-Url" not in rest.headers and "load-more" not in body
    assert len(titles(body)) == 5 and not set(titles(body)) & set(titles(page))


def test_the_picker_searches_and_keeps_its_selection(client, editor, corpus):
    chosen = corpus.ids["plan"]
    page = get(client, f"/media/picker?field=cover&cover={chosen}&picker_q=lyon", HX)
    assert re.findall(r'<input type="hidden" name="cover" value="(\d+)">', page) == [str(chosen)]
    assert 'name="picker_q" value="lyon"' in page and "<form" not in page
    added = sorted(int(i) for i in re.findall(r"add=(\d+)", page))
    assert added == sorted([corpus.ids["team"], corpus.ids["marathon"]])
    href, active = chips(page)["October 2025"]
    assert (
        href
        == ("/media/picker/results?field=cover&picker_q=lyon&picker_date_from=2025-10-01&picker_date_to=2025-10-31")
        and not active
    )
    narrowed = get(client, href, HX)
    assert 'hx-get="/media/picker/results?field=cover" hx-include="#picker-cover-query"' in narrowed
    assert narrowed.lstrip().startswith('<div id="picker-cover-results"') and 'name="cover"' not in narrowed
    assert re.findall(r"add=(\d+)", narrowed) == [str(corpus.ids["marathon"])]
    assert '<input type="hidden" name="picker_date_from" value="2025-10-01">' in narrowed
    assert "No media match “nothing here”" in get(client, "/media/picker/results?field=cover&picker_q=nothing+here", HX)


@pytest.mark.parametrize(
    "query", ["page=0", "page=abc", "page=999", "uploader=99999999999", "date_from=2026-03-01&date_to=2026-01-01"]
)
def test_odd_arguments_never_fail(client, editor, corpus, query):
    assert client.get(f"/media/?q=lyon&{query}", headers=EN).status_code == 200


def test_only_admins_see_the_search_engine_and_its_time(client, auth, corpus):
    for role, shown in (("editor", False), ("admin", True)):
        auth.login(role)
        meta = re.search(r'data-testid="search-meta">(.*?)</p>', get(client, "/media/?q=campgane"), re.S).group(1)
        assert ("PostgreSQL · " in meta and " ms" in meta) is shown, (role, meta)
        auth.logout()
