"""Flask CLI commands: `flask users create`, `flask demo seed`, `flask make ...`, `flask media sweep`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.auth import service as accounts
from app.auth.passwords import MIN_LENGTH
from app.extensions import db
from app.models import Campaign, Platform, Role, SocialAccount

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


# One social account per network; the connection ids are the Make emulator's seeded ones.
DEMO_SOCIAL_ACCOUNTS = (
    (Platform.FACEBOOK, "Page Facebook — Salon", 78, "104857600000001"),
    (Platform.INSTAGRAM, "Instagram — Salon", 77, "17841400000000001"),
    (Platform.YOUTUBE, "Chaîne YouTube", 80, "UCcmsDemoChannel000000a1"),
    (Platform.LINKEDIN, "Page LinkedIn", 79, "urn:li:organization:1000001"),
    (Platform.X, "Compte X", 81, "1000000000000000001"),
    (Platform.TIKTOK, "Compte TikTok", 82, "-000cmsDemoTikTokOpenId0001"),
)
DEMO_CAMPAIGN_TARGETS = (Platform.INSTAGRAM, Platform.FACEBOOK, Platform.LINKEDIN)


def seed_demo(social: bool = True) -> bool:
    """Create what is missing of the demo data; True when the demo logins were just created.

    `social`: also the six social accounts and a campaign targeting three of them (their
    scenarios are provisioned by the worker), meant for the Make emulator's connections.
    """
    created = accounts.find_by_email(DEMO_USERS[0][0]) is None
    if created:
        for email, name, role, password in DEMO_USERS:
            accounts.create_user(email, name, role, password)
    if social and db.session.scalar(db.select(db.func.count()).select_from(SocialAccount)) == 0:
        _seed_social()
    db.session.commit()
    return created


def _seed_social() -> None:
    from app.campaigns import service as campaigns
    from app.platforms import service as platforms

    by_platform = {
        platform: platforms.create_account(
            platform,
            label=label,
            make_connection_id=connection,
            account_identifier=identifier,
            template_scenario_id=None,
        )
        for platform, label, connection, identifier in DEMO_SOCIAL_ACCOUNTS
    }
    if db.session.scalar(db.select(db.func.count()).select_from(Campaign)) == 0:
        editor = accounts.find_by_email(DEMO_USERS[1][0])
        campaign = campaigns.create_campaign(
            name="Salon 2026",
            description="Teasers, programme et coulisses du salon.",
            starts_on=None,
            ends_on=None,
            actor=editor,
            account_ids=[by_platform[platform].id for platform in DEMO_CAMPAIGN_TARGETS],
        )
        _seed_objects(campaign, editor)


def _seed_objects(campaign, editor) -> None:
    """Two posts with pictures on the demo campaign: a draft, and one waiting for the approver."""
    from app.campaigns import objects
    from app.demo_media import seed_pictures
    from app.reviews import service as reviews

    poster, backstage, banner = seed_pictures(editor)
    scenario = {s.social_account.platform: s.id for s in campaign.scenarios}
    objects.create_object(
        campaign,
        title="Programme des conférences",
        message="Le programme complet du salon est en ligne. #salon2026",
        link="https://example.org/salon/programme",
        media=[banner],
        targets=list(scenario.values()),
        scheduled_at=None,
        actor=editor,
    )
    teaser = objects.create_object(
        campaign,
        title="J-30 : le salon approche",
        message="Plus que 30 jours avant l’ouverture ! Réservez votre badge. #salon2026",
        link="https://example.org/salon",
        media=[poster, backstage],
        targets=[scenario[Platform.FACEBOOK], scenario[Platform.LINKEDIN]],
        scheduled_at=None,
        actor=editor,
    )
    reviews.submit(teaser, by=editor)


@demo_cli.command("seed")
@click.option(
    "--social/--no-social",
    default=True,
    help="Also the six social accounts (the Make emulator's connections) and a campaign.",
)
def seed(social):
    """Seed the demo data (idempotent). Development only: it creates accounts whose passwords
    are printed in the README."""
    from flask import current_app

    if current_app.config["APP_ENV"] != "development":
        raise click.ClickException(
            f"the demo data has known passwords: it is seeded only with APP_ENV=development "
            f"(this is {current_app.config['APP_ENV']})"
        )
    click.echo("demo data created" if seed_demo(social) else "demo data already present")


def register(app: Flask) -> None:
    from app.campaigns.cli import make_cli
    from app.media.cli import media_cli
    from app.search.cli import search_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(make_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(media_cli)
