"""The root ``factdb`` group: global options, lazy loading of subcommands, error translation.

Subcommand modules are imported only when their command runs (or its help is asked for), and
they import SQLAlchemy only inside command bodies, so ``factdb --help`` and
``factdb claim --help`` stay as fast as click alone.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys

import click

from factdb import __version__
from factdb.errors import FactdbError

# name -> (module, attribute, short help); the short help is here so that the root --help
# need not import every module
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("factdb.cli.setup", "init", "Create or upgrade the database; --seed loads seeds/."),
    "db": ("factdb.cli.dbcmd", "db", "Schema migrations, copies and backups."),
    "story": ("factdb.cli.story", "story", "Story files: new template, load (checked), export."),
    "seed": ("factdb.cli.setup", "seed", "Load story files (alias of 'story load')."),
    "claim": ("factdb.cli.claim", "claim", "Add, list, show, edit and track claims."),
    "speaker": ("factdb.cli.speaker", "speaker", "People and organisations who say things."),
    "source": ("factdb.cli.source", "source", "Where statements appeared or were reported."),
    "status": ("factdb.cli.status", "status", "The allegation-status vocabulary."),
    "import": ("factdb.cli.importcmd", "import_cmd", "Import claims from CSV, JSONL, ClaimReview."),
    "export": ("factdb.cli.exportcmd", "export", "Export claims as CSV, JSONL or ClaimReview."),
    "report": ("factdb.cli.reportcmd", "report", "Write a Markdown or HTML report."),
    "sql": ("factdb.cli.sqlcmd", "sql", "Run a read-only SQL query."),
    "extract": ("factdb.cli.extract", "extract", "Propose an article's attributed claims."),
    "log": ("factdb.cli.logcmd", "log", "The audit log: who changed what, when, before and after."),
    "match": ("factdb.cli.match", "match_group", "Build the vectors of semantic claim matching."),
    "schema": ("factdb.cli.sqlcmd", "schema", "Describe the tables and views for SQL users."),
}


def _is_database_error(exc: BaseException) -> bool:
    """True for errors raised by the database layer (SQLAlchemy or a DB-API driver)."""
    # sqlite3 is not imported at start-up (it costs time on every --help); if no command has
    # loaded it, no sqlite3 error can exist
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is not None and isinstance(exc, sqlite3.Error):
        return True
    module = type(exc).__module__
    return module.startswith(("sqlalchemy", "psycopg"))


# SQLite's wording for faults a user can fix, said plainly (SQLite's own words follow)
_PLAIN_SQLITE = {
    "attempt to write a readonly database": "is read-only",
    "unable to open database file": "cannot be opened: check that it and its folder are writable",
    "database or disk is full": "cannot grow: the disk is full",
    "database disk image is malformed": "is damaged",
    "file is not a database": "is not a valid SQLite database",
}


def _one_line(exc: BaseException, path: object = None) -> str:
    """A single line describing a database error, without SQLAlchemy's SQL echo.

    ``path`` (the SQLite file, when there is one) turns SQLite's terse faults into a plain
    sentence: "database /x/factdb.db is read-only (attempt to write a readonly database)".
    """
    orig = getattr(exc, "orig", None) or exc
    message = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    for needle, plain in _PLAIN_SQLITE.items():
        if path is not None and needle in message:
            return f"database {path} {plain} ({message})"
    return f"database error: {message}"


def _check_arguments_are_text(args: list[str]) -> None:
    """Refuse command-line arguments with bytes that are not UTF-8 (a usage error, exit 2).

    Python hands such bytes over as lone surrogates, which no database can store.
    """
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            raise click.UsageError(
                f"argument {shown[:60]!r} is not valid UTF-8 text; check your terminal's encoding"
            ) from None


class OneLineUsageError(click.ClickException):
    """A usage error shown as one ``Error: …`` line (exit 2) instead of click's usage block."""

    exit_code = 2


def _one_line_usage(exc: click.UsageError) -> OneLineUsageError:
    """Fold click's usage error and its help hint into one line."""
    hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    return OneLineUsageError(exc.format_message().replace("\n", " ") + hint)


def _help_width(max_width: int | None) -> int | None:
    """The help text width click would pick, found without importing shutil (start-up time).

    Same rule as click: ``$COLUMNS`` or the terminal's width, capped at ``max_width``, minus 2,
    at least 50. None (click decides) when click's test runner forces a width.
    """
    from click import formatting

    if formatting.FORCED_WIDTH is not None:
        return None
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return max(min(columns, max_width or 80) - 2, 50)


def _pipe_closed() -> click.exceptions.Exit:
    """End quietly, as ``cat`` does, when the reader of standard output has gone away
    (``factdb export | head -1``): no traceback, exit 0.

    Standard output is pointed at /dev/null so that the interpreter's final flush of what is
    still buffered does not fail again and print "Exception ignored …" at shutdown.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return click.exceptions.Exit(0)  # not a real file (click's test runner)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
    return click.exceptions.Exit(0)


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use; errors become one line."""

    def __init__(self, *args, lazy: dict[str, tuple[str, str, str]] | None = None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module_name, attribute, _ = self.lazy[cmd_name]
            command = getattr(importlib.import_module(module_name), attribute)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy and name not in self.commands:
                rows.append((name, self.lazy[name][2]))
            else:
                command = self.get_command(ctx, name)
                if command is not None and not command.hidden:
                    rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            _check_arguments_are_text(args)
        return super().parse_args(ctx, args)

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[no-untyped-def]
        if parent is None and extra.get("terminal_width") is None:
            # subcommands inherit this width; without it click imports shutil to find it
            extra["terminal_width"] = _help_width(self.context_settings.get("max_content_width"))
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            raise _one_line_usage(exc) from None

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            result = super().invoke(ctx)
            if ctx.parent is None:
                # what is still buffered goes out now, where a closed pipe can be handled
                sys.stdout.flush()
            return result
        except BrokenPipeError:
            raise _pipe_closed() from None
        except click.UsageError as exc:
            raise _one_line_usage(exc) from None
        except FactdbError as exc:
            raise click.ClickException(str(exc)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except UnicodeError as exc:
            # text that cannot be stored (a lone surrogate from an escaped JSON string or a
            # badly decoded file); the transaction has been rolled back by then
            reason = getattr(exc, "reason", "") or type(exc).__name__
            raise click.ClickException(
                f"the input holds text that is not valid Unicode ({reason})"
            ) from None
        except Exception as exc:
            if _is_database_error(exc):
                path = getattr(ctx.obj, "path", None)
                raise click.ClickException(_one_line(exc, path)) from None
            raise


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--db",
    "db",
    envvar="FACTDB_DATABASE",
    metavar="PATH|URL",
    help="SQLite file or SQLAlchemy URL (env FACTDB_DATABASE; "
    "default ~/.local/share/factdb/factdb.db).",
)
@click.option(
    "--by",
    "actor",
    metavar="WHO",
    help="Who makes the changes, for the audit log (default: $FACTDB_USER, else your login).",
)
@click.version_option(__version__, prog_name="factdb")
@click.pass_context
def cli(ctx: click.Context, db: str | None, actor: str | None) -> None:
    """factdb: record what was said, by whom, how we know, and where each allegation stands."""
    from factdb.cli.common import AppContext
    from factdb.safefiles import check_stdout, protected_files

    ctx.obj = AppContext(db, actor=actor)
    # 'factdb … >> factdb.db' would append text to the database, whatever the command
    check_stdout(protected_files(ctx.obj.path))
    # connections end with the command, not whenever the garbage collector gets to them
    ctx.call_on_close(ctx.obj.close)


# during start-up a full collection runs only after this many middle-generation ones (the
# default, 10, is reached while SQLAlchemy loads; one full pass over it costs ~30 ms)
STARTUP_FULL_GC_THRESHOLD = 1000


def main() -> None:
    """Console-script entry point."""
    # no full garbage collection while the command's modules load (young objects are still
    # collected): AppContext.engine freezes the loaded modules and restores the default
    # thresholds once they are (factdb.cli.common.resume_collection)
    young, middle, _full = gc.get_threshold()
    gc.set_threshold(young, middle, STARTUP_FULL_GC_THRESHOLD)
    cli(prog_name="factdb")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
