"""plantwatch's shared store: SQLite (default) or PostgreSQL via SQLAlchemy 2 and Alembic.

``db`` (URL, engine, sessions, migrations), ``models`` (tables), ``audit`` (the hash-chained
audit log), ``service`` (the only way the CLI and the web app write), ``cli_admin``
(``plantwatch admin init|verify|create-user``).
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plantwatch.store.db import Store, migrate, resolve_url

__all__ = ["Store", "migrate", "resolve_url"]


def __getattr__(name: str) -> Any:
    """Import SQLAlchemy only when the store is used: every `plantwatch` command imports this
    package (``admin`` is registered on the CLI), and SQLAlchemy alone costs ~0.4 s."""
    if name in __all__:
        from plantwatch.store import db

        return getattr(db, name)
    raise AttributeError(f"module 'plantwatch.store' has no attribute {name!r}")
