"""What every command shares: the database handle, output options, filter options.

Nothing here imports SQLAlchemy at module level; it is imported when a command first opens
the database.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click

from factdb.config import resolve_url, sqlite_path
from factdb.errors import FactdbError
from factdb.output import DEFAULT_STYLE, FORMATS

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from factdb.filters import ClaimFilter

F = TypeVar("F", bound=Callable[..., Any])


class AppContext:
    """The database this invocation works on; engines are made lazily and cached."""

    def __init__(self, db: str | None, actor: str | None = None) -> None:
        self.db = db
        self.url = resolve_url(db)
        # who the audit log names for this command's changes (None: $FACTDB_USER or login)
        self.actor = actor.strip() if actor and actor.strip() else None
        self._engines: dict[bool, Engine] = {}

    @property
    def path(self):  # type: ignore[no-untyped-def]
        """The SQLite file, or None for a server database."""
        return sqlite_path(self.url)

    def engine(self, *, write: bool = True, check: bool = True, must_exist: bool = True) -> Engine:
        """An engine for the database, after checking the file and (by default) the schema."""
        if write not in self._engines:
            from factdb.db import check_schema, check_sqlite_file, make_engine

            resume_collection()
            try:
                if self.path is not None:
                    check_sqlite_file(self.path, must_exist=must_exist)
                    if write and check:
                        # check through a read engine first: a write engine's first connect
                        # turns WAL on, which would change the bytes of a file then refused
                        self.engine(write=False, check=True, must_exist=must_exist)
                engine = make_engine(self.url, write=write)
                if check:
                    check_schema(engine)
            except FactdbError as exc:
                raise type(exc)(self.hint(str(exc))) from None
            self._engines[write] = engine
        return self._engines[write]

    def hint(self, message: str) -> str:
        """``message`` with its suggested commands ("create it with 'factdb init'") naming the
        ``--db`` this command was given, so that they can be pasted as they are."""
        if not self.db or "'factdb --db " in message:  # already said (engines nest)
            return message
        import shlex

        return message.replace("'factdb ", f"'factdb --db {shlex.quote(self.db)} ")

    def close(self) -> None:
        """Close the engines' pooled connections (called when the command ends)."""
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()

    @contextmanager
    def session(self, *, write: bool = True, bulk: bool = False) -> Iterator[Session]:
        """One transaction for one command: all or nothing.

        ``bulk``: a big import, whose transaction skips SQLite's foreign-key checks and CHECK
        constraints (see ``factdb.db.for_bulk_load``).
        """
        from factdb.db import for_bulk_load, session_scope

        engine = self.engine(write=write)
        with session_scope(for_bulk_load(engine) if bulk else engine) as session:
            if self.actor:
                session.info["actor"] = self.actor
            yield session


# CPython's default: a full collection after 10 middle-generation ones
FULL_GC_THRESHOLD = 10


def resume_collection() -> None:
    """Restore full garbage collections after start-up, if ``factdb.cli.main`` postponed them.

    The console script starts with full collections postponed: the modules a command imports
    (SQLAlchemy above all) live as long as the process, and one full collection while they
    load would traverse them all (~30 ms, a tenth of ``claim list``). Once loaded they are
    frozen (kept out of every later collection) and the default threshold returns, so the
    command's own garbage is collected as usual. In-process callers (tests) never postpone
    them: then this is a no-op.
    """
    young, middle, full = gc.get_threshold()
    if full > FULL_GC_THRESHOLD:
        gc.freeze()
        gc.set_threshold(young, middle, FULL_GC_THRESHOLD)


pass_app = click.make_pass_decorator(AppContext)


def output_options(fn: F) -> F:
    """``--format`` and ``--fmt`` for every listing."""
    fn = click.option(
        "--fmt",
        "style",
        default=DEFAULT_STYLE,
        show_default=True,
        metavar="STYLE",
        help="Table style: any tabulate format (github, grid, plain, …).",
    )(fn)
    fn = click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format.",
    )(fn)
    return fn


def check_style(style: str) -> None:
    """Refuse an unknown tabulate style as a usage error."""
    from tabulate import tabulate_formats

    if style not in tabulate_formats:
        raise click.BadParameter(
            f"unknown table style {style!r} (try: {', '.join(sorted(tabulate_formats)[:8])}, …)",
            param_hint="--fmt",
        )


class DateParam(click.ParamType):
    """A YYYY, YYYY-MM or YYYY-MM-DD date on the command line (a usage error when malformed)."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or not isinstance(value, str):
            return value
        from factdb.dates import parse_partial

        try:
            parse_partial(value)
        except FactdbError as exc:
            self.fail(str(exc), param, ctx)
        return value


DATE = DateParam()


def filter_options(fn: F) -> F:
    """The filters shared by ``claim list``, ``export`` and ``report``."""
    options = [
        click.option("--limit", type=click.IntRange(min=0), help="At most this many claims."),
        click.option("--search", metavar="TEXT", help="Full-text search expression."),
        click.option(
            "--as-of", "as_of", type=DATE, help="Judge statuses as they stood on this date."
        ),
        click.option("--until", type=DATE, help="Said on or before this date."),
        click.option("--since", type=DATE, help="Said on or after this date."),
        click.option("--tag", metavar="TAG", help="Claims with this tag."),
        click.option("--source", metavar="NAME|URL", help="Claims attributed to this source."),
        click.option(
            "--verdict", metavar="LABEL|CLASS", help="Latest verdict label or class (true, …)."
        ),
        click.option("--status", metavar="CODE", help="Current (or --as-of) status."),
        click.option(
            "--speaker",
            metavar="NAME",
            shell_complete=complete_speaker,
            help="Claims by this speaker (name or alias).",
        ),
    ]
    for option in options:
        fn = option(fn)
    return fn


def make_filter(**kwargs: Any) -> ClaimFilter:
    """Build a ClaimFilter from the filter options' values."""
    # imported here: dataclasses and datetime are not needed for --help
    from factdb.dates import parse_day
    from factdb.filters import ClaimFilter

    dates = {
        k: parse_day(kwargs[k]) if kwargs.get(k) else None for k in ("since", "until", "as_of")
    }
    if dates["since"] and dates["until"] and dates["since"] > dates["until"]:
        raise click.UsageError(
            f"--since {kwargs['since']} is after --until {kwargs['until']}: no claim can match"
        )
    if kwargs.get("sort") and kwargs.get("search"):
        raise click.UsageError("--sort does not apply to --search: search results are ranked")
    return ClaimFilter(
        sort=kwargs.get("sort"),
        speaker=kwargs.get("speaker"),
        status=kwargs.get("status"),
        verdict=kwargs.get("verdict"),
        source=kwargs.get("source"),
        tag=kwargs.get("tag"),
        search=kwargs.get("search"),
        limit=kwargs.get("limit"),
        **dates,
    )


def complete_speaker(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of existing speaker names (quietly nothing if the database is absent)."""
    try:
        root = ctx.find_root()
        app = root.obj if isinstance(root.obj, AppContext) else AppContext(root.params.get("db"))
        from factdb.services.speakers import speaker_names

        with app.session(write=False) as session:
            names = speaker_names(session, prefix=incomplete)
    except Exception:  # completion must never break the user's shell
        return []
    from click.shell_completion import CompletionItem

    return [CompletionItem(name) for name in names]
