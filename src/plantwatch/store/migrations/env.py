"""Alembic environment of the store.

There is no ``alembic.ini``: :mod:`plantwatch.store.db` builds the configuration in code (script
location = this package folder) and hands over an open connection in
``config.attributes["connection"]``, already inside the transaction and write lock the migration
runs under. Run from the command line (``alembic -x url=... upgrade head`` with a ``-c`` file that
names this folder) it connects to the ``url`` given with ``-x`` or ``$PLANTWATCH_DATABASE_URL``.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from plantwatch.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs batch mode for ALTER TABLE in later revisions
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "PLANTWATCH_DATABASE_URL"
    )
    if not url:
        raise SystemExit("give the database with -x url=... or PLANTWATCH_DATABASE_URL")
    engine = create_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; give a database URL")
run_migrations()
