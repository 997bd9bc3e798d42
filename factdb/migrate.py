"""Alembic glue: upgrade, downgrade, current, history and check, from inside factdb.

Imported only by the commands that change or inspect the schema, so that ordinary commands
never pay for importing Alembic.
"""

from __future__ import annotations

import io
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

import factdb
from factdb.db import for_schema_changes


def migrations_dir() -> Path:
    """The ``migrations/`` folder: beside the package in a checkout, inside it when installed."""
    checkout = Path(factdb.__file__).resolve().parent.parent / "migrations"
    if (checkout / "env.py").exists():
        return checkout
    return Path(factdb.__file__).resolve().parent / "_migrations"


def alembic_config(engine: Engine | None = None, stdout: io.TextIOBase | None = None) -> Config:
    """An Alembic Config pointing at factdb's migrations (and at ``engine``'s database)."""
    config = Config(stdout=stdout) if stdout is not None else Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if engine is not None:
        # the ini parser treats '%' as interpolation: a URL's percent-escapes are doubled
        url = engine.url.render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _run(engine: Engine, fn, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    """Run an Alembic command on one connection of ``engine``, in one transaction."""
    from alembic.util import CommandError

    from factdb.errors import FactdbError

    config = alembic_config(engine, stdout=kwargs.pop("stdout", None))
    try:
        with engine.connect() as connection, for_schema_changes(connection).begin():
            config.attributes["connection"] = connection
            fn(config, *args, **kwargs)
    except CommandError as exc:
        # a user's mistake ("Can't locate revision identified by 'x'"): one line, not a traceback
        raise FactdbError(str(exc).strip().splitlines()[0]) from None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (head by default)."""
    _run(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema down to ``revision`` (``-1``, a revision id, or ``base``)."""
    _run(engine, command.downgrade, revision)


def head_revision() -> str:
    """The newest revision among factdb's migrations."""
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    assert head is not None
    return head


def database_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def history() -> list[tuple[str, str | None, str]]:
    """Every revision, oldest first: (revision, down revision, message)."""
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(script.walk_revisions())
    revisions.reverse()
    return [(r.revision, r.down_revision, (r.doc or "").splitlines()[0]) for r in revisions]  # type: ignore[misc]


def pending_model_changes(engine: Engine) -> list[str]:
    """Differences between the models and the database schema (empty when in step)."""
    from alembic.autogenerate import compare_metadata

    from factdb.models import Base

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_object": lambda obj, name, type_, reflected, compare_to: (
                    not (
                        type_ == "table" and name is not None and name.startswith("statements_fts")
                    )
                ),
            },
        )
        return [str(diff) for diff in compare_metadata(context, Base.metadata)]
