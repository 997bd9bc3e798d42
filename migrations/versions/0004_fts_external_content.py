"""search index without its own copy of the text (SQLite): an external-content FTS5 table

SQLite's ``statements_fts`` kept a copy of every claim's text, original text and speaker
document (name and aliases): about two thirds of the text's size again, written on every
import. It now reads them from a view, ``statements_fts_source`` (statements with their
speaker's document), and stores only the index: a million-claim import writes about 160 MB
less and indexes in about two thirds of the time.

An external-content index must be told the exact old values of a row to remove it, so the
triggers hand FTS5 the old row (``'delete'``) before the new one:
- statement inserted, updated (text, original text, speaker) or deleted: its own old values,
  and its speaker's document as it stands (the statement change does not touch it);
- speaker renamed: every statement of the speaker, with the old name and the current aliases;
- alias added, changed or removed: every statement of the speaker(s), with the aliases as
  they were (the current ones without the changed row, with its old value in its place).
A speaker's aliases are listed in id order everywhere, so that "as they were" is exact.

PostgreSQL keeps its side table of tsvectors: nothing changes there.

Revision ID: 0004_fts_external_content
Revises: 0003_short_content_key
Create Date: 2026-11-27 04:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_fts_external_content"
down_revision: str | None = "0003_short_content_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKENIZE = "tokenize='unicode61 remove_diacritics 2'"
COLUMNS = "text, original_text, speaker"


def _aliases(
    speaker_id: str, *, without: str | None = None, plus: tuple[str, str] | None = None
) -> str:
    """SQL: a speaker's aliases, space-separated in id order (NULL when none); ``without`` an
    alias row's id left out, ``plus`` an (id, alias) put in."""
    rows = f"SELECT id, alias FROM speaker_aliases WHERE speaker_id = {speaker_id}"
    if without is not None:
        rows += f" AND id <> {without}"
    if plus is not None:
        rows += f" UNION ALL SELECT {plus[0]}, {plus[1]}"
    return f"(SELECT group_concat(alias, ' ') FROM ({rows} ORDER BY id))"


def _document(speaker_id: str, aliases: str | None = None, name: str = "sp.name") -> str:
    """SQL: a speaker's search document, its name then its aliases."""
    return (
        f"(SELECT {name} || COALESCE(' ' || {aliases or _aliases('sp.id')}, '') "
        f"FROM speakers sp WHERE sp.id = {speaker_id})"
    )


def _insert(row: str, speaker_id: str) -> str:
    return (
        f"INSERT INTO statements_fts (rowid, {COLUMNS}) "
        f"VALUES ({row}.id, {row}.text, {row}.original_text, {_document(speaker_id)});"
    )


def _remove(row: str, speaker_id: str) -> str:
    return (
        f"INSERT INTO statements_fts (statements_fts, rowid, {COLUMNS}) "
        f"VALUES ('delete', {row}.id, {row}.text, {row}.original_text, {_document(speaker_id)});"
    )


def _reindex_speaker(speaker_id: str, old_document: str) -> str:
    """Every statement of a speaker out of the index with ``old_document``, back with the
    current one."""
    return (
        f"INSERT INTO statements_fts (statements_fts, rowid, {COLUMNS}) "
        f"SELECT 'delete', s.id, s.text, s.original_text, {old_document} "
        f"FROM statements s WHERE s.speaker_id = {speaker_id}; "
        f"INSERT INTO statements_fts (rowid, {COLUMNS}) "
        f"SELECT s.id, s.text, s.original_text, {_document(speaker_id)} "
        f"FROM statements s WHERE s.speaker_id = {speaker_id};"
    )


SQLITE_VIEW = (
    "CREATE VIEW statements_fts_source AS SELECT s.id AS id, s.text AS text, "
    f"s.original_text AS original_text, {_document('s.speaker_id')} AS speaker FROM statements s"
)
SQLITE_TABLE = (
    f"CREATE VIRTUAL TABLE statements_fts USING fts5({COLUMNS}, "
    f"content='statements_fts_source', content_rowid='id', {TOKENIZE})"
)
SQLITE_TRIGGERS = {
    "statements_fts_ai": f"AFTER INSERT ON statements BEGIN {_insert('new', 'new.speaker_id')} END",
    "statements_fts_ad": f"AFTER DELETE ON statements BEGIN {_remove('old', 'old.speaker_id')} END",
    "statements_fts_au": (
        "AFTER UPDATE OF id, text, original_text, speaker_id ON statements BEGIN "
        f"{_remove('old', 'old.speaker_id')} {_insert('new', 'new.speaker_id')} END"
    ),
    "speakers_fts_au": (
        "AFTER UPDATE OF name ON speakers WHEN old.name IS NOT new.name BEGIN "
        f"{_reindex_speaker('new.id', _document('new.id', name='old.name'))} END"
    ),
    "speaker_aliases_fts_ai": (
        "AFTER INSERT ON speaker_aliases BEGIN "
        + _reindex_speaker(
            "new.speaker_id",
            _document("new.speaker_id", _aliases("new.speaker_id", without="new.id")),
        )
        + " END"
    ),
    "speaker_aliases_fts_ad": (
        "AFTER DELETE ON speaker_aliases BEGIN "
        + _reindex_speaker(
            "old.speaker_id",
            _document("old.speaker_id", _aliases("old.speaker_id", plus=("old.id", "old.alias"))),
        )
        + " END"
    ),
    # the speaker the alias was taken from (or the one it stays with)
    "speaker_aliases_fts_au": (
        "AFTER UPDATE OF id, alias, speaker_id ON speaker_aliases BEGIN "
        + _reindex_speaker(
            "old.speaker_id",
            _document(
                "old.speaker_id",
                _aliases("old.speaker_id", without="new.id", plus=("old.id", "old.alias")),
            ),
        )
        + " END"
    ),
    # the speaker it was given to
    "speaker_aliases_fts_au_target": (
        "AFTER UPDATE OF speaker_id ON speaker_aliases "
        "WHEN new.speaker_id IS NOT old.speaker_id BEGIN "
        + _reindex_speaker(
            "new.speaker_id",
            _document("new.speaker_id", _aliases("new.speaker_id", without="new.id")),
        )
        + " END"
    ),
}

# --- revision 0002_fts's index, for the downgrade (frozen here) --------------------------------


def _old_document(speaker_id: str) -> str:
    return (
        f"(SELECT sp.name || COALESCE(' ' || (SELECT group_concat(a.alias, ' ') "
        f"FROM speaker_aliases a WHERE a.speaker_id = sp.id), '') "
        f"FROM speakers sp WHERE sp.id = {speaker_id})"
    )


def _old_refresh(speaker_id: str) -> str:
    return (
        f"UPDATE statements_fts SET speaker = {_old_document(speaker_id)} "
        f"WHERE rowid IN (SELECT id FROM statements WHERE speaker_id = {speaker_id});"
    )


_OLD_INSERT = (
    f"INSERT INTO statements_fts (rowid, {COLUMNS}) "
    f"VALUES (new.id, new.text, new.original_text, {_old_document('new.speaker_id')});"
)
OLD_TABLE = f"CREATE VIRTUAL TABLE statements_fts USING fts5({COLUMNS}, {TOKENIZE})"
OLD_TRIGGERS = {
    "statements_fts_ai": f"AFTER INSERT ON statements BEGIN {_OLD_INSERT} END",
    "statements_fts_ad": (
        "AFTER DELETE ON statements BEGIN DELETE FROM statements_fts WHERE rowid = old.id; END"
    ),
    "statements_fts_au": (
        "AFTER UPDATE OF id, text, original_text, speaker_id ON statements BEGIN "
        f"DELETE FROM statements_fts WHERE rowid = old.id; {_OLD_INSERT} END"
    ),
    "speakers_fts_au": f"AFTER UPDATE OF name ON speakers BEGIN {_old_refresh('new.id')} END",
    "speaker_aliases_fts_ai": (
        f"AFTER INSERT ON speaker_aliases BEGIN {_old_refresh('new.speaker_id')} END"
    ),
    "speaker_aliases_fts_ad": (
        f"AFTER DELETE ON speaker_aliases BEGIN {_old_refresh('old.speaker_id')} END"
    ),
    "speaker_aliases_fts_au": (
        "AFTER UPDATE OF alias, speaker_id ON speaker_aliases BEGIN "
        f"{_old_refresh('old.speaker_id')} {_old_refresh('new.speaker_id')} END"
    ),
}
OLD_FILL = (
    f"INSERT INTO statements_fts (rowid, {COLUMNS}) "
    f"SELECT s.id, s.text, s.original_text, {_old_document('s.speaker_id')} FROM statements s"
)


def _drop_sqlite_index() -> None:
    for name in (*SQLITE_TRIGGERS, *OLD_TRIGGERS):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS statements_fts")
    op.execute("DROP VIEW IF EXISTS statements_fts_source")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop_sqlite_index()
    op.execute(SQLITE_VIEW)
    op.execute(SQLITE_TABLE)
    op.execute("INSERT INTO statements_fts (statements_fts) VALUES ('rebuild')")
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop_sqlite_index()
    op.execute(OLD_TABLE)
    op.execute(OLD_FILL)
    for name, body in OLD_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
