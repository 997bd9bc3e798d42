"""``factdb import``: claims in from CSV, JSONL, ClaimReview JSON-LD or Fact Check API JSON."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import IO, Any, BinaryIO

import click

from factdb.cli.common import AppContext, pass_app
from factdb.errors import FactdbError

FORMATS = ("csv", "jsonl", "claimreview", "factcheck-api")
SNIFF_BYTES = 1 << 16
MAX_WARNINGS = 10


def _open(path: str) -> tuple[BinaryIO, str, int | None]:
    """(binary stream, display name, size in bytes or None for stdin)."""
    if path == "-":
        return sys.stdin.buffer, "<stdin>", None
    try:
        stream = open(path, "rb", buffering=SNIFF_BYTES)  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise FactdbError(f"cannot read {path}: {exc.strerror}") from None
    if os.path.isdir(path):
        raise FactdbError(f"{path} is a directory")
    return stream, os.path.basename(path), os.fstat(stream.fileno()).st_size


def _reject_writer(out: IO[str]):  # type: ignore[no-untyped-def]
    """A callback writing each rejected record as a JSON line: where, field, reason, record."""

    def reject(error: Any) -> None:
        raw = getattr(error, "raw", None)
        entry = {
            "location": error.location,
            "field": error.field,
            "reason": error.message,
            "record": raw,
        }
        try:
            line = json.dumps(entry, ensure_ascii=False, default=str)
        except (RecursionError, ValueError):
            # a record nested too deeply to write back (its location says where it was)
            line = json.dumps({**entry, "record": None}, ensure_ascii=False, default=str)
        out.write(line + "\n")

    return reject


@click.command("import")
@click.argument("file", metavar="FILE|-")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Input format (default: from the extension and the content).",
)
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option(
    "--skip-invalid",
    "rejects",
    metavar="REJECTS",
    type=click.Path(dir_okay=False, writable=True),
    help="Import the valid records; write each rejected one (JSON lines) to REJECTS.",
)
@click.option("--origin", metavar="NAME", help="Origin of records that do not name one.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no warnings.")
@pass_app
def import_cmd(
    app: AppContext,
    file: str,
    fmt: str | None,
    dry_run: bool,
    rejects: str | None,
    origin: str | None,
    quiet: bool,
) -> None:
    """Import claims from FILE (or - for standard input).

    Formats: csv and jsonl (the interchange record: text, speaker, speaker_role, …,
    external_id), claimreview (schema.org JSON-LD: a document, an array, a @graph, or HTML pages
    with ld+json blocks) and factcheck-api (Google Fact Check Tools claims:search JSON).

    All or nothing: the first invalid record stops the import and nothing is written, unless
    --skip-invalid is given. Importing the same file twice adds nothing the second time.
    """
    from factdb.io.bulkwrite import is_bulk
    from factdb.io.loader import Loader
    from factdb.io.readers import detect_format, read_records, utf8_input
    from factdb.io.records import RecordError
    from factdb.safefiles import OutputFile, check_output, protected_files

    if rejects:
        # before anything is read or written: never the database, its side files or the input
        source = Path("/dev/stdin" if file == "-" else file), "the file being imported"
        check_output(Path(rejects), protected_files(app.path, [source]), option="--skip-invalid")
    stream, name, size = _open(file)
    reject_file: OutputFile | None = None
    reject_out = None
    try:
        head = stream.read(SNIFF_BYTES) if hasattr(stream, "read") else b""
        if len(head) < SNIFF_BYTES and not head.lstrip(b"\xef\xbb\xbf \t\r\n"):
            raise FactdbError(f"{name}: empty input, nothing to import")
        counted = stream
        # UTF-16/32 become UTF-8 here, so that every reader (and the sniffing) sees UTF-8
        body = io.BufferedReader(utf8_input(head, stream, name), buffer_size=SNIFF_BYTES)
        fmt = fmt or detect_format(name if file != "-" else "", body.peek(SNIFF_BYTES))
        if rejects:
            # a temporary file, moved into place only once the import has committed
            reject_file = OutputFile(Path(rejects), option="--skip-invalid")
            reject_out = reject_file.open()
        show_bar = size is not None and not quiet and _is_terminal(sys.stderr)
        # a rough count (JSONL/CSV records run 150-400 bytes): decides whether this is a bulk
        # load (secondary indexes built once at the end; on SQLite no foreign-key checks and
        # no CHECK constraints)
        expected = size // 300 if size else None
        with app.session(bulk=is_bulk(expected)) as session:
            from factdb.match.repeats import last_id

            before = last_id(session)
            bar = (
                click.progressbar(length=size, label=f"Importing {name}", file=sys.stderr)
                if show_bar
                else None
            )
            done = 0

            def progress(_count: int) -> None:
                nonlocal done
                if bar is not None:
                    position = counted.tell()
                    bar.update(position - done)
                    done = position

            loader = Loader(
                session,
                origin=origin,
                reject=_reject_writer(reject_out) if reject_out else None,
                progress=progress if bar is not None else None,
                expected=expected,
                label=name,
            )
            try:
                summary = loader.load(read_records(body, name, fmt))
            except RecordError as exc:
                hint = "" if rejects else "; --skip-invalid REJECTS imports the valid ones"
                raise FactdbError(f"{exc} (nothing imported{hint})") from None
            finally:
                if bar is not None:
                    bar.update(size - done)  # type: ignore[operator]
                    bar.render_finish()
            repeats, repeat_note = _repeats(session, before)
            if dry_run:
                session.rollback()
        if reject_file is not None and not dry_run:
            reject_file.commit()
    finally:
        if file != "-":
            stream.close()
        if reject_file is not None:
            reject_file.abort()  # a failed or dry run: REJECTS stays as it was
    if not quiet:
        for warning in summary.warnings[:MAX_WARNINGS]:
            click.echo(f"Warning: {warning}", err=True)
        if len(summary.warnings) > MAX_WARNINGS:
            click.echo(f"Warning: … and {len(summary.warnings) - MAX_WARNINGS} more", err=True)
        for repeat in repeats[:MAX_WARNINGS]:
            click.echo(f"note: {repeat.line()}", err=True)
        if len(repeats) > MAX_WARNINGS:
            click.echo(f"note: … and {len(repeats) - MAX_WARNINGS} more", err=True)
        if repeat_note:
            click.echo(f"note: {repeat_note}", err=True)
    prefix = "Dry run (nothing written): " if dry_run else f"Imported {name}: "
    line = summary.line()
    if repeats:
        line += f"; {len(repeats)} probably repeat recorded claims"
    click.echo(prefix + line, err=True)


def _repeats(session: Any, before: int) -> tuple[list[Any], str | None]:
    """The imported claims (id > ``before``) that probably repeat recorded ones, and a note
    when the import was too big to check claim by claim."""
    from sqlalchemy import text

    from factdb.match import repeats

    count = session.scalar(text("SELECT count(*) FROM statements WHERE id > :b"), {"b": before})
    if not count:
        return [], None
    if count > repeats.MAX_CHECKED:
        return [], (
            f"{count} new claims: too many to check for repeats one by one "
            "(use 'factdb claim match --file'; 'factdb match index' embeds them)"
        )
    new_ids = list(
        session.scalars(text("SELECT id FROM statements WHERE id > :b ORDER BY id"), {"b": before})
    )
    repeats.embed_new(session, before)
    return repeats.find_repeats(session, new_ids, ranker=repeats.semantic_layer(session)), None


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
