"""plantwatch's shared store: SQLite (default) or PostgreSQL via SQLAlchemy 2 and Alembic.

``db`` (URL, engine, sessions, migrations), ``models`` (tables), ``audit`` (the hash-chained
audit log), ``service`` (the only way the CLI and the web app write), ``cli_admin``
(``plantwatch admin init|verify|create-user``).
"""

from plantwatch.store.db import Store, migrate, resolve_url

__all__ = ["Store", "migrate", "resolve_url"]
