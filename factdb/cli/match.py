"""``factdb claim match``: recorded claims that probably make the same claim as a query;
``factdb match index``: build the semantic layer's vectors for an existing database."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from factdb.cli.common import AppContext, check_style, output_options, pass_app
from factdb.errors import FactdbError

MATCH_COLUMNS = ["id", "score", "said_on", "speaker", "status", "verdicts", "text"]
LAYERS = ["auto", "lexical", "semantic"]


def read_queries(path: str) -> list[tuple[str, str]]:
    """(label, query) pairs from a file: one query per line, or JSON Lines with a "text" key.

    Blank lines are skipped; a malformed JSON line or one without a text is an error naming
    the line.
    """
    import json

    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise FactdbError(f"cannot read {path}: {exc}") from None
    queries = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        label, query = str(number), line
        if line.lstrip().startswith("{"):
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise FactdbError(f"{path} line {number}: not valid JSON ({exc})") from None
            query = record.get("text") if isinstance(record, dict) else None
            if not isinstance(query, str) or not query.strip():
                raise FactdbError(f'{path} line {number}: a JSON line needs a non-empty "text"')
            label = str(record.get("id", number))
        queries.append((label, query))
    if not queries:
        raise FactdbError(f"{path} has no queries")
    return queries


def stored_vectors_in(path: Path, model: str) -> bool:
    """Whether the SQLite file at ``path`` holds claim vectors of ``model``, read with the
    standard library's sqlite3, read-only (False when it cannot tell: no such file, no such
    table, a file that is not a database; the command then says what is wrong)."""
    import sqlite3

    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except (sqlite3.Error, ValueError):
        return False
    try:
        query = "SELECT 1 FROM claim_vectors WHERE model = ? LIMIT 1"
        return connection.execute(query, (model,)).fetchone() is not None
    except sqlite3.Error:
        return False
    finally:
        connection.close()


def start_models_early(app: AppContext, layer: str) -> None:
    """Start loading the embedding models now, before the database layer is imported, when
    the command will use them: the semantic layer wanted, the extra installed, and a SQLite
    database holding this version's vectors.

    The imports (SQLAlchemy, ~0.3 s) and the vectors' read then happen while the models load
    (on 100,000 claims, a match took ~0.3 s less). Where that cannot be told this cheaply (a
    server database), the load starts when the vectors are read (``semantic.ranker``): a load
    started for a database without vectors would hold the command's exit until it ended.
    """
    if layer == "lexical":
        return
    from factdb.match import embedding

    path = app.path
    if path is None or not embedding.available() or not stored_vectors_in(path, embedding.MODEL):
        return
    if "numpy" not in sys.modules:
        # a query's matrix products are small: OpenBLAS's second thread would then spin for
        # a while after each, on the core e5's OpenMP threads need (e5's query took 0.11 s
        # instead of 0.015 s); numpy reads this when it loads
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # a command that fails before its first query loads no further model
    click.get_current_context().call_on_close(embedding.start_loading().cancel)


def choose_layer(session: Any, layer: str) -> Any:
    """The semantic ranker, or None for the lexical layer alone (saying why once on stderr)."""
    from factdb.match import embedding, semantic

    if layer == "lexical":
        return None
    if not embedding.available():
        if layer == "semantic":
            raise embedding.SemanticUnavailable(embedding.NEEDS_EXTRA)
        click.echo(
            "note: lexical matching only (install the 'match' extra for the semantic layer)",
            err=True,
        )
        return None
    try:
        return semantic.ranker(session)
    except semantic.NoVectors as exc:
        if layer == "semantic":
            raise
        click.echo(f"note: lexical matching only: {exc}", err=True)
        return None


@click.command(name="match")
@click.argument("query", metavar="[TEXT]", required=False)
@click.option("--claim", "claim_id", type=int, metavar="ID", help="Match a recorded claim's text.")
@click.option(
    "--file",
    "file",
    type=click.Path(dir_okay=False),
    help="One query per line (or JSON Lines with a \"text\" key); '-' reads stdin.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="At most this many matches per query.",
)
@click.option(
    "--min-score",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Only matches scoring at least this.",
)
@click.option(
    "--layer",
    type=click.Choice(LAYERS),
    default="auto",
    show_default=True,
    help="auto: semantic when the extra is installed and vectors exist, else lexical.",
)
@output_options
@pass_app
def match(
    app: AppContext,
    query: str | None,
    claim_id: int | None,
    file: str | None,
    limit: int,
    min_score: float,
    layer: str,
    fmt: str,
    style: str,
) -> None:
    """Find recorded claims that probably make the same claim as TEXT, best first.

    TEXT is free text in any language (a sentence, a tweet, a paragraph); URLs, hashtags,
    quotes and search operators in it are just text. Each match shows its score (0 to 1),
    speaker, date, current status and verdicts: "checked on 2021-10-20, rated False".
    """
    check_style(style)
    given = sum(x is not None for x in (query, claim_id, file))
    if given != 1:
        raise click.UsageError("give exactly one of TEXT, --claim ID or --file FILE")
    from factdb.match.clean import match_terms

    queries = read_queries("/dev/stdin" if file == "-" else file) if file else None
    if query is not None and not query.strip():
        raise FactdbError("the query is empty")
    if query is not None and not match_terms(query):
        # refused before choosing a layer, so that its note does not precede the error
        raise FactdbError("the query has no words to match on")
    start_models_early(app, layer)
    from factdb.cli.claim import _short
    from factdb.match.service import EmptyQuery, match_claims
    from factdb.output import render

    with app.session(write=False) as session:
        if claim_id is not None:
            from factdb.match.service import describe

            found = describe(session, [claim_id])
            if not found:
                raise FactdbError(f"no claim {claim_id}")
            queries = [(str(claim_id), found[claim_id]["text"])]
        ranker = choose_layer(session, layer)
        rows = []
        for label, text in queries or [("", query or "")]:
            try:
                matches = match_claims(
                    session,
                    text,
                    limit=limit,
                    min_score=min_score,
                    exclude=claim_id,
                    semantic=ranker,
                )
            except EmptyQuery:
                if file is None:
                    raise
                raise EmptyQuery(f"query {label} has no words to match on") from None
            for m in matches:
                row = dict(m.row)
                row["score"] = round(m.score, 3)
                row["lexical"] = None if m.lexical is None else round(m.lexical, 3)
                row["semantic"] = None if m.semantic is None else round(m.semantic, 3)
                row["query"] = label
                if fmt == "table":
                    row["verdicts"] = "; ".join(row["verdicts"])
                    row["text"] = _short(row["text"])
                rows.append(row)
    columns = (["query"] if file else []) + MATCH_COLUMNS
    if fmt != "table":
        columns = columns + ["lexical", "semantic"]
    if not rows and fmt == "table":
        click.echo("no matching claims", err=True)
        return
    render(rows, columns, fmt, style)


@click.group(name="match")
def match_group() -> None:
    """The semantic matching layer: build and inspect claim vectors."""


@match_group.command()
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Claims embedded and committed together.",
)
@pass_app
def index(app: AppContext, batch: int) -> None:
    """Embed every claim that has no vector yet (interrupt at will; run again to resume)."""
    from factdb.match import embedding, semantic

    embedding.encoders()  # the extra's absence is one clear line, before any work
    done = 0
    with app.session(write=False) as session:
        todo = semantic.missing(session)
    if todo == 0:
        click.echo("every claim has a vector", err=True)
        return
    with click.progressbar(length=todo, label="embedding claims", file=sys.stderr) as bar:
        while True:
            # one transaction per batch: an interrupted build keeps what it finished
            with app.session() as session:
                claims = next(semantic.missing_batches(session, batch), [])
                if not claims:
                    break
                done += semantic.store(session, claims)
            bar.update(len(claims))
    click.echo(f"embedded {done} claims", err=True)
