"""Exceptions a user can cause; the CLI turns each into one ``Error: …`` line and exit 1."""


class FactdbError(Exception):
    """A data, database or SQL error that a user can cause (exit status 1)."""


class NotFound(FactdbError):
    """A claim, speaker, source or status named by the user does not exist."""


class Conflict(FactdbError):
    """The change would duplicate or orphan existing data."""


class SchemaMismatch(FactdbError):
    """The database schema is not the one this version of factdb expects."""
