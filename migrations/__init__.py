"""Alembic migrations for factdb (installed as ``factdb._migrations``)."""
