"""`flask make ...`: the scenario blueprints and the Make side's health from the shell."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from app.campaigns import provisioning
from app.extensions import db
from app.integrations import blueprints, doctor as make_doctor, make

make_cli = AppGroup(
    "make", help="Make.com scenarios: render blueprints, re-render them, check the installation against Make (doctor)."
)


@make_cli.command("render-blueprint")
@click.option("--platform", type=click.Choice(blueprints.PLATFORMS), required=True)
@click.option("--hook", "hook_id", type=click.IntRange(min=1), required=True, help="Make hook id")
@click.option(
    "--connection",
    "connection_id",
    type=click.IntRange(min=1),
    required=True,
    help="Make connection id of the social account",
)
@click.option("--name", help="scenario name (default: cms-{MAKE_ENV}-{platform})")
def render_blueprint(platform, hook_id, connection_id, name):
    """Print the platform's blueprint filled with this installation's settings."""
    name = name or f"cms-{current_app.config['MAKE_ENV']}-{platform}"
    try:
        blueprint = provisioning.render_blueprint(platform, hook_id=hook_id, connection_id=connection_id, name=name)
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
        raise click.ClickException(
            f"{failed} scenario(s) could not be updated: run it again before dropping MAKE_CALLBACK_SECRET_PREVIOUS"
        )


@make_cli.command("doctor")
def doctor():
    """Check the token, its scopes, the ids, the Data Store, each account's connection and each
    ready scenario (active, valid, bound to its hook, not drifted, last dry run); one line per
    check, exit status 1 when any fails. The report is kept for the admin page."""
    lines = make_doctor.run_and_record()
    db.session.commit()
    with force_locale("en"):
        for line in lines:
            label = {"ok": "OK", "warn": "NOTE", "fail": "FAIL"}[line.status]
            click.echo(f"{label:<4}  {line.check:<12}  {make_doctor.describe(line)}")
    failures = sum(line.status == "fail" for line in lines)
    if failures:
        raise click.ClickException(f"{failures} check(s) failed")
    click.echo(f"{len(lines)} check(s), none failed")
