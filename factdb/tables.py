"""Lightweight Core descriptions of the columns the claim listings read.

``factdb.models`` builds ~13 declarative classes when imported and configures their mappers on
first use; together with compiling ORM statements that is most of the run time of ``claim
list --limit 20`` or ``claim search WORD`` on a big database (the query itself is a few ms).
The listing and search services (``services.query``, ``services.search``) build their SELECTs
from these ``sqlalchemy.table()`` clauses instead, so those commands never import the models.

Only the columns the listings use are described, with the types whose result/bind processing
matters (dates). ``tests/test_tables.py`` checks every column here against ``models.py``, so
the two cannot drift apart.
"""

from __future__ import annotations

from sqlalchemy import Date, DateTime, Integer, LargeBinary, String, Text, column, table

# = models.VERDICT_CLASSES (and the CHECK constraint of migration 0001); a test keeps them equal
VERDICT_CLASSES = ("true", "false", "mixture", "other")

statements = table(
    "statements",
    column("id", Integer),
    column("text", Text),
    column("quote_kind", String),
    column("language", String),
    column("original_text", Text),
    column("original_language", String),
    column("said_on", Date),
    column("said_precision", String),
    column("context", Text),
    column("speaker_id", Integer),
    column("current_status", String),
    column("origin", String),
    column("external_id", String),
)

speakers = table(
    "speakers",
    column("id", Integer),
    column("name", String),
    column("name_key", String),
    column("kind", String),
    column("role", String),
    column("acts_for_id", Integer),
)

speaker_aliases = table(
    "speaker_aliases",
    column("id", Integer),
    column("speaker_id", Integer),
    column("alias", String),
    column("alias_key", String),
)

sources = table(
    "sources",
    column("id", Integer),
    column("name", String),
    column("name_key", String),
    column("kind", String),
    column("url", String),
)

source_aliases = table(
    "source_aliases",
    column("id", Integer),
    column("source_id", Integer),
    column("alias", String),
    column("alias_key", String),
)

attributions = table(
    "attributions",
    column("id", Integer),
    column("statement_id", Integer),
    column("source_id", Integer),
    column("position", Integer),
)

tags = table("tags", column("id", Integer), column("name", String))

statement_tags = table("statement_tags", column("statement_id", Integer), column("tag_id", Integer))

statuses = table("statuses", column("code", String), column("label", String))

status_events = table(
    "status_events",
    column("id", Integer),
    column("statement_id", Integer),
    column("status_code", String),
    column("effective_on", Date),
    column("recorded_at", DateTime),
    column("withdrawn_at", DateTime),
)

verdicts = table(
    "verdicts",
    column("id", Integer),
    column("statement_id", Integer),
    column("label", Text),
    column("reviewer", String),
    column("reviewed_on", Date),
    column("url", String),
    column("scale_rating_id", Integer),
    column("normalised_class", String),
)

scale_ratings = table(
    "scale_ratings",
    column("id", Integer),
    column("scale_id", Integer),
    column("label_key", String),
    column("ordinal", Integer),
)

# the full-text indexes of migration 0002_fts: an FTS5 table on SQLite (rowid = statement id),
# a tsvector table on PostgreSQL
claim_vectors = table(
    "claim_vectors",
    column("statement_id", Integer),
    column("model", String),
    column("vector", LargeBinary),
)

sqlite_fts = table("statements_fts", column("rowid", Integer))
pg_fts = table("statements_fts", column("statement_id", Integer), column("document"))

ALL = (
    statements,
    speakers,
    speaker_aliases,
    sources,
    source_aliases,
    attributions,
    tags,
    statement_tags,
    statuses,
    status_events,
    verdicts,
    scale_ratings,
)
