"""Alembic migrations of the store (run them with :func:`plantwatch.store.db.migrate`)."""
