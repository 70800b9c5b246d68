"""`flask media sweep`: the media files nothing references, removed (local) or reported (SharePoint)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.media import sweeper

media_cli = AppGroup("media", help="Media library files: orphan sweeping.")


def _graph_client():
    """The Graph client when the SharePoint settings are there; None otherwise."""
    from app.integrations.graph import GraphSettings, client_for

    try:
        return client_for(GraphSettings.from_config(current_app.config))
    except ValueError:
        return None


@media_cli.command("sweep")
@click.option("--dry-run", is_flag=True, help="Report what would be removed; remove nothing.")
@click.option(
    "--sharepoint-delete", is_flag=True, help="Also delete the SharePoint orphans (by default they are only listed)."
)
def sweep(dry_run, sharepoint_delete):
    """Remove the media files no asset references, older than MEDIA_ORPHAN_MIN_AGE_S."""
    report = sweeper.sweep_local(dry_run=dry_run)
    client = _graph_client()
    if client is not None:
        sweeper.sweep_sharepoint(client, report, delete=sharepoint_delete)
    elif sharepoint_delete:
        raise click.ClickException("the SharePoint settings (GRAPH_*) are missing: nothing to delete there")
    verb = "would remove" if dry_run else "removed"
    for kind in sweeper.LOCAL_KINDS:
        tally = report.kinds[kind]
        click.echo(f"{kind}: {verb} {tally.count} ({tally.bytes} bytes)")
    if client is None:
        click.echo("sharepoint: not configured, skipped")
        return
    tally = report.kinds[sweeper.SHAREPOINT]
    state = "deleted" if report.sharepoint_deleted else "reported, kept (--sharepoint-delete deletes them)"
    click.echo(f"sharepoint: {tally.count} item(s) of no asset ({tally.bytes} bytes), {state}")
    for item in report.sharepoint_items:
        click.echo(
            f"  {item['name']} ({item['id']}, {item.get('size', 0)} bytes, modified {item['lastModifiedDateTime']})"
        )
