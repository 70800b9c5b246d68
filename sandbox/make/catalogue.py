"""The modules the emulator knows, each as public evidence shows it (docs/make-modules.md).

A module is known by its id (``app:Module``) and version; for each we keep the connection
types its ``__IMTCONN__`` accepts, the fields of ``parameters`` and ``mapper`` (required,
type, allowed values), what it outputs (``None`` when the output depends on the data, e.g. a
webhook's payload) and how the runner emulates it (``kind``). Anything not listed here is an
unknown module: the validator refuses it, as Make refuses a module that is not in its app
catalogue. Where a field is marked ``required`` it is because an export's ``metadata.expect``
said so; a required field whose value Make needs only in some configurations carries
``when=(other field, value)``.

Sources, read with the search tools (repository, path and commit; "index id" when the search
index did not name the repository):

* [EXP-TV]  index id 55137961685, a full export ("Username-Correction-v1") with
  ``metadata.expect``: ``gateway:CustomWebHook``, ``datastore:GetRecord`` v1,
  ``util:SetVariables`` v1, ``http:MakeRequest`` v4, ``{{7.array[1].valid_until}}``.
* [EXP-HTTP] index id 56281524915, an ``http:MakeRequest`` v4 export with every enum.
* [EXP-DS]  index id 51890267683, ``datastore:AddRecord`` v1 with ``metadata.expect``.
* [DL]      index id 69150667614 (``http:DownloadFile`` v4 as a test fixture copies Make's
  schema) and loliba92/Scenario ``docs`` notes (module 52 ``http:DownloadFile``).
* [JSON]    index ids 4411193684 and 45653883481: ``json:TransformToJSON`` v1, ``space``,
  ``object``.
* [LOLIBA]  loliba92/Scenario ``assets/make/scenario-daily.blueprint.json`` at
  bdbe12e0a45bb4808d788903e8ca284a5b6c271c and 0ca1dac55f478cdb6a271045d969f7145c61329b,
  ``assets/make/scenario-weekly.blueprint.json`` at be83df819a752a5c3b3fb6ce7dacce4f6ed59633:
  ``linkedin:CreateCompanyImagePost`` v2 and ``linkedin:CreateTextShare`` v2 with
  ``metadata.expect``, connection ``linkedin2``.
* [FDF]     QaziIhsanAhmad/frontdesk-flows-content ``make-audit/latest.json`` at
  18444b6fa134ea651fb12d137cd1a11a4f69f8c0 (blueprints read back from Make's API):
  ``instagram-business:CreateAReelPost`` v1 with ``metadata.expect``, connection ``facebook``;
  ``scripts/make_fdf.py``: the facebook-pages app is at version 6 (``/rpcs/facebook-pages/6``).
* [HALIMA]  quickfixstudios/Dr-Halima-Social-Media-Posting-AI-Agent
  ``make/weekly-carousel.scenario.json`` at 03bb88d2e7690dcd18985a2d5e02e3d479b08bc0:
  ``facebook-pages:CreatePostWithPhotos`` v6 with ``page_id``, ``message``, ``photos``.
* [FB-LIVE] index id 56158871373: a script reading a live blueprint's
  ``facebook-pages:CreatePost`` and its ``page_id``; index id 59256893442 lists
  ``facebook-pages:CreatePostWithPhotos`` v6 and ``instagram-business:CreatePostPhoto`` v1 as
  modules a team verified; ``../shared`` notes of the project read S1 for ``image_url``.
* [YT]      index id 71276904235: ``youtube:uploadVideo`` v4 accepted by Make's API (read
  off public template 11079); index id 9101820220: its mapper (``title``, ``file`` with
  ``filename`` and ``data``, ``privacyStatus``, ``categoryId``, ``madeForKids``,
  ``containsAlteredMedia``), a how-to, not an export.
* [PATTERNS] integromat/make-blueprints ``patterns/*/blueprint.json`` (router, Ignore,
  ``datastore:ExistRecord``, ``util:SetVariable2``, aggregator ``feeder``).
* [SKILLS]  integromat/make-skills ``skills/make-scenario-building/blueprint-construction.md``
  at 27d3ed453564498e29ce4fa5c1f6602c484794ff and ``error-handling.md`` (filter operators,
  directives, Feeder/Aggregator).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    name: str
    required: bool = False
    type: str = "text"  # text, url, number, boolean, select, array, collection, buffer, any
    enum: tuple = ()
    when: tuple | None = None  # required only when mapper[when[0]] == when[1]


@dataclass(frozen=True)
class Module:
    id: str
    versions: tuple[int, ...]
    kind: str
    source: str
    evidence: str = "export"  # export (metadata.expect seen) | partial | none
    connection: tuple[str, ...] = ()
    parameters: tuple[Field, ...] = ()
    mapper: tuple[Field, ...] = ()
    outputs: tuple[str, ...] | None = None
    bindings: tuple[str, ...] = field(default=())  # parameters an importer attaches


_AUTH = Field("authenticationType", True, "select", ("noAuth", "apiKey", "basicAuth", "oAuth"))
_DIRECTIVE = dict(kind="directive", source="[PATTERNS] [SKILLS] error-handling.md", outputs=())

MODULES: dict[str, Module] = {
    module.id: module
    for module in (
        Module(
            "gateway:CustomWebHook",
            (1,),
            "trigger",
            "[EXP-TV] [PATTERNS] webhook-to-http",
            parameters=(Field("maxResults", type="number"),),
            bindings=("hook",),
        ),
        Module(
            "datastore:GetRecord",
            (1,),
            "datastore_get",
            "[EXP-TV]",
            bindings=("datastore",),
            mapper=(Field("key", True), Field("returnWrapped", True, "boolean")),
        ),
        Module(
            "datastore:AddRecord",
            (1,),
            "datastore_add",
            "[EXP-DS] [PATTERNS] datastore-dedupe",
            bindings=("datastore",),
            mapper=(Field("key"), Field("overwrite", True, "boolean"), Field("data", type="collection")),
        ),
        Module(
            "datastore:ExistRecord",
            (1,),
            "datastore_exist",
            "[PATTERNS] datastore-dedupe",
            evidence="partial",
            bindings=("datastore",),
            mapper=(Field("key", True),),
            outputs=("exist",),
        ),
        Module("builtin:BasicRouter", (1,), "router", "[PATTERNS] [LOLIBA]", outputs=()),
        Module(
            "builtin:BasicFeeder",
            (1,),
            "feeder",
            "[HALIMA] [SKILLS]",
            evidence="partial",
            mapper=(Field("array", True, "array"),),
        ),
        Module(
            "builtin:BasicAggregator",
            (1,),
            "aggregator",
            "[HALIMA] [EXP-TV] [SKILLS]",
            evidence="partial",
            parameters=(Field("feeder", True, "number"),),
            outputs=("array", "__IMTAGGLENGTH__"),
        ),
        Module(
            "builtin:Break",
            (1,),
            mapper=(Field("retry", type="boolean"), Field("count", type="number"), Field("interval", type="number")),
            **_DIRECTIVE,
        ),
        Module("builtin:Ignore", (1,), **_DIRECTIVE),
        Module("builtin:Resume", (1,), **_DIRECTIVE),
        Module("builtin:Commit", (1,), **_DIRECTIVE),
        Module("builtin:Rollback", (1,), **_DIRECTIVE),
        Module(
            "util:SetVariables",
            (1,),
            "variables",
            "[EXP-TV]",
            mapper=(Field("variables", type="array"), Field("scope", True, "select", ("roundtrip", "execution"))),
        ),
        Module(
            "util:SetVariable2",
            (1,),
            "variable",
            "[PATTERNS] webhook-router-error-handler",
            evidence="partial",
            mapper=(
                Field("name", True),
                Field("value", type="any"),
                Field("scope", True, "select", ("roundtrip", "execution")),
            ),
        ),
        Module(
            "http:MakeRequest",
            (4,),
            "http",
            "[EXP-HTTP] [EXP-TV] [PATTERNS]",
            parameters=(_AUTH, Field("tlsType", type="select", enum=("", "mTls", "tls"))),
            mapper=(
                Field("url", True, "url"),
                Field("method", True, "select", ("get", "head", "post", "put", "patch", "delete", "options")),
                Field("headers", type="array"),
                Field("queryParameters", type="array"),
                Field("contentType", type="select", enum=("json", "multipart", "urlEncoded", "custom")),
                Field("parseResponse", True, "boolean"),
                Field("stopOnHttpError", True, "boolean"),
                Field("allowRedirects", True, "boolean"),
                Field("shareCookies", True, "boolean"),
                Field("requestCompressedContent", True, "boolean"),
                Field("timeout", type="number"),
                Field("inputMethod", True, "select", ("dataStructure", "jsonString"), when=("contentType", "json")),
                Field("jsonStringBodyContent", True, when=("inputMethod", "jsonString")),
                Field("multipartBodyContent", True, "array", when=("contentType", "multipart")),
            ),
            outputs=("data", "statusCode", "headers"),
        ),
        Module(
            "http:DownloadFile",
            (4,),
            "download",
            "[DL]",
            evidence="partial",
            parameters=(_AUTH,),
            mapper=(
                Field("url", True, "url"),
                Field("stopOnHttpError", True, "boolean"),
                Field("shareCookies", type="boolean"),
                Field("headers", type="array"),
            ),
            outputs=("data", "fileName", "statusCode", "headers"),
        ),
        Module(
            "json:TransformToJSON",
            (1,),
            "to_json",
            "[JSON]",
            evidence="partial",
            parameters=(Field("space", type="select", enum=("", "tab", "2", "4")),),
            mapper=(Field("object", type="any"),),
            outputs=("json",),
        ),
        Module(
            "facebook-pages:CreatePost",
            (6,),
            "publish",
            "[FB-LIVE] [FDF] make_fdf.py",
            evidence="partial",
            connection=("facebook",),
            mapper=(Field("page_id", True, "select"), Field("message"), Field("link", type="url")),
            outputs=("id",),
        ),
        Module(
            "facebook-pages:CreatePostWithPhotos",
            (6,),
            "publish",
            "[HALIMA] [FB-LIVE]",
            evidence="partial",
            connection=("facebook",),
            mapper=(
                Field("page_id", True, "select"),
                Field("photos", True, "array"),
                Field("message"),
                Field("date", type="date"),
            ),
            outputs=("id",),
        ),
        Module(
            "instagram-business:CreatePostPhoto",
            (1,),
            "publish",
            "[FB-LIVE]",
            evidence="partial",
            connection=("facebook",),
            mapper=(
                Field("accountId", True, "select"),
                Field("image_url", True, "url"),
                Field("caption"),
                Field("location_id"),
                Field("user_tags", type="array"),
            ),
            outputs=("id",),
        ),
        Module(
            "instagram-business:CreateAReelPost",
            (1,),
            "publish",
            "[FDF] make-audit/latest.json",
            connection=("facebook",),
            mapper=(
                Field("accountId", True, "select"),
                Field("video_url", True, "url"),
                Field("caption"),
                Field("thumb_offset", type="number"),
                Field("location_id"),
                Field("share_to_feed", True, "boolean"),
            ),
            outputs=("id",),
        ),
        Module(
            "linkedin:CreateCompanyImagePost",
            (2,),
            "publish",
            "[LOLIBA] daily",
            connection=("linkedin2", "linkedin-openid"),
            mapper=(
                Field("organization", True, "select"),
                Field("method", True, "select", ("upload", "link")),
                Field("title"),
                Field("altText"),
                Field("content", True),
                Field("visibility", True, "select", ("PUBLIC", "CONNECTIONS", "LOGGED_IN")),
                Field("feedDistribution", True, "select", ("MAIN_FEED", "NONE")),
                Field("isReshareDisabledByAuthor", True, "boolean"),
                Field("url", True, when=("method", "link")),
            ),
            outputs=("id",),
        ),
        Module(
            "linkedin:CreateTextShare",
            (2,),
            "publish",
            "[LOLIBA] daily and weekly",
            connection=("linkedin2", "linkedin-openid"),
            mapper=(
                Field("organization", True, "select"),
                Field("content", True),
                Field("mentions", type="array"),
                Field("type", type="select", enum=("ARTICLE",)),
                Field("visibility", True, "select", ("PUBLIC", "LOGGED_IN")),
                Field("feedDistribution", True, "select", ("MAIN_FEED", "NONE")),
                Field("isReshareDisabledByAuthor", True, "boolean"),
                Field("media", True, "collection", when=("type", "ARTICLE")),
            ),
            outputs=("id",),
        ),
        Module(
            "youtube:uploadVideo",
            (4,),
            "publish",
            "[YT]",
            evidence="partial",
            connection=("youtube",),
            mapper=(
                Field("title", True),
                Field("file", True, "collection"),
                Field("description"),
                Field("categoryId"),
                Field("privacyStatus", type="select", enum=("public", "unlisted", "private")),
                Field("madeForKids", type="boolean"),
                Field("containsAlteredMedia", type="boolean"),
            ),
            outputs=("id",),
        ),
    )
}

# Fields of a collection the runner checks once rendered (the export shows them required).
NESTED_REQUIRED = {
    ("linkedin:CreateTextShare", "media"): ("originalUrl", "title"),
    ("youtube:uploadVideo", "file"): ("filename", "data"),
}

# Filter operators seen in exports and in Make's own guidance ([SKILLS], [HALIMA], [PATTERNS]).
FILTER_OPERATORS = frozenset(
    {
        "exist",
        "notexist",
        "text:equal",
        "text:equal:ci",
        "text:notequal",
        "text:contain",
        "text:notcontain",
        "text:startswith",
        "text:endswith",
        "number:equal",
        "number:notequal",
        "number:greater",
        "number:less",
        "boolean:equal",
        "date:before",
        "date:after",
    }
)

# On an error route only ``{{N.error.message}}`` is evidenced ([PATTERNS] error-handler-fallback).
ERROR_OUTPUTS = ("message",)


def find(module_id: str) -> Module | None:
    return MODULES.get(module_id)
