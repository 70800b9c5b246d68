"""Migrations: one head, up/down/up on an empty database, and the models match them."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from app.extensions import db
from tests.conftest import create_database, drop_database, make_test_app


def test_single_head(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_upgrade_downgrade_upgrade_on_an_empty_database(servers):
    url = create_database(servers.database_url)
    try:
        app = make_test_app(servers, url)
        with app.app_context():
            upgrade()
            tables = set(sa.inspect(db.engine).get_table_names())
            assert {"users", "publications", "callback_events", "media_assets"} <= tables
            downgrade(revision="base")
            assert set(sa.inspect(db.engine).get_table_names()) == {"alembic_version"}
            upgrade()
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diff == [], diff
            extensions = set(db.session.scalars(sa.text("SELECT extname FROM pg_extension")))
            assert {"unaccent", "pg_trgm", "fuzzystrmatch"} <= extensions
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_database(servers.database_url, url)


def test_constraints_the_flows_rely_on(app):
    with app.app_context():
        inspector = sa.inspect(db.engine)
        uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("publications")}
        assert ("idempotency_key",) in uniques
        assert ("sha256",) in {tuple(u["column_names"]) for u in inspector.get_unique_constraints("media_assets")}
        assert ("webhook_id",) in {
            tuple(u["column_names"]) for u in inspector.get_unique_constraints("callback_events")
        }
        fks = {
            fk["referred_table"]: fk["options"].get("ondelete")
            for fk in inspector.get_foreign_keys("campaign_scenarios")
        }
        assert fks == {"campaigns": "CASCADE", "social_accounts": "RESTRICT"}
