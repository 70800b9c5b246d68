"""PostgreSQL engine: always available; one statement (one round trip) per search.

The schema is migration 0002_search (0011 adds the assets' alt text): a weighted `search_vector` kept by triggers on
`media_assets` and `content_objects`, and `search_query(words, prefix_last)`, which turns
the typed words into a tsquery (stem, word, prefix of the last word, and typo corrections
taken from the `search_words` vocabulary within Meilisearch's budget).

The statement, in CTEs:
  q        the tsquery, computed once;
  matches  the candidate set: documents matching it and the filters, capped at
           CANDIDATE_CAP rows, each ranked with ts_rank_cd (weights A title/tags,
           B filename or campaign, C description and alt text, or message);
  page     the requested page of `matches` in the requested order;
then the page's hits with their highlights, the count of `matches` and the facet counts of
`matches`, aggregated as JSON. So ranking, the total and the facets never touch more than
CANDIDATE_CAP rows: when a very common word matches more, they describe the first
CANDIDATE_CAP matches the index returns (in table order, not the best ones), and the total
reads CANDIDATE_CAP. Meilisearch's own totals are estimates, and it cannot page past
`maxTotalHits` (1000) either, hence the same cap. Without words (browsing), the cap takes the first rows of
the requested order, so the newest documents come first as expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.extensions import db
from app.models import Platform
from app.search import fits
from app.search.highlight import POST, PRE, crop, to_html
from app.search.types import MAX_TOTAL_HITS, Hit, SearchRequest, SearchResult

CANDIDATE_CAP = MAX_TOTAL_HITS  # Meilisearch cannot reach past its 1000th hit either
MAX_FACET_VALUES = 100  # as the indexes' `faceting.maxValuesPerFacet`
TITLE = f'StartSel="{PRE}", StopSel="{POST}", HighlightAll=true'
SNIPPET = f'StartSel="{PRE}", StopSel="{POST}", MaxWords=20, MinWords=8, ShortWord=2'


@dataclass(frozen=True)
class Spec:
    table: str
    columns: str  # what `matches` keeps for ordering and facets
    texts: tuple[tuple[str, str], ...]  # highlighted field -> ts_headline options
    orders: dict[str, str]  # sort key -> ORDER BY over `matches`
    browse: str  # the order without words
    facets: dict[str, str]  # facet -> SELECT v, n over `matches`


MEDIA = Spec(
    table="media_assets",
    # `fits`: the networks each candidate fits (app/search/fits.py), for the facet counts
    columns="d.id, d.created_at, d.title, d.kind, d.uploaded_by_id, {fits} AS fits",
    texts=(("title", TITLE), ("description", SNIPPET)),
    orders={
        "relevance": "rank DESC, created_at DESC, id DESC",
        "newest": "created_at DESC, id DESC",
        "oldest": "created_at, id",
        "title": "title, id",
    },
    browse="newest",
    facets={
        # `= ANY(ARRAY(...))`: one sorted index scan instead of a probe per candidate
        "tags": "SELECT t.name AS v, count(*) AS n FROM media_tags mt "
        "JOIN tags t ON t.id = mt.tag_id "
        "WHERE mt.media_asset_id = ANY(ARRAY(SELECT id FROM matches)) GROUP BY t.name",
        "kind": "SELECT kind AS v, count(*) AS n FROM matches GROUP BY kind",
        "uploader": "SELECT uploaded_by_id::text AS v, count(*) AS n FROM matches "
        "WHERE uploaded_by_id IS NOT NULL GROUP BY uploaded_by_id",
        "month": "SELECT to_char(created_at AT TIME ZONE :tz, 'YYYY-MM') AS v, count(*) AS n FROM matches GROUP BY 1",
        "fits": "SELECT v, count(*) AS n FROM matches, unnest(fits) AS v GROUP BY v",
    },
)

OBJECTS = Spec(
    table="content_objects",
    columns="d.id, d.updated_at, d.scheduled_at, d.title, d.status, d.campaign_id",
    texts=(("title", TITLE), ("message", SNIPPET)),
    orders={
        "relevance": "rank DESC, updated_at DESC, id DESC",
        "updated": "updated_at DESC, id DESC",
        "scheduled": "scheduled_at NULLS LAST, id",
    },
    browse="updated",
    facets={
        "status": "SELECT status AS v, count(*) AS n FROM matches GROUP BY status",
        "campaign": "SELECT campaign_id::text AS v, count(*) AS n FROM matches GROUP BY campaign_id",
        "platform": "SELECT a.platform AS v, count(DISTINCT ot.object_id) AS n "
        "FROM object_targets ot "
        "JOIN campaign_scenarios cs ON cs.id = ot.campaign_scenario_id "
        "JOIN social_accounts a ON a.id = cs.social_account_id "
        "WHERE ot.object_id = ANY(ARRAY(SELECT id FROM matches)) GROUP BY a.platform",
    },
)

SPECS = {"media": MEDIA, "objects": OBJECTS}

PLATFORM_FILTER = (
    "EXISTS (SELECT 1 FROM object_targets ot "
    "JOIN campaign_scenarios cs ON cs.id = ot.campaign_scenario_id "
    "JOIN social_accounts a ON a.id = cs.social_account_id "
    "WHERE ot.object_id = d.id AND a.platform = ANY(:platforms))"
)
TAG_FILTER = (
    "EXISTS (SELECT 1 FROM media_tags mt JOIN tags t ON t.id = mt.tag_id "
    "WHERE mt.media_asset_id = d.id AND t.normalized = ANY(:tags))"
)


def _filters(request: SearchRequest, tz: str) -> tuple[list[str], dict]:
    """SQL conditions on `d` (fixed text, values as bound parameters)."""
    from app.media import tags  # the library's normalisation: "Été 2026" is "été 2026"

    f = request.filters
    if request.index == "media":
        lists = {
            "kinds": ("d.kind = ANY(:kinds)", f.kinds),
            "statuses": ("d.status = ANY(:statuses)", f.statuses),
            "uploaders": ("d.uploaded_by_id = ANY(:uploaders)", f.uploader_ids),
            "tags": (TAG_FILTER, [tags.normalize(tag) for tag in f.tags]),
        }
    else:
        lists = {
            "campaigns": ("d.campaign_id = ANY(:campaigns)", f.campaign_ids),
            "statuses": ("d.status = ANY(:statuses)", f.statuses),
            "authors": ("d.author_id = ANY(:authors)", f.author_ids),
            "platforms": (PLATFORM_FILTER, f.platforms),
        }
    conditions = [sql for sql, values in lists.values() if values]
    params = {name: list(values) for name, (_, values) in lists.items() if values}
    if request.index == "media":
        # validated Platform values; the SQL is made from the rules alone (no user text in it)
        conditions += [fits.sql(Platform(network)) for network in f.fits]
        zone = ZoneInfo(tz)
        if f.created_from:
            conditions.append("d.created_at >= :created_from")
            params["created_from"] = datetime.combine(f.created_from, time(), zone)
        if f.created_to:
            conditions.append("d.created_at < :created_before")
            params["created_before"] = datetime.combine(f.created_to + timedelta(days=1), time(), zone)
    return conditions, params


def _highlight(column: str, options: str) -> str:
    """ts_headline through the stemmed configuration, else the unstemmed one (prefixes)."""
    return (
        f"(SELECT CASE WHEN strpos(h, :pre) > 0 THEN h ELSE "
        f"ts_headline('cms_simple', d.{column}, (SELECT tsq FROM q), {options}) END "
        f"FROM ts_headline('cms_fr', d.{column}, (SELECT tsq FROM q), {options}) AS h)"
    )


def statement(request: SearchRequest, tz: str) -> tuple[sa.TextClause, dict]:
    """The search as one SQL statement and its parameters (the benchmark runs it bare)."""
    spec = SPECS[request.index]
    conditions, params = _filters(request, tz)
    searching = bool(request.words)
    sort = request.sort if searching or request.sort != "relevance" else spec.browse
    if searching:
        conditions.insert(0, "d.search_vector @@ (SELECT tsq FROM q)")
        rank, cap_order = "ts_rank_cd(d.search_vector, (SELECT tsq FROM q))", ""
    else:
        rank, cap_order = "0", f"ORDER BY {spec.orders[sort]}"
    texts = {}
    for position, (name, options) in enumerate(spec.texts if request.highlight else ()):
        params[f"opt{position}"] = options
        texts[name] = _highlight(name, f":opt{position}") if searching else f"d.{name}"
    hit = ", ".join(["'id', d.id"] + [f"'{name}', {sql}" for name, sql in texts.items()])
    facets = "NULL"
    if request.facets:
        facets = "json_build_object({})".format(
            ", ".join(
                f"'{name}', (SELECT coalesce(json_object_agg(v, n ORDER BY n DESC, v), '{{}}') "
                f"FROM ({sql} ORDER BY n DESC, v LIMIT {MAX_FACET_VALUES}) AS f)"
                for name, sql in spec.facets.items()
            )
        )
    columns = spec.columns.format(fits=fits.sql_array() if request.facets else "NULL::text[]")
    sql = f"""
WITH q AS MATERIALIZED (SELECT search_query(CAST(:words AS text[]), :prefix) AS tsq),
matches AS MATERIALIZED (
  SELECT {columns}, {rank} AS rank FROM {spec.table} d
  WHERE {" AND ".join(conditions) or "TRUE"} {cap_order} LIMIT {CANDIDATE_CAP}),
page AS (
  SELECT id, row_number() OVER (ORDER BY {spec.orders[sort]}) AS ord FROM matches
  ORDER BY {spec.orders[sort]} LIMIT {request.limit} OFFSET :offset)
SELECT (SELECT count(*) FROM matches) AS total,
  (SELECT coalesce(json_agg(json_build_object({hit}) ORDER BY p.ord), '[]')
     FROM page p JOIN {spec.table} d ON d.id = p.id) AS hits,
  {facets} AS facets"""
    params.update(words=list(request.words), prefix=request.prefix, offset=request.offset, pre=PRE, tz=tz)
    return sa.text(sql), params


def search(request: SearchRequest, tz: str) -> SearchResult:
    sql, params = statement(request, tz)
    total, hits, facets = db.session.execute(sql, params).one()
    title = SPECS[request.index].texts[0][0]
    # Browsing returns the texts whole: crop them as ts_headline does when searching.
    return SearchResult(
        hits=[
            Hit(
                id=row["id"],
                highlights={
                    name: to_html(value if name == title or request.words else crop(value))
                    for name, value in row.items()
                    if name != "id"
                },
            )
            for row in hits
        ],
        total=total,
        facets=facets or {},
        engine="postgres",
        page=request.page,
        per_page=request.limit,
    )
