"""``POST /indexes/{uid}/search``: validate the request like Meilisearch, then answer it.

Every filter, sort and facet attribute is checked against the index settings
before anything runs, with Meilisearch's codes and wording. Real search
parameters the emulator does not implement are accepted at their default value
and refused (501) otherwise, so a test never passes by silently ignoring one.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from .errors import MeiliError, invalid_type, not_emulated, unknown_field, unknown_value
from .filter_eval import check_filter, matching_ids, parse_filter
from .formatting import Highlighter, facet_counts, select
from .ranking import Score, TermMatcher, attribute_ranks, ranking_key, score_document
from .settings import matches_attribute
from .state import DocumentEntry, Index
from .text import build_terms

EMULATED_PARAMETERS = [
    "q",
    "offset",
    "limit",
    "page",
    "hitsPerPage",
    "attributesToRetrieve",
    "attributesToHighlight",
    "filter",
    "sort",
    "facets",
    "highlightPreTag",
    "highlightPostTag",
    "matchingStrategy",
    "attributesToSearchOn",
]
# Real parameters the emulator does not implement, with the value that means "off".
INERT_PARAMETERS = {
    "vector": None,
    "media": None,
    "hybrid": None,
    "retrieveVectors": False,
    "attributesToCrop": None,
    "cropLength": 10,
    "cropMarker": "…",
    "showMatchesPosition": False,
    "showRankingScore": False,
    "showRankingScoreDetails": False,
    "showPerformanceDetails": False,
    "distinct": None,
    "rankingScoreThreshold": None,
    "locales": None,
}
ALL_PARAMETERS = EMULATED_PARAMETERS + list(INERT_PARAMETERS)
DEFAULT_LIMIT = 20


def _code(parameter: str) -> str:
    return "invalid_search_" + re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), parameter)


@dataclass
class SearchRequest:
    q: str | None = None
    offset: int = 0
    limit: int = DEFAULT_LIMIT
    page: int | None = None
    hits_per_page: int | None = None
    filter: object = None
    facets: list[str] | None = None
    sort: list[str] | None = None
    attributes_to_retrieve: list[str] | None = None
    attributes_to_highlight: list[str] | None = None
    highlight_pre_tag: str = "<em>"
    highlight_post_tag: str = "</em>"
    matching_strategy: str = "last"
    attributes_to_search_on: list[str] | None = None


def parse_search_request(body) -> SearchRequest:
    if not isinstance(body, dict):
        raise invalid_type("bad_request", "", "an object", body)
    for name, value in body.items():
        if name not in ALL_PARAMETERS:
            raise unknown_field("bad_request", name, ALL_PARAMETERS)
        if name in INERT_PARAMETERS and value != INERT_PARAMETERS[name]:
            raise not_emulated(f"the `{name}` search parameter")
    request = SearchRequest(filter=body.get("filter"))
    request.q = _typed(body, "q", str, "a string")
    for name, attribute in (
        ("offset", "offset"),
        ("limit", "limit"),
        ("page", "page"),
        ("hitsPerPage", "hits_per_page"),
    ):
        value = _typed(body, name, int, "a positive integer")
        if value is not None:
            if value < 0:
                raise invalid_type(_code(name), f".{name}", "a positive integer", value)
            setattr(request, attribute, value)
    for name, attribute in (
        ("facets", "facets"),
        ("sort", "sort"),
        ("attributesToRetrieve", "attributes_to_retrieve"),
        ("attributesToHighlight", "attributes_to_highlight"),
        ("attributesToSearchOn", "attributes_to_search_on"),
    ):
        setattr(request, attribute, _strings(body, name))
    for name, attribute in (("highlightPreTag", "highlight_pre_tag"), ("highlightPostTag", "highlight_post_tag")):
        value = _typed(body, name, str, "a string")
        if value is not None:
            setattr(request, attribute, value)
    strategy = _typed(body, "matchingStrategy", str, "a string")
    if strategy is not None:
        if strategy not in ("last", "all", "frequency"):
            raise unknown_value(_code("matchingStrategy"), ".matchingStrategy", strategy, ["last", "all", "frequency"])
        if strategy == "frequency":
            raise not_emulated("`matchingStrategy: frequency`")
        request.matching_strategy = strategy
    return request


def _typed(body: dict, name: str, kind: type, expected: str):
    value = body.get(name)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise invalid_type(_code(name), f".{name}", expected, value)
    return value


def _strings(body: dict, name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        raise invalid_type(_code(name), f".{name}", "an array", value)
    for position, item in enumerate(value):
        if not isinstance(item, str):
            raise invalid_type(_code(name), f".{name}[{position}]", "a string", item)
    return value


def search(index: Index, request: SearchRequest) -> dict:
    started = time.perf_counter()
    tree = parse_filter(request.filter, "invalid_search_filter")
    if tree is not None:
        check_filter(tree, index, "invalid_search_filter")
    sort_criteria = _sort_criteria(index, request.sort)
    facets = _facets(index, request.facets)
    _check_search_on(index, request.attributes_to_search_on)

    matcher = TermMatcher(build_terms(request.q or "", index.settings["typoTolerance"]))
    candidates = matching_ids(tree, index) if tree is not None else index.documents.keys()
    matches = _rank(index, request, matcher, candidates, sort_criteria)
    window, pagination = _paginate(matches, request, index.settings["pagination"]["maxTotalHits"])
    response = {
        "hits": [_hit(index, entry, request, matcher) for entry in window],
        "query": request.q or "",
        **pagination,
    }
    if facets is not None:
        response["facetDistribution"], response["facetStats"] = facet_counts(
            matches, facets, index.settings["faceting"]
        )
    response["processingTimeMs"] = int((time.perf_counter() - started) * 1000)
    return response


def _rank(
    index: Index, request: SearchRequest, matcher: TermMatcher, candidates, sort_criteria: list[tuple[str, bool]]
) -> list[DocumentEntry]:
    """Every matching document, best first."""
    ranks = attribute_ranks(index, request.attributes_to_search_on)
    no_typo_attributes = index.settings["typoTolerance"]["disableOnAttributes"]
    scored = []
    for key, entry in index.documents.items():
        if key not in candidates:
            continue
        score = (
            score_document(entry, matcher, ranks, no_typo_attributes, request.matching_strategy == "all")
            if matcher.terms
            else Score()
        )
        if score is not None:
            scored.append((ranking_key(entry, score, index.settings["rankingRules"], sort_criteria), entry))
    scored.sort(key=lambda item: item[0])
    return [entry for _, entry in scored]


def _paginate(matches: list, request: SearchRequest, max_total_hits: int) -> tuple[list, dict]:
    """The hits to show, and the counters of the offset/limit or the page mode."""
    reachable = min(len(matches), max_total_hits)
    if request.page is None and request.hits_per_page is None:
        window = matches[request.offset : min(request.offset + request.limit, reachable)]
        return window, {"limit": request.limit, "offset": request.offset, "estimatedTotalHits": reachable}
    per_page = DEFAULT_LIMIT if request.hits_per_page is None else request.hits_per_page
    page = 1 if request.page is None else request.page
    start = (page - 1) * per_page if page > 0 else reachable  # page 0 shows nothing
    window = matches[start : min(start + per_page, reachable)]
    return window, {
        "hitsPerPage": per_page,
        "page": page,
        "totalHits": reachable,
        "totalPages": math.ceil(reachable / per_page) if per_page else 0,
    }


def _hit(index: Index, entry: DocumentEntry, request: SearchRequest, matcher: TermMatcher) -> dict:
    displayed = select(entry.body, index.settings["displayedAttributes"])
    retrieve = request.attributes_to_retrieve or ["*"]
    hit = select(displayed, retrieve)
    if request.attributes_to_highlight:
        highlighter = Highlighter(
            matcher,
            request.attributes_to_highlight,
            request.highlight_pre_tag,
            request.highlight_post_tag,
            index.settings["typoTolerance"]["disableOnAttributes"],
        )
        hit["_formatted"] = highlighter.format(select(displayed, retrieve + request.attributes_to_highlight))
    return hit


def _sort_criteria(index: Index, sort: list[str] | None) -> list[tuple[str, bool]]:
    if not sort:
        return []
    criteria = []
    for expression in sort:
        field, _, direction = expression.rpartition(":")
        if not field or direction not in ("asc", "desc"):
            raise MeiliError(
                400,
                "invalid_search_sort",
                "Invalid syntax for the sort parameter: expected expression ending "
                f"by `:asc` or `:desc`, found `{expression}`.",
            )
        if field.startswith("_geoPoint("):
            raise not_emulated("geo sorting (`_geoPoint`)")
        if field in ("_geo", "_geoDistance", "_geoRadius", "_geoBoundingBox"):
            hint = (
                (" Use the _geoPoint(latitude, longitude) built-in rule to sort on _geo field coordinates.")
                if field == "_geo"
                else ""
            )
            raise MeiliError(
                400,
                "invalid_search_sort",
                f"`{field}` is a reserved keyword and thus can't be used as a sort expression.{hint}",
            )
        criteria.append((field, direction == "asc"))
    if "sort" not in index.settings["rankingRules"]:
        raise MeiliError(
            400,
            "invalid_search_sort",
            f"Index `{index.uid}`: You must specify where `sort` is listed in the "
            "rankingRules setting to use the sort parameter at search time.",
        )
    sortable = index.settings["sortableAttributes"]
    for field, _ in criteria:
        if not matches_attribute(field, sortable):
            hint = (
                f"Available sortable attributes are: `{', '.join(sorted(set(sortable)))}`."
                if sortable
                else "This index does not have configured sortable attributes."
            )
            raise MeiliError(
                400, "invalid_search_sort", f"Index `{index.uid}`: Attribute `{field}` is not sortable. {hint}"
            )
    return criteria


def _facets(index: Index, facets: list[str] | None) -> list[str] | None:
    if facets is None:
        return None
    filterable = index.settings["filterableAttributes"]
    if "*" in facets:
        return [path for path in index.field_order if matches_attribute(path, filterable)]
    invalid = sorted({name for name in facets if not matches_attribute(name, filterable)})
    if invalid:
        hint = (
            f"Available filterable attributes patterns are: `{', '.join(sorted(set(filterable)))}`."
            if filterable
            else "This index does not have configured filterable attributes."
        )
        subject = f"Attribute `{invalid[0]}` is" if len(invalid) == 1 else f"Attributes `{', '.join(invalid)}` are"
        raise MeiliError(
            400,
            "invalid_search_facets",
            f"Index `{index.uid}`: Invalid facet distribution: {subject} not filterable. {hint}",
        )
    return list(dict.fromkeys(facets))


def _check_search_on(index: Index, attributes: list[str] | None) -> None:
    searchable = index.settings["searchableAttributes"]
    if attributes is None or searchable == ["*"]:
        return
    for name in attributes:
        if name != "*" and not matches_attribute(name, searchable):
            raise MeiliError(
                400,
                "invalid_search_attributes_to_search_on",
                f"Index `{index.uid}`: Attribute `{name}` is not searchable. "
                f"Available searchable attributes are: `{', '.join(searchable)}`.",
            )
