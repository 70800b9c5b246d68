"""Flask CLI commands: `flask users create`, `flask demo seed`."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.auth import service as accounts
from app.auth.passwords import MIN_LENGTH
from app.extensions import db
from app.models import Role

users_cli = AppGroup("users", help="Manage user accounts.")
demo_cli = AppGroup("demo", help="Demo data for local use.")

DEMO_USERS = (
    ("admin@demo.local", "Alice Admin", Role.ADMIN, "demo-admin-pass"),
    ("editor@demo.local", "Émile Éditeur", Role.EDITOR, "demo-editor-pass"),
    ("approver@demo.local", "Agathe Approbatrice", Role.APPROVER, "demo-approver-pass"),
)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.password_option(help=f"At least {MIN_LENGTH} characters (prompted when omitted).")
def create_user(email, name, role, password):
    """Create an account that can log in at once."""
    if len(password) < MIN_LENGTH:
        raise click.BadParameter(f"at least {MIN_LENGTH} characters", param_hint="--password")
    try:
        user = accounts.create_user(email, name, Role(role), password)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc))
    db.session.commit()
    click.echo(f"created {user.role.value} {user.email} (id {user.id})")


def seed_demo() -> bool:
    """Create the demo accounts once; returns False when they already exist."""
    if accounts.find_by_email(DEMO_USERS[0][0]) is not None:
        return False
    for email, name, role, password in DEMO_USERS:
        accounts.create_user(email, name, role, password)
    db.session.commit()
    return True


@demo_cli.command("seed")
def seed():
    """Seed the demo data (idempotent)."""
    click.echo("demo data created" if seed_demo() else "demo data already present")


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
