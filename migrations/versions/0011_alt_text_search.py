"""Alt text in the PostgreSQL search document: `media_search_vector` takes the asset's alt text
(weight C, beside the description) and the row trigger fires on `alt_text` too.

Migration 0008 added `media_assets.alt_text` after 0002_search's vector function, so the search
matched it at query time only, without ranking it in the index or offering its words to the typo
corrections (`search_words`). The function gains a parameter, so its callers (the row trigger
and the two tag triggers) are written again around the new signature and the old one dropped.
The vectors of the assets that have an alt text are recomputed in batches of ids (an update of
`title` to itself fires the row trigger, and the statement triggers keep `search_words` in step),
so a large library never holds one long statement's worth of locks and word-counter updates.

Revision ID: 0011_alt_text_search
Revises: 0010_renditions
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa

revision = "0011_alt_text_search"
down_revision = "0010_renditions"
branch_labels = None
depends_on = None

BATCH = 1000

# The vector function as 0002_search wrote it, and with the alt text (weight C) appended.
OLD_BODY = """  SELECT search_field(title, 'A')
      || search_field((SELECT string_agg(t.name, ' ') FROM media_tags mt
                       JOIN tags t ON t.id = mt.tag_id WHERE mt.media_asset_id = asset_id), 'A')
      || search_field(filename, 'B')
      || search_field(description, 'C')"""
OLD_COLUMNS = "title, filename, description"
# (function parameters, body, the row fields its callers pass, the row trigger's columns)
OLD = ("asset_id integer, title text, filename text, description text", OLD_BODY,
       "{r}.id, {r}.title, {r}.filename, {r}.description", OLD_COLUMNS)
NEW = (OLD[0] + ", alt_text text", OLD_BODY + "\n      || search_field(alt_text, 'C')",
       OLD[2] + ", {r}.alt_text", OLD_COLUMNS + ", alt_text")


def _install(version, previous) -> None:
    params, body, args, columns = version
    op.execute(f"CREATE FUNCTION media_search_vector({params}) RETURNS tsvector\n"
               f"LANGUAGE sql STABLE AS $$\n{body}\n$$")
    row, asset = args.format(r="NEW"), args.format(r="m")
    op.execute(f"""
CREATE OR REPLACE FUNCTION media_assets_search_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector := media_search_vector({row});
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION media_tags_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE media_assets m SET search_vector = media_search_vector({asset})
     WHERE m.id IN (SELECT media_asset_id FROM new_rows);
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE media_assets m SET search_vector = media_search_vector({asset})
     WHERE m.id IN (SELECT media_asset_id FROM old_rows);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION tags_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE media_assets m SET search_vector = media_search_vector({asset})
   WHERE m.id IN (SELECT media_asset_id FROM media_tags WHERE tag_id = NEW.id);
  RETURN NULL;
END $$;

DROP TRIGGER search_vector ON media_assets;
CREATE TRIGGER search_vector BEFORE INSERT OR UPDATE OF {columns}
  ON media_assets FOR EACH ROW EXECUTE FUNCTION media_assets_search_row();
""")
    old_params = ", ".join(p.split()[1] for p in previous[0].split(", "))
    op.execute(f"DROP FUNCTION media_search_vector({old_params})")
    _refresh()


def _refresh() -> None:
    """Recompute the vectors of the assets that have an alt text (the others' do not change),
    one batch of ids per statement; `title` is a column the row trigger watches both ways."""
    bind = op.get_bind()
    last = 0
    while True:
        ids = bind.execute(sa.text("SELECT id FROM media_assets WHERE id > :last AND alt_text <> '' "
                                   "ORDER BY id LIMIT :n"), {"last": last, "n": BATCH}).scalars().all()
        if not ids:
            return
        bind.execute(sa.text("UPDATE media_assets SET title = title WHERE id = ANY(:ids)"), {"ids": ids})
        last = ids[-1]


def upgrade():
    _install(NEW, OLD)


def downgrade():
    _install(OLD, NEW)
