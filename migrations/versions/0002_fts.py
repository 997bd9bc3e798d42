"""full-text search index over claim text, original text and speaker names/aliases

SQLite: an FTS5 table ``statements_fts(text, original_text, speaker)`` with its own copy of the
columns (rowid = statements.id), ``tokenize='unicode61 remove_diacritics 2'``. Its own copy,
because the speaker column is built from two other tables: triggers can then keep every row
exact with plain DELETE/INSERT/UPDATE, which an external-content table cannot do when a speaker
is renamed (it needs the old values of every affected row).

PostgreSQL: a side table ``statements_fts(statement_id, document tsvector)`` with a GIN index,
filled by the same events through PL/pgSQL triggers. ``factdb_search_fold`` lower-cases, strips
accents (the ``unaccent`` extension when the server has it, else a fixed translation of Latin
letters) and turns every run of non-alphanumerics into a space, as SQLite's unicode61 tokenizer
does; a separator lexeme ``'|'`` (never produced by a query) keeps phrases from spanning two
fields.

Events kept in step on both: statement insert, update of text/original_text/speaker_id (which
covers a speaker merge that moves statements), delete; speaker rename; alias added, changed
or removed.

Note for later migrations: a SQLite ``batch_alter_table`` on statements, speakers or
speaker_aliases recreates the table and drops these triggers; recreate them afterwards (the
same DDL lives in ``factdb.services.search``, and a test checks the two agree).

Revision ID: 0002_fts
Revises: 0001_core
Create Date: 2026-11-26 23:00:00
"""

import unicodedata
from collections.abc import Sequence

from alembic import op

revision: str = "0002_fts"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# --- SQLite ------------------------------------------------------------------------------------

SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE statements_fts USING fts5("
    "text, original_text, speaker, tokenize='unicode61 remove_diacritics 2')"
)


def _speaker_doc(speaker_id: str) -> str:
    """SQL: a speaker's name followed by all its aliases, space-separated."""
    return (
        f"(SELECT sp.name || COALESCE(' ' || (SELECT group_concat(a.alias, ' ') "
        f"FROM speaker_aliases a WHERE a.speaker_id = sp.id), '') "
        f"FROM speakers sp WHERE sp.id = {speaker_id})"
    )


def _refresh_speaker(speaker_id: str) -> str:
    return (
        f"UPDATE statements_fts SET speaker = {_speaker_doc(speaker_id)} "
        f"WHERE rowid IN (SELECT id FROM statements WHERE speaker_id = {speaker_id});"
    )


_INSERT_NEW = (
    "INSERT INTO statements_fts (rowid, text, original_text, speaker) "
    f"VALUES (new.id, new.text, new.original_text, {_speaker_doc('new.speaker_id')});"
)

SQLITE_TRIGGERS = {
    "statements_fts_ai": f"AFTER INSERT ON statements BEGIN {_INSERT_NEW} END",
    "statements_fts_ad": (
        "AFTER DELETE ON statements BEGIN DELETE FROM statements_fts WHERE rowid = old.id; END"
    ),
    "statements_fts_au": (
        "AFTER UPDATE OF id, text, original_text, speaker_id ON statements BEGIN "
        f"DELETE FROM statements_fts WHERE rowid = old.id; {_INSERT_NEW} END"
    ),
    "speakers_fts_au": (f"AFTER UPDATE OF name ON speakers BEGIN {_refresh_speaker('new.id')} END"),
    "speaker_aliases_fts_ai": (
        f"AFTER INSERT ON speaker_aliases BEGIN {_refresh_speaker('new.speaker_id')} END"
    ),
    "speaker_aliases_fts_ad": (
        f"AFTER DELETE ON speaker_aliases BEGIN {_refresh_speaker('old.speaker_id')} END"
    ),
    "speaker_aliases_fts_au": (
        "AFTER UPDATE OF alias, speaker_id ON speaker_aliases BEGIN "
        f"{_refresh_speaker('old.speaker_id')} {_refresh_speaker('new.speaker_id')} END"
    ),
}

SQLITE_FILL = (
    "INSERT INTO statements_fts (rowid, text, original_text, speaker) "
    f"SELECT s.id, s.text, s.original_text, {_speaker_doc('s.speaker_id')} FROM statements s"
)

# --- PostgreSQL --------------------------------------------------------------------------------

PG_FOLD_UNACCENT = """
CREATE FUNCTION factdb_search_fold(value text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT btrim(regexp_replace(lower(unaccent(COALESCE(value, ''))), '[^[:alnum:]]+', ' ', 'g'))
$$"""

# without the extension: the accented Latin letters of the languages a desk meets most
_ACCENTED = (
    "àáâãäåāăąçćĉċčďđèéêëēĕėęěĝğġģĥħìíîïĩīĭįıĵķĺļľŀłñńņňòóôõöōŏőøŕŗřśŝşšţťŧùúûüũūŭůűųŵýÿŷźżž"
)
_SPECIAL = {"đ": "d", "ħ": "h", "ı": "i", "ł": "l", "ø": "o", "ŧ": "t"}
_PLAIN = "".join(_SPECIAL.get(c) or unicodedata.normalize("NFKD", c)[0] for c in _ACCENTED)
PG_FOLD_TRANSLATE = f"""
CREATE FUNCTION factdb_search_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT btrim(regexp_replace(translate(lower(COALESCE(value, '')), '{_ACCENTED}',
    '{_PLAIN}'), '[^[:alnum:]]+', ' ', 'g'))
$$"""

# "\\:" keeps SQLAlchemy's text() from reading ":1" as a bind parameter
PG_DOCUMENT = """
CREATE FUNCTION factdb_search_document(statement_id integer) RETURNS tsvector
LANGUAGE sql STABLE AS $$
  SELECT to_tsvector('simple', factdb_search_fold(s.text))
      || $q$'|'\\:1$q$::tsvector
      || to_tsvector('simple', factdb_search_fold(s.original_text))
      || $q$'|'\\:1$q$::tsvector
      || to_tsvector('simple', factdb_search_fold(
           sp.name || ' ' || COALESCE((SELECT string_agg(a.alias, ' ')
                                       FROM speaker_aliases a WHERE a.speaker_id = sp.id), '')))
  FROM statements s JOIN speakers sp ON sp.id = s.speaker_id
  WHERE s.id = statement_id
$$"""

PG_FUNCTIONS = {
    "statements_fts_statement": """
CREATE FUNCTION statements_fts_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.id <> NEW.id THEN
    DELETE FROM statements_fts WHERE statement_id = OLD.id;
  END IF;
  INSERT INTO statements_fts (statement_id, document)
  VALUES (NEW.id, factdb_search_document(NEW.id))
  ON CONFLICT (statement_id) DO UPDATE SET document = EXCLUDED.document;
  RETURN NULL;
END $$""",
    "statements_fts_speaker": """
CREATE FUNCTION statements_fts_speaker() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE statements_fts f SET document = factdb_search_document(f.statement_id)
  FROM statements s WHERE s.id = f.statement_id AND s.speaker_id = NEW.id;
  RETURN NULL;
END $$""",
    "statements_fts_alias": """
CREATE FUNCTION statements_fts_alias() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE statements_fts f SET document = factdb_search_document(f.statement_id)
    FROM statements s WHERE s.id = f.statement_id AND s.speaker_id = OLD.speaker_id;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    UPDATE statements_fts f SET document = factdb_search_document(f.statement_id)
    FROM statements s WHERE s.id = f.statement_id AND s.speaker_id = NEW.speaker_id;
  END IF;
  RETURN NULL;
END $$""",
}

PG_TRIGGERS = {
    "statements_fts_statement": (
        "AFTER INSERT OR UPDATE OF id, text, original_text, speaker_id ON statements "
        "FOR EACH ROW EXECUTE FUNCTION statements_fts_statement()"
    ),
    "statements_fts_speaker": (
        "AFTER UPDATE OF name ON speakers FOR EACH ROW EXECUTE FUNCTION statements_fts_speaker()"
    ),
    "statements_fts_alias": (
        "AFTER INSERT OR UPDATE OR DELETE ON speaker_aliases "
        "FOR EACH ROW EXECUTE FUNCTION statements_fts_alias()"
    ),
}


def _pg_has_unaccent() -> bool:
    """Install ``unaccent`` if the server offers it and we may; False when it cannot be had."""
    bind = op.get_bind()
    available = bind.exec_driver_sql(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'"
    ).first()
    if available is None:
        return False
    try:
        with bind.begin_nested():  # a refusal must not abort the migration's transaction
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
    except Exception:  # no privilege: fold accents without it
        return False
    return True


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(SQLITE_TABLE)
        op.execute(SQLITE_FILL)
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        return
    op.execute(PG_FOLD_UNACCENT if _pg_has_unaccent() else PG_FOLD_TRANSLATE)
    op.execute(PG_DOCUMENT)
    op.execute(
        "CREATE TABLE statements_fts ("
        "statement_id INTEGER NOT NULL PRIMARY KEY "
        "REFERENCES statements (id) ON DELETE CASCADE, document tsvector NOT NULL)"
    )
    op.execute("CREATE INDEX statements_fts_document ON statements_fts USING gin (document)")
    op.execute(
        "INSERT INTO statements_fts (statement_id, document) "
        "SELECT id, factdb_search_document(id) FROM statements"
    )
    for name, body in PG_FUNCTIONS.items():
        op.execute(body)
        op.execute(f"CREATE TRIGGER {name} {PG_TRIGGERS[name]}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS statements_fts")
        return
    op.execute("DROP TRIGGER IF EXISTS statements_fts_statement ON statements")
    op.execute("DROP TRIGGER IF EXISTS statements_fts_speaker ON speakers")
    op.execute("DROP TRIGGER IF EXISTS statements_fts_alias ON speaker_aliases")
    for name in PG_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.execute("DROP TABLE IF EXISTS statements_fts")
    op.execute("DROP FUNCTION IF EXISTS factdb_search_document(integer)")
    op.execute("DROP FUNCTION IF EXISTS factdb_search_fold(text)")
    # the unaccent extension stays: other things in the database may use it
