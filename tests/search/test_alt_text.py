"""The assets' alt text in the PostgreSQL search document (migration 0011_alt_text_search): kept
by the row trigger at weight C, its words in the typo vocabulary, existing rows refreshed by the
migration, and the migration reversible."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import search
from app.extensions import db
from app.models import MediaAsset
from tests.conftest import create_database, drop_database, make_test_app
from tests.search.conftest import add_asset

ALT = "Une girafe orange devant le pavillon"


def _vector(asset_id: int) -> str:
    return db.session.scalar(sa.text("SELECT search_vector::text FROM media_assets WHERE id = :id"), {"id": asset_id})


def test_an_asset_is_found_by_a_word_of_its_alt_text_typos_included(app, corpus):
    with app.app_context():
        asset = add_asset("Affiche du stand", "stand.jpg")
        asset.alt_text = ALT
        db.session.flush()
        assert "'girafe':" in _vector(asset.id) and "C" in _vector(asset.id).split("'girafe':")[1].split(" ")[0]
        for query in ("girafe", "pavillon orange", "girafle", "pavilon"):  # the last two misspelled
            result = search.search_media(query)
            assert result.ids == [asset.id] and result.engine == "postgres", query
        # A word of the title still ranks its asset above one that has it only in its alt text.
        other = add_asset("Girafe en peluche", "peluche.jpg")
        db.session.flush()
        assert search.search_media("girafe").ids == [other.id, asset.id]


def test_changing_only_the_alt_text_updates_the_document_and_the_vocabulary(app, corpus):
    with app.app_context():
        asset = add_asset("Affiche du stand", "stand.jpg")
        db.session.flush()
        assert search.search_media("girafe").ids == []
        db.session.get(MediaAsset, asset.id).alt_text = ALT
        db.session.flush()
        assert search.search_media("girafle").ids == [asset.id]
        assert db.session.scalar(sa.text("SELECT ndocs FROM search_words WHERE word = 'girafe'")) >= 1
        db.session.get(MediaAsset, asset.id).alt_text = ""
        db.session.flush()
        assert search.search_media("girafe").ids == []


def test_the_migration_refreshes_existing_assets_and_goes_down_and_up(servers):
    url = create_database(servers.database_url)
    try:
        app = make_test_app(servers, url)
        with app.app_context():
            upgrade(revision="0010_renditions")
            db.session.execute(
                sa.text(
                    "INSERT INTO media_assets (title, filename, mime, kind, size_bytes, sha256, storage_backend, "
                    "status, version, alt_text) VALUES ('Affiche', 'a.jpg', 'image/jpeg', 'image', 1, :sha, 'local', "
                    "'ready', 1, :alt)"
                ),
                {"sha": "a" * 64, "alt": ALT},
            )
            db.session.commit()
            asset_id = db.session.scalar(sa.text("SELECT id FROM media_assets"))
            assert "girafe" not in _vector(asset_id)
            db.session.commit()  # the migration's DDL waits for no transaction of the test's
            for step in range(2):
                upgrade(revision="0011_alt_text_search")
                assert "'girafe':" in _vector(asset_id), step
                assert db.session.scalar(sa.text("SELECT ndocs FROM search_words WHERE word = 'girafe'")) == 1
                db.session.commit()
                downgrade(revision="0010_renditions")
                assert "girafe" not in _vector(asset_id) and "'affich':" in _vector(asset_id)
                assert db.session.scalar(sa.text("SELECT count(*) FROM search_words WHERE word = 'girafe'")) == 0
                db.session.commit()
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_database(servers.database_url, url)
