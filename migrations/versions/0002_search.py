"""Search: weighted tsvectors kept by triggers, the indexed-words table, typo corrections.

Everything PostgreSQL needs to answer a search on its own (app/search/postgres.py):

- text search configurations `cms_fr` (unaccent, then the French stemmer) and `cms_simple`
  (unaccent, unstemmed: prefixes, English words, names, numbers);
- `media_assets.search_vector`: title (A), tag names (A), filename split into words (B),
  description (C); `content_objects.search_vector`: title (A), campaign name (B), message (C).
  Each field is indexed through both configurations. Punctuation becomes a space first, so
  `IMG_1234.jpg` reads `img 1234 jpg` and `affiche-salon.pdf` reads `affiche salon pdf`;
- triggers keep the vectors right for every writer: asset or object insert/update, tags
  attached or detached (media_tags), tag renamed, campaign renamed;
- `search_words`: every lexeme of those vectors with the number of documents holding it,
  maintained by statement-level triggers (transition tables, so a bulk load is one pass),
  with a trigram index from which `search_query()` corrects misspelled words. Writers of
  documents sharing a word (say "jpg") update its counter in turn, each waiting for the
  other's commit; a statement locks its words in sorted order, so writers that change one
  document per transaction cannot deadlock on them.

Revision ID: 0002_search
Revises: 0002_media (needs only 0001; chained after the sibling revisions of the same day)
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0002_search"
# Depends on nothing of 0002_make / 0002_media: only on tables and extensions of 0001.
down_revision = "0002_media"
branch_labels = None
depends_on = None

WORD_TOKENS = "asciiword, asciihword, hword_asciipart, word, hword, hword_part"
NUMWORD_TOKENS = "numword, numhword, hword_numpart"  # letters and digits: never stemmed

FUNCTIONS = r"""
CREATE FUNCTION search_field(body text, weight "char") RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT setweight(to_tsvector('cms_fr'::regconfig, c) || to_tsvector('cms_simple'::regconfig, c),
                   weight)
  FROM regexp_replace(coalesce(body, ''), '[[:punct:]]+', ' ', 'g') AS c
$$;

CREATE FUNCTION media_search_vector(asset_id integer, title text, filename text,
                                    description text) RETURNS tsvector
LANGUAGE sql STABLE AS $$
  SELECT search_field(title, 'A')
      || search_field((SELECT string_agg(t.name, ' ') FROM media_tags mt
                       JOIN tags t ON t.id = mt.tag_id WHERE mt.media_asset_id = asset_id), 'A')
      || search_field(filename, 'B')
      || search_field(description, 'C')
$$;

CREATE FUNCTION object_search_vector(title text, campaign integer, message text) RETURNS tsvector
LANGUAGE sql STABLE AS $$
  SELECT search_field(title, 'A')
      || search_field((SELECT name FROM campaigns WHERE id = campaign), 'B')
      || search_field(message, 'C')
$$;

-- Row triggers: the vector of the row being written.
CREATE FUNCTION media_assets_search_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector := media_search_vector(NEW.id, NEW.title, NEW.filename, NEW.description);
  RETURN NEW;
END $$;

CREATE FUNCTION content_objects_search_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_vector := object_search_vector(NEW.title, NEW.campaign_id, NEW.message);
  RETURN NEW;
END $$;

-- Tags attached or detached: recompute the assets concerned, once per statement.
CREATE FUNCTION media_tags_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE media_assets m
       SET search_vector = media_search_vector(m.id, m.title, m.filename, m.description)
     WHERE m.id IN (SELECT media_asset_id FROM new_rows);
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE media_assets m
       SET search_vector = media_search_vector(m.id, m.title, m.filename, m.description)
     WHERE m.id IN (SELECT media_asset_id FROM old_rows);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION tags_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE media_assets m
     SET search_vector = media_search_vector(m.id, m.title, m.filename, m.description)
   WHERE m.id IN (SELECT media_asset_id FROM media_tags WHERE tag_id = NEW.id);
  RETURN NULL;
END $$;

CREATE FUNCTION campaigns_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE content_objects o
     SET search_vector = object_search_vector(o.title, o.campaign_id, o.message)
   WHERE o.campaign_id = NEW.id;
  RETURN NULL;
END $$;

-- The indexed words: add the lexemes of new vectors, remove those of old ones. Words are
-- upserted in sorted order so that concurrent writers lock them in the same order.
CREATE FUNCTION search_words_apply(added tsvector[], removed tsvector[]) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO search_words AS s (word, ndocs)
  SELECT w, sum(d)::integer FROM (
    SELECT unnest(tsvector_to_array(v)) AS w, 1 AS d FROM unnest(added) AS v
    UNION ALL
    SELECT unnest(tsvector_to_array(v)), -1 FROM unnest(removed) AS v) AS x
  GROUP BY w HAVING sum(d) <> 0 ORDER BY w
  ON CONFLICT (word) DO UPDATE SET ndocs = s.ndocs + excluded.ndocs;
  DELETE FROM search_words
   WHERE ndocs <= 0
     AND word IN (SELECT unnest(tsvector_to_array(v)) FROM unnest(removed) AS v);
$$;

CREATE FUNCTION search_words_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM search_words_apply(ARRAY(SELECT search_vector FROM new_rows), '{}');
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM search_words_apply('{}', ARRAY(SELECT search_vector FROM old_rows));
  ELSE
    PERFORM search_words_apply(
      ARRAY(SELECT n.search_vector FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE n.search_vector IS DISTINCT FROM o.search_vector),
      ARRAY(SELECT o.search_vector FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE n.search_vector IS DISTINCT FROM o.search_vector));
  END IF;
  RETURN NULL;
END $$;

-- Typos between what was typed and an indexed word, counted as Meilisearch does: Levenshtein
-- with an adjacent transposition as one typo, and a wrong first letter counting twice. As a
-- prefix, `typed` is compared with the beginnings of `word` (the word being typed).
CREATE FUNCTION search_typos(typed text, word text, as_prefix boolean) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT min(least(
           levenshtein_less_equal(typed, target, 3),
           1 + (SELECT min(levenshtein_less_equal(
                             overlay(typed PLACING substr(typed, i + 1, 1) || substr(typed, i, 1)
                                     FROM i FOR 2), target, 2))
                  FROM generate_series(1, length(typed) - 1) AS i)))
         + (left(typed, 1) <> left(word, 1))::integer
  FROM (SELECT word AS target WHERE NOT as_prefix
        UNION ALL
        SELECT left(word, length(typed) + k) FROM generate_series(-2, 2) AS k
         WHERE as_prefix AND length(typed) + k BETWEEN 1 AND length(word)) AS targets
$$;

-- Indexed words within `budget` typos of `typed`, fewest typos then most frequent first.
-- Candidates come from the trigram index (its thresholds set for this function only) and a
-- cheap Levenshtein bound, so `search_typos` runs on a handful of words.
CREATE FUNCTION search_corrections(typed text, budget integer, as_prefix boolean)
RETURNS SETOF text
LANGUAGE sql STABLE
SET pg_trgm.similarity_threshold = 0.2
SET pg_trgm.word_similarity_threshold = 0.3
AS $$
  SELECT word FROM (SELECT c.word, c.ndocs, search_typos(typed, c.word, as_prefix) AS typos FROM (
    SELECT s.word, s.ndocs FROM search_words s
     WHERE NOT as_prefix AND s.word % typed AND abs(length(s.word) - length(typed)) <= budget
       AND levenshtein_less_equal(typed, s.word, budget + 1) <= budget + 1
    UNION ALL
    SELECT s.word, s.ndocs FROM search_words s
     WHERE as_prefix AND s.word %> typed AND length(s.word) >= length(typed) - budget
       AND levenshtein_less_equal(typed, left(s.word, length(typed)), budget + 1) <= budget + 1
  ) AS c OFFSET 0) AS candidates      -- OFFSET 0: count the typos once per candidate
  WHERE typos <= budget
  ORDER BY typos, ndocs DESC, word
  LIMIT 8
$$;

-- The tsquery of a search: every word must match, through its stem, itself, or its
-- corrections when it is not an indexed word; the last word also as a prefix when
-- `prefix_last` (it is still being typed). Typo budget as Meilisearch's: 1 from 5 letters,
-- 2 from 9. NULL when nothing searchable was typed.
CREATE FUNCTION search_query(words text[], prefix_last boolean) RETURNS tsquery
LANGUAGE plpgsql STABLE AS $$
DECLARE
  result tsquery;
  alternatives text;     -- the word's tsquery operands, ORed (tsquery syntax)
  corrections text;
  typed text;
  is_prefix boolean;
  budget integer;
  n integer := coalesce(array_length(words, 1), 0);
BEGIN
  FOR i IN 1 .. n LOOP
    typed := lower(unaccent(words[i]));
    is_prefix := prefix_last AND i = n;
    -- Operands are lexemes the parser made, quoted: no user text is read as tsquery syntax.
    SELECT string_agg(quote_literal(lexeme), ' | ') INTO alternatives
      FROM unnest(tsvector_to_array(to_tsvector('cms_fr', typed)
                                    || to_tsvector('cms_simple', typed))) AS lexeme;
    CONTINUE WHEN alternatives IS NULL;
    IF is_prefix THEN
      SELECT alternatives || coalesce(' | ' || string_agg(quote_literal(lexeme) || ':*', ' | '), '')
        INTO alternatives
        FROM unnest(tsvector_to_array(to_tsvector('cms_simple', typed))) AS lexeme;
    END IF;
    budget := CASE WHEN length(typed) >= 9 THEN 2 WHEN length(typed) >= 5 THEN 1 ELSE 0 END;
    IF budget > 0 AND NOT EXISTS (
        SELECT 1 FROM search_words
         WHERE word = typed
            OR (is_prefix AND word >= typed AND word < typed || chr(1114111))) THEN
      SELECT string_agg(quote_literal(c), ' | ') INTO corrections
        FROM search_corrections(typed, budget, is_prefix) AS c;
      alternatives := alternatives || coalesce(' | ' || corrections, '');
    END IF;
    result := CASE WHEN result IS NULL THEN alternatives::tsquery
                   ELSE result && alternatives::tsquery END;
  END LOOP;
  RETURN result;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER search_vector BEFORE INSERT OR UPDATE OF title, filename, description
  ON media_assets FOR EACH ROW EXECUTE FUNCTION media_assets_search_row();
CREATE TRIGGER search_vector BEFORE INSERT OR UPDATE OF title, message, campaign_id
  ON content_objects FOR EACH ROW EXECUTE FUNCTION content_objects_search_row();
CREATE TRIGGER search_on_insert AFTER INSERT ON media_tags
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION media_tags_search_sync();
CREATE TRIGGER search_on_update AFTER UPDATE ON media_tags
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION media_tags_search_sync();
CREATE TRIGGER search_on_delete AFTER DELETE ON media_tags
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION media_tags_search_sync();
CREATE TRIGGER search_on_rename AFTER UPDATE OF name ON tags
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION tags_search_sync();
CREATE TRIGGER search_on_rename AFTER UPDATE OF name ON campaigns
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION campaigns_search_sync();
"""

WORD_TRIGGERS = """
CREATE TRIGGER search_words_on_insert AFTER INSERT ON {table}
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_words_sync();
CREATE TRIGGER search_words_on_update AFTER UPDATE ON {table}
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION search_words_sync();
CREATE TRIGGER search_words_on_delete AFTER DELETE ON {table}
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION search_words_sync();
"""

DROP_FUNCTIONS = (
    "search_query(text[], boolean)", "search_corrections(text, integer, boolean)",
    "search_typos(text, text, boolean)", "search_words_sync()",
    "search_words_apply(tsvector[], tsvector[])", "campaigns_search_sync()", "tags_search_sync()",
    "media_tags_search_sync()", "content_objects_search_row()", "media_assets_search_row()",
    "object_search_vector(text, integer, text)",
    "media_search_vector(integer, text, text, text)", "search_field(text, \"char\")",
)


def upgrade():
    for name, template in (("cms_fr", "french_stem"), ("cms_simple", "simple")):
        base = "french" if name == "cms_fr" else "simple"
        op.execute(f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = {base})")
        op.execute(f"ALTER TEXT SEARCH CONFIGURATION {name} ALTER MAPPING FOR {WORD_TOKENS} "
                   f"WITH unaccent, {template}")
        op.execute(f"ALTER TEXT SEARCH CONFIGURATION {name} ALTER MAPPING FOR {NUMWORD_TOKENS} "
                   "WITH unaccent, simple")
    op.create_table(
        "search_words",
        sa.Column("word", sa.Text(collation="C"), nullable=False),
        sa.Column("ndocs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_words")),
    )
    op.create_index("ix_search_words_word_trgm", "search_words", ["word"], unique=False,
                    postgresql_using="gin", postgresql_ops={"word": "gin_trgm_ops"})
    for table in ("media_assets", "content_objects"):
        op.add_column(table, sa.Column("search_vector", postgresql.TSVECTOR(), nullable=True))
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)
    for table in ("media_assets", "content_objects"):
        op.execute(WORD_TRIGGERS.format(table=table))
    # Existing rows: the row triggers compute their vectors, the statement triggers the words.
    op.execute("UPDATE media_assets SET title = title")
    op.execute("UPDATE content_objects SET title = title")
    for table in ("media_assets", "content_objects"):
        op.create_index(f"ix_{table}_search_vector", table, ["search_vector"], unique=False,
                        postgresql_using="gin")


def downgrade():
    for table in ("media_assets", "content_objects"):
        op.drop_index(f"ix_{table}_search_vector", table_name=table)
        for trigger in ("search_vector", "search_words_on_insert", "search_words_on_update",
                        "search_words_on_delete"):
            op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for trigger in ("search_on_insert", "search_on_update", "search_on_delete"):
        op.execute(f"DROP TRIGGER {trigger} ON media_tags")
    op.execute("DROP TRIGGER search_on_rename ON tags")
    op.execute("DROP TRIGGER search_on_rename ON campaigns")
    for signature in DROP_FUNCTIONS:
        op.execute(f"DROP FUNCTION {signature}")
    for table in ("media_assets", "content_objects"):
        op.drop_column(table, "search_vector")
    op.drop_index("ix_search_words_word_trgm", table_name="search_words")
    op.drop_table("search_words")
    op.execute("DROP TEXT SEARCH CONFIGURATION cms_simple")
    op.execute("DROP TEXT SEARCH CONFIGURATION cms_fr")
