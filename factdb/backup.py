"""A consistent copy of a live SQLite database, made with SQLite's online backup API.

The copy is written to a temporary file beside the destination, checked with
``PRAGMA integrity_check``, synced to disk and only then renamed into place, so the
destination is either the old file (or absent) or a complete, verified copy; never half of one.
Writers may keep writing while the backup runs: in WAL mode the backup reads one snapshot.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from factdb.config import sqlite_path
from factdb.db import BUSY_TIMEOUT_MS, check_sqlite_file
from factdb.errors import FactdbError
from factdb.safefiles import check_output, kind_of, protected_files


@dataclass(frozen=True)
class BackupResult:
    """What was copied: the destination, its size, the claims in it and its schema revision."""

    path: Path
    size: int
    claims: int | None
    revision: str | None


def _scalar(conn: sqlite3.Connection, sql: str) -> object:
    try:
        row = conn.execute(sql).fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def backup_database(url: str, destination: Path, *, overwrite: bool = False) -> BackupResult:
    """Copy the SQLite database at ``url`` to ``destination``; verify the copy before keeping it."""
    source = sqlite_path(url)
    if source is None:
        raise FactdbError(
            "db backup copies SQLite files; for PostgreSQL use pg_dump "
            "(or 'factdb db copy' to copy the database elsewhere)"
        )
    check_sqlite_file(source, must_exist=True)
    destination = destination.expanduser().absolute()
    check_output(destination, protected_files(source))
    if destination.is_dir():
        raise FactdbError(f"{destination} is a directory; give a file name")
    if destination.exists() and not destination.is_file():
        # renaming over a device or FIFO would replace the node itself (/dev/null as root)
        mode = destination.stat().st_mode
        raise FactdbError(f"{destination} is {kind_of(mode)}; a backup must be a regular file")
    # through a symlink: the copy replaces its target and the link stays a link
    destination = Path(os.path.realpath(destination))
    if destination.exists() and not overwrite:
        raise FactdbError(f"{destination} already exists (use --force to replace it)")
    if not destination.parent.is_dir():
        raise FactdbError(f"directory {destination.parent} does not exist")

    try:
        fd, tmp_name = tempfile.mkstemp(
            dir=destination.parent, prefix=f".{destination.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise FactdbError(f"cannot write to {destination.parent}: {exc.strerror}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _copy_and_verify(source, tmp)
        # mkstemp makes the file private (0600); the copy keeps the database's own mode
        os.chmod(tmp, source.stat().st_mode & 0o777)
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, destination)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    # a URI, so the file name is percent-encoded: '?', '#' and '%' are part of the name
    uri = "file:" + quote(str(destination)) + "?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        claims = _scalar(conn, "SELECT count(*) FROM statements")
        revision = _scalar(conn, "SELECT version_num FROM alembic_version")
    return BackupResult(
        path=destination,
        size=destination.stat().st_size,
        claims=claims if isinstance(claims, int) else None,
        revision=revision if isinstance(revision, str) else None,
    )


def _copy_and_verify(source: Path, tmp: Path) -> None:
    """Copy ``source`` into ``tmp`` in one backup step (one snapshot) and check the copy."""
    try:
        src = sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise FactdbError(f"cannot open {source}: {exc}") from None
    try:
        dst = sqlite3.connect(tmp, isolation_level=None)
        try:
            # pages=-1: the whole database in one step, so the copy is one consistent snapshot
            # even while other processes commit (WAL readers never block writers)
            src.backup(dst, pages=-1)
            # a backup is one self-contained file: no -wal or -shm beside it
            dst.execute("PRAGMA journal_mode = DELETE")
            result = [row[0] for row in dst.execute("PRAGMA integrity_check").fetchall()]
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise FactdbError(f"backup of {source} failed: {exc}") from None
    finally:
        src.close()
    if result != ["ok"]:
        raise FactdbError(f"the copy failed its integrity check: {'; '.join(result[:3])}")
