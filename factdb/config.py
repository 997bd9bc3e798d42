"""Resolve which database to use: ``--db`` beats ``FACTDB_DATABASE`` beats the default file."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote, unquote

ENV_VAR = "FACTDB_DATABASE"


def default_path() -> Path:
    """The default SQLite file: ``$XDG_DATA_HOME/factdb/factdb.db`` (``~/.local/share/…``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "factdb" / "factdb.db"


def is_url(value: str) -> bool:
    """True when ``value`` is a SQLAlchemy URL rather than a file path."""
    return "://" in value


def resolve_url(db: str | None = None) -> str:
    """Return a SQLAlchemy URL for the ``--db`` value, the environment, or the default file.

    A file path is taken literally: it is percent-encoded into the URL, so that ``?``, ``%``,
    ``#`` and spaces name that exact file instead of starting a query string or an escape
    (SQLAlchemy decodes the database part of a URL; :func:`sqlite_path` does the same).
    """
    value = db or os.environ.get(ENV_VAR) or str(default_path())
    if is_url(value):
        return value
    return sqlite_url(Path(value).expanduser().absolute())


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of the SQLite file ``path`` (absolute), its name percent-encoded."""
    return "sqlite:///" + quote(str(path), safe="/")


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for another backend or an in-memory database."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[1] if "///" in url else ""
    path = unquote(path.split("?", 1)[0])
    if not path or path == ":memory:":
        return None
    return Path(path)


def display_url(url: str) -> str:
    """``url`` as shown in messages: a password in it is replaced by ``***``."""
    return re.sub(r"^([^:/]+://[^:/@]*):[^@]*@", r"\1:***@", url)
