"""Alembic environment: works from the plain Alembic CLI and from factdb's own commands.

The database URL comes, in order, from a connection handed over by factdb
(``config.attributes["connection"]``), ``-x db=PATH|URL``, ``sqlalchemy.url`` in the config,
then ``FACTDB_DATABASE`` or the default file (see ``factdb.config``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection, Engine

from factdb.config import resolve_url
from factdb.db import check_foreign_keys, for_schema_changes, make_engine
from factdb.models import Base

config = context.config
target_metadata = Base.metadata


def _include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    """Leave out objects Alembic cannot model: the full-text index's shadow tables."""
    return not (type_ == "table" and name is not None and name.startswith("statements_fts"))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=_include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        check_foreign_keys(connection)


def _url() -> str:
    x_args = context.get_x_argument(as_dictionary=True)
    return resolve_url(x_args.get("db") or config.get_main_option("sqlalchemy.url") or None)


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against a live connection (factdb's, or one made from the URL)."""
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
        return
    # an Engine handed over (pytest-alembic's alembic_engine fixture does so), else our own
    engine = connection if isinstance(connection, Engine) else make_engine(_url())
    with engine.connect() as conn:
        _run(for_schema_changes(conn))
        conn.commit()
    if engine is not connection:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
