"""`flask search setup | reindex | check`: the Meilisearch indexes (PostgreSQL needs none)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.search import indexing, meili

search_cli = AppGroup("search", help="Meilisearch indexes: settings, rebuild, drift.")
INDEX_CHOICE = click.Choice(["media", "objects", "all"])
SAMPLE = 20


def _indexes(choice: str) -> list[str]:
    if not meili.configured():
        raise click.ClickException("MEILI_URL is not set: PostgreSQL serves search alone, there is no index to manage.")
    return list(meili.INDEXES) if choice == "all" else [choice]


@search_cli.command("setup")
def setup():
    """Create both indexes and apply their settings (idempotent)."""
    _indexes("all")
    meili.ensure_indexes()
    click.echo("settings applied: " + ", ".join(meili.index_uid(i) for i in meili.INDEXES))


@search_cli.command("reindex")
@click.option("--index", "choice", type=INDEX_CHOICE, default="all", show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 10_000), default=indexing.BATCH_SIZE, show_default=True)
def reindex(choice, batch_size):
    """Rebuild the index from the database, in batches, while it keeps serving."""
    for index in _indexes(choice):
        with click.progressbar(length=indexing.count(index), label=meili.index_uid(index)) as bar:
            indexed, removed = indexing.reindex(index, batch_size, bar.update)
        click.echo(f"{meili.index_uid(index)}: {indexed} documents indexed, {removed} removed")


@search_cli.command("check")
@click.option("--index", "choice", type=INDEX_CHOICE, default="all", show_default=True)
def check(choice):
    """Report the drift between the database and the index; exit status 1 if any."""
    clean = True
    for index in _indexes(choice):
        drift = indexing.drift(index)
        clean = clean and drift.clean
        click.echo(f"{meili.index_uid(index)}: " + ("in sync" if drift.clean else "drift"))
        for name in ("missing", "stale", "extra"):
            ids = getattr(drift, name)
            sample = ", ".join(map(str, ids[:SAMPLE])) + (" …" if len(ids) > SAMPLE else "")
            click.echo(f"  {name}: {len(ids)}" + (f" ({sample})" if ids else ""))
    if not clean:
        raise SystemExit(1)
