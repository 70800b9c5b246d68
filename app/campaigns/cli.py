"""`flask make ...`: the scenario blueprints from the shell."""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from app.campaigns import provisioning
from app.integrations import blueprints, make

make_cli = AppGroup("make", help="Make.com scenarios: render blueprints, re-render after a secret rotation.")


@make_cli.command("render-blueprint")
@click.option("--platform", type=click.Choice(blueprints.PLATFORMS), required=True)
@click.option("--hook", "hook_id", type=click.IntRange(min=1), required=True, help="Make hook id")
@click.option("--connection", "connection_id", type=click.IntRange(min=1), required=True,
              help="Make connection id of the social account")
@click.option("--name", help="scenario name (default: cms-{MAKE_ENV}-{platform})")
def render_blueprint(platform, hook_id, connection_id, name):
    """Print the platform's blueprint filled with this installation's settings."""
    name = name or f"cms-{current_app.config['MAKE_ENV']}-{platform}"
    try:
        blueprint = provisioning.render_blueprint(platform, hook_id=hook_id,
                                                  connection_id=connection_id, name=name)
    except blueprints.BlueprintError as exc:
        raise click.ClickException(str(exc))
    click.echo(json.dumps(blueprint, indent=2, ensure_ascii=False))


@make_cli.command("rerender-scenarios")
def rerender_scenarios():
    """PATCH every ready scenario's blueprint with the current MAKE_CALLBACK_SECRET."""
    try:
        updated, failed = provisioning.rerender_ready_scenarios(click.echo)
    except (make.MakeError, blueprints.BlueprintError) as exc:
        raise click.ClickException(str(exc))
    click.echo(f"{updated} scenario(s) updated")
    if failed:
        raise click.ClickException(f"{failed} scenario(s) could not be updated: run it again "
                                   "before dropping MAKE_CALLBACK_SECRET_PREVIOUS")
