"""PostgreSQL engine: relevance on a fixed French/English corpus, filters and facets, the
triggers that keep vectors and vocabulary right for every writer, one round trip."""

from datetime import date

import pytest
import sqlalchemy as sa

from app import search
from app.extensions import db
from app.models import MediaAsset, Tag
from tests.search.conftest import add_asset, tag


def keys(corpus, query, **kwargs):
    return corpus.keys(search.search_media(query, **kwargs).ids)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("médiathèque", "library"),  # exact
        ("affiche", "salon"),
        ("agriculture", "salon"),
    ],
)
def test_exact_word_finds_its_asset_first(app, corpus, query, expected):
    with app.app_context():
        assert keys(corpus, query)[0] == expected


@pytest.mark.parametrize(
    "query, expected",
    [
        ("mediatheque", "library"),
        ("MÉDIATHÈQUE", "library"),
        ("noel", "lights"),
        ("ete ", "salon"),
        ("conference presse ", "press"),
    ],
)
def test_accents_and_case_do_not_matter(app, corpus, query, expected):
    with app.app_context():
        assert keys(corpus, query)[0] == expected


@pytest.mark.parametrize(
    "query, expected",
    [
        ("medi", {"library"}),
        ("recru", {"hiring"}),
        ("illum", {"lights"}),
        ("summer post", {"poster"}),
        ("photog", {"photos"}),
    ],
)
def test_the_word_being_typed_is_a_prefix(app, corpus, query, expected):
    with app.app_context():
        assert set(keys(corpus, query)) == expected


def test_a_complete_word_is_not_a_prefix(app, corpus):
    with app.app_context():
        assert keys(corpus, "medi ") == []  # a space ends the word


@pytest.mark.parametrize(
    "query, expected",
    [
        ("campgane ", "hiring"),  # transposition: one typo (as Meilisearch counts it)
        ("afiche ", "salon"),  # a letter lost
        ("recrutemment ", "hiring"),  # a letter doubled
        ("marathin ", "marathon"),  # a neighbouring key
        ("illuminatoin", "lights"),  # while typing
    ],
)
def test_one_typo_from_five_letters(app, corpus, query, expected):
    with app.app_context():
        assert keys(corpus, query)[0] == expected


@pytest.mark.parametrize(
    "query, expected",
    [
        ("mdiathqeue ", "library"),  # two typos in a nine-letter word
        ("phtograpie ", "photos"),
        ("inaugratiom", "library"),
    ],
)
def test_two_typos_from_nine_letters(app, corpus, query, expected):
    with app.app_context():
        assert keys(corpus, query)[0] == expected


@pytest.mark.parametrize("query", ["pstr ", "lyno ", "narathon ", "mdiathqe "])
def test_typos_beyond_the_budget_find_nothing(app, corpus, query):
    """Meilisearch's budget: no typo under five letters, one under nine; first letter kept."""
    with app.app_context():
        assert keys(corpus, query) == []


def test_every_word_must_match_in_some_field(app, corpus):
    with app.app_context():
        assert keys(corpus, "affiche salon ") == ["salon"]
        assert keys(corpus, "teaser instagram ") == ["teaser"]  # title + description
        assert keys(corpus, "campagne recrutement") == ["hiring"]
        assert keys(corpus, "affiche tramway ") == []


def test_tags_are_searchable(app, corpus):
    with app.app_context():
        assert keys(corpus, "été 2026 ") == ["salon"]
        assert keys(corpus, "drone ") == ["photos"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("1234 ", {"team"}),
        ("img ", {"team", "marathon"}),
        ("vid ", {"teaser"}),
        ("pdf ", {"salon", "plan", "press"}),
        ("final ", {"poster"}),
    ],
)
def test_filenames_are_split_into_words(app, corpus, query, expected):
    with app.app_context():
        assert set(keys(corpus, query)) == expected


def test_title_and_tags_outrank_description(app, corpus):
    with app.app_context():
        assert keys(corpus, "lyon ") == ["marathon", "team"]  # title, then description
        assert keys(corpus, "poster ")[0] == "poster"
        assert keys(corpus, "communication ")[:2] in (["team", "plan"], ["plan", "team"])


def test_highlights_are_escaped_html_with_marks(app, corpus):
    with app.app_context():
        hit = search.search_media("mediatheque").hits[0]
        assert hit.highlights["title"] == "Inauguration de la <mark>médiathèque</mark>"
        add_asset("<script>alert(1)</script> Affiche piégée", "x.jpg")
        titles = [str(h.highlights["title"]) for h in search.search_media("piegee").hits]
        assert titles == ["&lt;script&gt;alert(1)&lt;/script&gt; Affiche <mark>piégée</mark>"]


def test_filters_and_facets_are_computed_on_the_filtered_set(app, corpus):
    with app.app_context():
        result = search.search_media("", search.MediaFilters(kinds=["image"]))
        assert set(corpus.keys(result.ids)) == {"team", "hiring", "poster", "library", "marathon", "photos"}
        assert result.total == 6 and result.facets["kind"] == {"image": 6}
        assert result.facets["tags"]["drone"] == 1 and "salon" not in result.facets["tags"]
        assert sum(result.facets["uploader"].values()) == 6
        assert result.facets["month"]["2026-05"] == 1

        result = search.search_media("campagne", search.MediaFilters(tags=["RECRUTEMENT"]))
        assert corpus.keys(result.ids) == ["hiring"]

        spring = search.MediaFilters(created_from=date(2026, 3, 1), created_to=date(2026, 4, 12))
        assert set(keys(corpus, "", filters=spring)) == {"salon", "press", "teaser"}
        mine = search.MediaFilters(uploader_ids=[corpus.uploaders[0]], kinds=["document"])
        assert set(keys(corpus, "", filters=mine)) == {"salon", "plan", "press"}
        assert keys(corpus, "", filters=search.MediaFilters(statuses=["failed"])) == []


def test_facets_of_a_query(app, corpus):
    with app.app_context():
        result = search.search_media("pdf ")
        assert result.facets["kind"] == {"document": 3}
        assert result.facets["tags"] == {"Été 2026": 1, "presse": 1, "salon": 1}
        assert search.search_media("pdf ", facets=False).facets == {}


def test_browsing_sorts_and_pages(app, corpus):
    with app.app_context():
        assert keys(corpus, "")[:2] == ["photos", "teaser"]  # newest first
        assert keys(corpus, "", sort="oldest")[0] == "poster"
        assert keys(corpus, "", sort="title")[0] == "salon"
        for number in range(25):
            add_asset(f"Banderole {number}", f"banderole-{number}.png")
        first, second = search.search_media("banderole"), search.search_media("banderole", page=2)
        assert (len(first.hits), len(second.hits), first.total, first.pages) == (20, 5, 25, 2)
        assert not set(first.ids) & set(second.ids)


def test_one_round_trip_per_search(app, corpus, statements):
    with app.app_context():
        statements.clear()
        search.search_media("campgane recrutment", search.MediaFilters(kinds=["image"]))
        search.search_media("")
        search.search_objects("salon")
    sent = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]
    assert len(sent) == 3, sent


def test_triggers_keep_every_writer_consistent(app, corpus):
    with app.app_context():
        asset = db.session.get(MediaAsset, corpus.ids["marathon"])
        asset.tags.append(tag("Course à pied"))
        db.session.flush()
        assert keys(corpus, "course pied ") == ["marathon"]
        db.session.execute(sa.update(Tag).where(Tag.name == "Course à pied").values(name="Trail urbain"))
        assert keys(corpus, "course ") == [] and keys(corpus, "trail ") == ["marathon"]
        asset.tags = []
        asset.title = "Semi-marathon de Villeurbanne"
        db.session.flush()
        assert keys(corpus, "trail ") == [] and keys(corpus, "villeurbanne")[0] == "marathon"


def test_the_vocabulary_follows_the_documents(app, corpus):
    with app.app_context():

        def ndocs(word):
            return db.session.scalar(sa.text("SELECT ndocs FROM search_words WHERE word = :w"), {"w": word})

        assert ndocs("lyon") == 2 and ndocs("illuminations") == 1
        db.session.delete(db.session.get(MediaAsset, corpus.ids["lights"]))
        db.session.flush()
        assert ndocs("lyon") == 2 and ndocs("illuminations") is None
        add_asset("Lyon by night", "lyon.jpg")
        assert ndocs("lyon") == 3


def test_hostile_input_is_only_text(app, corpus):
    with app.app_context():
        assert keys(corpus, "l'été \\ ' \" & | ! :* ( ) <-> ") == ["salon"]
        words = ["l'été", "a\\b", "!&|:*", "'", "(x)", "<->"]
        tsquery = db.session.scalar(sa.text("SELECT search_query(:w, true)::text"), {"w": words})
        assert "ete" in tsquery


@pytest.mark.parametrize(
    "call",
    [
        lambda: search.search_media("x", search.MediaFilters(kinds=["sculpture"])),
        lambda: search.search_media("x", sort="random"),
        lambda: search.search_media("x", page=51),
        lambda: search.search_media("x", page="two"),
        lambda: search.MediaFilters(created_from="2026-13-01"),
        lambda: search.MediaFilters(created_from=date(2026, 2, 1), created_to=date(2026, 1, 1)),
        lambda: search.MediaFilters(tags=["x" * 81]),
        lambda: search.MediaFilters(uploader_ids=["abc"]),
        lambda: search.ObjectFilters(platforms=["myspace"]),
    ],
)
def test_invalid_requests_are_refused(app, call):
    with app.app_context(), pytest.raises(search.InvalidSearch):
        call()


def test_alt_text_is_searchable(app, corpus):
    with app.app_context():
        asset = add_asset("Affiche du stand", "stand.jpg")
        asset.alt_text = "Une girafe orange devant le pavillon"
        db.session.flush()
        result = search.search_media("girafe orange")
        assert result.ids == [asset.id] and result.engine == "postgres"
        assert search.search_media("girafe", search.MediaFilters(kinds=["video"])).ids == []
        # A word of the title ranks its asset above one that has it only in its alt text.
        other = add_asset("Girafe en peluche", "peluche.jpg")
        db.session.flush()
        assert search.search_media("girafe").ids == [other.id, asset.id]
