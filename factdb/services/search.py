"""Full-text search over claims: the expression language, ranking, highlighting, bulk loads.

The index (migration ``0002_fts``) covers a claim's text, its original-language text and its
speaker's name and aliases, folded case- and accent-insensitively, in any script.

Search expressions (the same on SQLite and PostgreSQL; a subset of SQLite FTS5's syntax)::

    lavrov                    a word (any case, accents ignored: "sergei" finds "Sergéi")
    "baseless accusation"     a phrase: these words next to each other, in this order
    intell*                   a prefix: intelligence, intelligent, …
    nato AND russia           both (AND may be left out: "nato russia")
    nato OR alliance          either
    nato NOT russia           the first without the second
    (nato OR alliance) AND expel*

AND, OR and NOT are operators only in capitals; NOT binds tighter than AND, AND tighter than OR.
Results are ranked by relevance: bm25 on SQLite, ts_rank on PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, literal, literal_column, select, text
from sqlalchemy.orm import Session

from factdb import tables
from factdb.errors import FactdbError
from factdb.text import fold


class SearchSyntaxError(FactdbError):
    """The search expression cannot be understood (one line, says where and why)."""


# --- the expression language ---------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A word or a quoted phrase (several words in a row); ``prefix`` marks a trailing ``*``."""

    text: str
    prefix: bool = False


@dataclass(frozen=True)
class And:
    """All of ``parts``."""

    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Or:
    """Any of ``parts``."""

    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Not:
    """``keep`` without ``drop`` (FTS5's binary NOT)."""

    keep: Any
    drop: Any


Node = Term | And | Or | Not
_OPERATORS = {"AND", "OR", "NOT"}


def _tokens(expression: str) -> list[tuple[str, Any]]:
    """Lex ``expression`` into ("(" | ")" | "op" | "term", value) pairs."""
    out: list[tuple[str, Any]] = []
    i, n = 0, len(expression)
    while i < n:
        c = expression[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append((c, c))
            i += 1
        elif c == '"':
            j, chars = i + 1, []
            while True:
                if j >= n:
                    raise SearchSyntaxError(
                        f"search expression: unterminated phrase starting at {expression[i:]!r}"
                    )
                if expression[j] == '"':
                    if expression[j + 1 : j + 2] == '"':  # "" is a literal quote
                        chars.append('"')
                        j += 2
                        continue
                    break
                chars.append(expression[j])
                j += 1
            j += 1
            prefix = expression[j : j + 1] == "*"
            out.append(("term", Term("".join(chars), prefix)))
            i = j + (1 if prefix else 0)
        else:
            j = i
            while j < n and not expression[j].isspace() and expression[j] not in '()"':
                j += 1
            word = expression[i:j]
            if word in _OPERATORS:
                out.append(("op", word))
            else:
                stripped = word.rstrip("*")
                out.append(("term", Term(stripped, prefix=stripped != word)))
            i = j
    return out


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.pos = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def fail(self, message: str) -> SearchSyntaxError:
        return SearchSyntaxError(f"search expression {self.expression!r}: {message}")

    def parse(self) -> Node:
        if not self.tokens:
            raise SearchSyntaxError("empty search expression")
        node = self.or_()
        if self.peek() is not None:
            kind, value = self.peek()  # type: ignore[misc]
            raise self.fail(f"unexpected {value!r}" if kind != "term" else "unexpected term")
        return node

    def or_(self) -> Node:
        parts = [self.and_()]
        while self.peek() == ("op", "OR"):
            self.pos += 1
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_(self) -> Node:
        parts = [self.not_()]
        while True:
            token = self.peek()
            if token == ("op", "AND"):
                self.pos += 1
                parts.append(self.not_())
            elif token is not None and token[0] in ("term", "("):  # implicit AND
                parts.append(self.not_())
            else:
                break
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_(self) -> Node:
        node = self.primary()
        while self.peek() == ("op", "NOT"):
            self.pos += 1
            node = Not(node, self.primary())
        return node

    def primary(self) -> Node:
        token = self.peek()
        if token is None:
            raise self.fail("a term is missing at the end")
        kind, value = token
        self.pos += 1
        if kind == "(":
            node = self.or_()
            if self.peek() != (")", ")"):
                raise self.fail("missing ')'")
            self.pos += 1
            return node
        if kind == "term":
            if not any(ch.isalnum() for ch in value.text):
                shown = value.text + ("*" if value.prefix else "")
                raise self.fail(f"{shown!r} has no letters or digits to search for")
            return value
        if kind == "op":
            raise self.fail(
                f"{value} needs a term before it"
                if value != "NOT"
                else "NOT needs a term before it (write: nato NOT russia)"
            )
        raise self.fail(f"unexpected {value!r}")


def parse_search(expression: str) -> Node:
    """Parse a search expression; SearchSyntaxError (a FactdbError) when it is malformed."""
    return _Parser(expression or "").parse()


def fts5_query(node: Node) -> str:
    """The node as an FTS5 MATCH expression, every term quoted (no FTS5 syntax leaks through)."""
    if isinstance(node, Term):
        quoted = '"' + node.text.replace('"', '""') + '"'
        return quoted + (" *" if node.prefix else "")
    if isinstance(node, And):
        return "(" + " AND ".join(fts5_query(p) for p in node.parts) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(fts5_query(p) for p in node.parts) + ")"
    return f"({fts5_query(node.keep)} NOT {fts5_query(node.drop)})"


def terms_of(node: Node, *, positive_only: bool = False) -> list[Term]:
    """Every term in the expression (only those that must match when ``positive_only``)."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, And | Or):
        return [t for p in node.parts for t in terms_of(p, positive_only=positive_only)]
    keep = terms_of(node.keep, positive_only=positive_only)
    return keep if positive_only else keep + terms_of(node.drop)


def tsquery(node: Node, folded: dict[str, str]) -> str:
    """The node as PostgreSQL tsquery text; ``folded`` maps each term's text to its folded words."""
    if isinstance(node, Term):
        words = folded[node.text].split()
        if not words:
            raise SearchSyntaxError(f"search term {node.text!r} has no letters or digits")
        lexemes = [f"'{w}'" for w in words]
        if node.prefix:
            lexemes[-1] += ":*"
        return "(" + " <-> ".join(lexemes) + ")"
    if isinstance(node, And):
        return "(" + " & ".join(tsquery(p, folded) for p in node.parts) + ")"
    if isinstance(node, Or):
        return "(" + " | ".join(tsquery(p, folded) for p in node.parts) + ")"
    return f"({tsquery(node.keep, folded)} & !{tsquery(node.drop, folded)})"


# --- applying a search to a claim selection ------------------------------------------------------

# The ranking window (docs/search.md). A plain search (no other filter) whose expression matches
# at most this many claims is ranked exactly: every hit is scored (bm25 / ts_rank) and the best
# come first. Beyond it, only the RANK_WINDOW newest matches (highest ids, read cheaply from the
# index in id order) are scored and ranked; older matches follow them, newest first. Scoring is
# the dominant cost of a search (bm25 reads each hit's column sizes): scoring all 894,000 hits of
# a word in most claims takes seconds, scoring 10,000 a few ms.
RANK_WINDOW = 10_000


def _search_parts(session: Session, node: Node) -> tuple[Any, Any, Any, list[Any]]:
    """(index table, its statement-id column, the MATCH condition, best-first ORDER BY terms)."""
    if session.get_bind().dialect.name == "sqlite":
        fts = tables.sqlite_fts
        match = literal_column("statements_fts").op("MATCH")(fts5_query(node))
        # bm25() in ORDER BY is cheaper than FTS5's "rank" column, which sorts inside FTS5;
        # lower bm25 is better
        return fts, fts.c.rowid, match, [func.bm25(literal_column("statements_fts"))]
    fts = tables.pg_fts
    query = func.to_tsquery(literal_column("'simple'::regconfig"), pg_tsquery(session, node))
    match = fts.c.document.op("@@")(query)
    return fts, fts.c.statement_id, match, [-func.ts_rank(fts.c.document, query)]


def apply_search(
    session: Session, stmt: Select[Any], expression: str, *, limit: int | None = None
) -> Select[Any]:
    """Narrow ``stmt`` (a SELECT of statement ids) to claims matching ``expression``.

    Returns a SELECT of the same ids ordered by relevance (bm25 on SQLite, ts_rank on
    PostgreSQL), ties by id; add no ORDER BY on statements columns after it, and apply LIMIT
    after it (``limit`` tells this function what LIMIT the caller will apply).

    When ``stmt`` has no WHERE clause the result reads the full-text index alone: every index
    row is a statement (the triggers keep them exact), so the join would only cost a lookup per
    match. That plain search ranks exactly up to RANK_WINDOW hits and within the RANK_WINDOW
    newest hits beyond (see RANK_WINDOW). With other filters (``stmt`` has a WHERE clause) the
    ranking is always exact over the filtered hits.
    """
    node = parse_search(expression)
    fts, key, match, relevance = _search_parts(session, node)
    st = tables.statements
    if stmt.whereclause is not None:
        return stmt.join(fts, key == st.c.id).where(match).order_by(*relevance, st.c.id)
    # the smallest id among the RANK_WINDOW newest matches: the index yields matches in id order,
    # so this reads at most RANK_WINDOW entries and scores none. With fewer matches it is the
    # smallest matching id, and "key >= bound" keeps every hit: the ranking is then exact.
    newest = select(key.label("k")).where(match).order_by(key.desc()).limit(RANK_WINDOW).subquery()
    bound = select(func.min(newest.c.k)).scalar_subquery()
    ids = select(key.label("id")).where(match)
    if limit is not None and limit <= RANK_WINDOW:
        # the best `limit` are all inside the window: only the window is read and scored
        return ids.where(key >= bound).order_by(*relevance, key)
    # every hit is wanted: the window ranked first, then the older hits newest first (CASE is
    # evaluated lazily, so hits outside the window are never scored)
    in_window = key >= bound
    return ids.order_by(
        case((in_window, 0), else_=1),
        *[case((in_window, r)) for r in relevance],
        case((in_window, key), else_=-key),
    )


def pg_tsquery(session: Session, node: Node) -> str:
    """tsquery text for ``node``, its terms folded by the server's own ``factdb_search_fold``."""
    texts = sorted({t.text for t in terms_of(node)})
    row = session.execute(select(*[func.factdb_search_fold(literal(t)) for t in texts])).one()
    return tsquery(node, dict(zip(texts, row, strict=True)))


# --- highlighting (table output) -----------------------------------------------------------------

_WORD = re.compile(r"\w+")


def _matchers(expression: str) -> tuple[set[str], tuple[str, ...]]:
    """(whole words, prefixes) that count as matches for highlighting."""
    words: set[str] = set()
    prefixes: list[str] = []
    for term in terms_of(parse_search(expression), positive_only=True):
        parts = [fold(w) for w in _WORD.findall(term.text.replace("_", " "))]
        if term.prefix and parts:
            prefixes.append(parts.pop())
        words.update(parts)
    return words, tuple(prefixes)


def highlight(
    value: str | None,
    expression: str,
    *,
    start: str = "[",
    end: str = "]",
    width: int | None = None,
) -> str:
    """``value`` with the words matching ``expression`` wrapped in ``start``/``end``.

    With ``width``, the text is flattened to one line and cut to about ``width`` visible
    characters around the first match (``…`` marks a cut).
    """
    if not value:
        return value or ""
    words, prefixes = _matchers(expression)
    flat = " ".join(value.split()) if width else value

    def is_match(word: str) -> bool:
        folded = fold(word)
        return folded in words or (bool(prefixes) and folded.startswith(prefixes))

    hits = [m for m in _WORD.finditer(flat.replace("_", " ")) if is_match(m.group())]
    lo, hi = 0, len(flat)
    if width and len(flat) > width:
        first = hits[0].start() if hits else 0
        lo = max(0, min(first - width // 4, len(flat) - width))
        hi = min(len(flat), lo + width)
        # cut between words where one is near, never inside the first match
        if lo > 0 and (space := flat.find(" ", lo, min(first, lo + 15))) >= 0:
            lo = space + 1
        if hi < len(flat) and (space := flat.rfind(" ", max(lo, hi - 15), hi)) > first:
            hi = space
    out, pos = [], lo
    for m in hits:
        if m.start() < lo or m.end() > hi:
            continue
        out.append(flat[pos : m.start()] + start + flat[m.start() : m.end()] + end)
        pos = m.end()
    out.append(flat[pos:hi])
    return ("…" if lo > 0 else "") + "".join(out) + ("…" if hi < len(flat) else "")


# --- bulk loading --------------------------------------------------------------------------------

# the triggers of migration 0004_fts_external_content
SQLITE_TRIGGERS = (
    "statements_fts_ai",
    "statements_fts_ad",
    "statements_fts_au",
    "speakers_fts_au",
    "speaker_aliases_fts_ai",
    "speaker_aliases_fts_ad",
    "speaker_aliases_fts_au",
    "speaker_aliases_fts_au_target",
)
_PG_TRIGGERS = (
    ("statements", "statements_fts_statement"),
    ("speakers", "statements_fts_speaker"),
    ("speaker_aliases", "statements_fts_alias"),
)


def suspend_search_index(session: Session) -> list[str]:
    """Stop keeping the index in step (for a bulk load); returns what resume needs.

    SQLite: the index triggers are dropped and their DDL returned; PostgreSQL: they are disabled.
    Runs in the caller's transaction, so a failed load rolls the suspension back too. Always
    follow with :func:`resume_search_index` in the same transaction.
    """
    if session.get_bind().dialect.name == "sqlite":
        names = ", ".join(f"'{n}'" for n in SQLITE_TRIGGERS)
        rows = session.execute(
            text(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({names})"
            )
        ).all()
        for name, _sql in rows:
            session.execute(text(f'DROP TRIGGER "{name}"'))
        return [sql for _name, sql in rows]
    for table_name, trigger in _PG_TRIGGERS:
        session.execute(text(f"ALTER TABLE {table_name} DISABLE TRIGGER {trigger}"))
    return [trigger for _t, trigger in _PG_TRIGGERS]


def resume_search_index(
    session: Session, suspended: list[str], *, since_id: int | None = None
) -> None:
    """Put the triggers back and index what was loaded meanwhile.

    ``since_id``: only statements with a larger id are indexed (a load that only added new
    statements, with speakers and aliases it created itself); None rebuilds the whole index
    (needed when the load also renamed speakers or gave aliases to existing ones).
    """
    if session.get_bind().dialect.name == "sqlite":
        for ddl in suspended:
            session.execute(text(ddl))
    else:
        for table_name, trigger in _PG_TRIGGERS:
            if trigger in suspended:
                session.execute(text(f"ALTER TABLE {table_name} ENABLE TRIGGER {trigger}"))
    index_statements(session, since_id)


def index_statements(session: Session, since_id: int | None = None) -> None:
    """Index statements with id > ``since_id``, which must not be in the index yet (those a
    suspended index missed), or rebuild the whole index when None."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if since_id is None:
        # SQLite's index reads the text from the statements (external content): it is emptied
        # with 'delete-all', since a plain DELETE would look up every row's current values
        session.execute(
            text("INSERT INTO statements_fts (statements_fts) VALUES ('delete-all')")
            if sqlite
            else text("DELETE FROM statements_fts")
        )
        since_id = 0
    elif not sqlite:
        session.execute(
            text("DELETE FROM statements_fts WHERE statement_id > :since"), {"since": since_id}
        )
    if sqlite:
        index_statement_range(session, since_id, None)
    else:
        session.execute(
            text(
                "INSERT INTO statements_fts (statement_id, document) "
                "SELECT id, factdb_search_document(id) FROM statements WHERE id > :since"
            ),
            {"since": since_id},
        )


# a speaker's search document: its name followed by its aliases in id order, exactly as the
# view statements_fts_source of migration 0004_fts_external_content builds it (a test compares)
SPEAKER_DOCUMENT = (
    "sp.name || COALESCE(' ' || (SELECT group_concat(alias, ' ') FROM "
    "(SELECT id, alias FROM speaker_aliases WHERE speaker_id = sp.id ORDER BY id)), '')"
)
# the speakers' documents for one call of index_statement_range (a connection's temp table)
_RANGE_SPEAKER_DOCUMENTS = "factdb_range_speaker_documents"


def index_statement_range(session: Session, after_id: int, upto_id: int | None) -> None:
    """SQLite: add statements with ``after_id < id <= upto_id`` (no upper bound when None) to
    the index; they must not be in it yet.

    Each speaker's document (name and aliases) is built once for the range, in a temporary
    table, not once per statement: on a million claims by ten thousand speakers that is about
    a sixth of the indexing time.
    """
    bounds = {"after": after_id, "upto": upto_id if upto_id is not None else 2**63 - 1}
    documents = f"temp.{_RANGE_SPEAKER_DOCUMENTS}"
    session.execute(text(f"CREATE TEMP TABLE {documents} (id INTEGER PRIMARY KEY, doc TEXT)"))
    session.execute(
        text(
            f"INSERT INTO {documents} (id, doc) SELECT sp.id, {SPEAKER_DOCUMENT} "
            "FROM speakers sp WHERE sp.id IN "
            "(SELECT speaker_id FROM statements WHERE id > :after AND id <= :upto)"
        ),
        bounds,
    )
    session.execute(
        text(
            "INSERT INTO statements_fts (rowid, text, original_text, speaker) "
            "SELECT s.id, s.text, s.original_text, "
            f"(SELECT d.doc FROM {documents} d WHERE d.id = s.speaker_id) "
            "FROM statements s WHERE s.id > :after AND s.id <= :upto ORDER BY s.id"
        ),
        bounds,
    )
    session.execute(text(f"DROP TABLE {documents}"))


def optimize_search_index(session: Session) -> None:
    """Merge the SQLite index's segments after a big load (faster searches); no-op elsewhere."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("INSERT INTO statements_fts (statements_fts) VALUES ('optimize')"))


def search_ids(session: Session, expression: str, limit: int | None = None) -> list[int]:
    """Ids of the claims matching ``expression``, best first (a convenience for callers)."""
    stmt = apply_search(session, select(tables.statements.c.id), expression, limit=limit)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def matching_ids(session: Session, expression: str) -> set[int]:
    """The set of claim ids matching ``expression`` (unordered; for tests and tools)."""
    return set(search_ids(session, expression))
