"""Alembic migrations for the outcome database; run with `ivr.store.db.upgrade_database`."""
