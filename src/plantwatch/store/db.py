"""Where the store lives and how to talk to it: URL, engine, sessions, migrations, write lock.

One data directory holds the SQLite database (``plantwatch.db``, WAL journal) and every file the
store keeps (``files/...``: plan folders, photos, gas videos, analysis outputs); the database
stores paths *relative* to it, so the folder can be moved as a whole. ``PLANTWATCH_DATABASE_URL``
(``postgresql+psycopg://user@host/db``) puts the tables in PostgreSQL instead; the files stay in
the data directory.

Durability and concurrency
--------------------------
* SQLite runs with ``journal_mode=WAL`` (readers never block the writer), ``synchronous=FULL``
  (a committed transaction survives a crash of the process *and* of the machine),
  ``foreign_keys=ON`` and a 30 s ``busy_timeout`` (writers queue instead of failing).
* Every service call that writes first takes the store's write lock (:func:`write_lock`):
  ``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on PostgreSQL. Writers are
  serialised, so checks made before a write (a plan's state, the audit chain's last hash, the next
  flight number) still hold when it commits. Reads take no lock.
* Migrations (Alembic, shipped in ``plantwatch/store/migrations``) run in one transaction under
  the same lock, so two processes opening a fresh store at once migrate it once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from plantwatch.errors import DataError, DependencyError, ImmutableError, InputError

__all__ = [
    "APPEND_ONLY_MARK",
    "DATABASE_URL_ENV",
    "DATA_DIR_ENV",
    "DEFAULT_DATA_DIR",
    "Store",
    "current_revision",
    "head_revision",
    "migrate",
    "resolve_data_dir",
    "resolve_url",
    "write_lock",
]

DATABASE_URL_ENV = "PLANTWATCH_DATABASE_URL"
DATA_DIR_ENV = "PLANTWATCH_DATA_DIR"
DEFAULT_DATA_DIR = Path("plantwatch-data")
SQLITE_FILE = "plantwatch.db"
# The message every append-only trigger raises; sessions turn it into ImmutableError.
APPEND_ONLY_MARK = "append-only"
# SQLite waits this long for another writer before giving up [ms].
BUSY_TIMEOUT_MS = 30_000
# Key of the PostgreSQL advisory lock that serialises writers (any constant shared by all).
_PG_WRITE_LOCK_KEY = 7_007_007


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """The data directory: the argument, else ``$PLANTWATCH_DATA_DIR``, else
    ``./plantwatch-data``."""
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir)
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else DEFAULT_DATA_DIR


def resolve_url(data_dir: str | Path | None = None) -> str:
    """Database URL: ``$PLANTWATCH_DATABASE_URL`` wins, else SQLite in the data directory.

    Parameters
    ----------
    data_dir
        Data directory (see :func:`resolve_data_dir`).

    Returns
    -------
    url
        ``sqlite:///<data_dir>/plantwatch.db`` (absolute path) or the environment's URL.
    """
    env = os.environ.get(DATABASE_URL_ENV)
    if env:
        return env
    folder = resolve_data_dir(data_dir).resolve()
    return f"sqlite:///{folder / SQLITE_FILE}"


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(
            f"{url!r} is not a database URL; use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB",
            field=DATABASE_URL_ENV,
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            raise InputError(
                "an in-memory SQLite database cannot hold a store; give a file", DATABASE_URL_ENV
            )
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise InputError(
                f"use the psycopg 3 driver: postgresql+psycopg://..., got {parsed.drivername!r}",
                field=DATABASE_URL_ENV,
            )
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise DependencyError(
                "psycopg is not installed; install it with: pip install -e '.[pg]'"
            ) from None
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    raise InputError(
        f"unsupported database {backend!r}; use sqlite or postgresql+psycopg",
        field=DATABASE_URL_ENV,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _lock_connection(connection: Connection) -> None:
    """Take the write lock on a connection (see module doc); a no-op when already held."""
    if connection.dialect.name == "sqlite":
        raw = connection.connection.driver_connection
        # pysqlite begins a transaction itself only before INSERT/UPDATE/DELETE; once it has,
        # the database's write lock is already ours.
        if raw is not None and not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_WRITE_LOCK_KEY})


def write_lock(session: Session) -> None:
    """Serialise writers: call first in every write, before the checks the write relies on.

    Held until the session's transaction ends (commit or rollback); calling it again in the same
    transaction is harmless.
    """
    _lock_connection(session.connection())


def _alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("plantwatch.store") / "migrations")
    )
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of plantwatch."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - packaging fault
        raise DataError("plantwatch/store/migrations holds no migration")
    return head


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (``None``: not initialised)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(url: str | Engine, revision: str = "head") -> None:
    """Bring the database up to ``revision`` (all tables and append-only triggers).

    Runs in one transaction under the write lock: all or nothing, once even when several
    processes start together.

    Parameters
    ----------
    url
        Database URL or an engine made for it.
    revision
        Alembic revision; ``head`` is the newest.
    """
    engine = url if isinstance(url, Engine) else _make_engine(url)
    try:
        _upgrade(engine, revision)
    finally:
        if not isinstance(url, Engine):
            engine.dispose()


def _upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    with engine.connect() as connection:
        _lock_connection(connection)
        command.upgrade(_alembic_config(connection), revision)
        connection.commit()


def _translate(exc: DBAPIError) -> Exception | None:
    message = str(exc.orig) if exc.orig is not None else str(exc)
    if APPEND_ONLY_MARK in message:
        return ImmutableError(message.strip().splitlines()[0])
    return None


class Store:
    """An opened store: engine, URL and data directory.

    Attributes
    ----------
    engine
        SQLAlchemy engine.
    url
        Database URL.
    data_dir
        Data directory; the store's files live under ``data_dir / "files"``.
    """

    def __init__(self, engine: Engine, url: str, data_dir: Path) -> None:
        self.engine = engine
        self.url = url
        self.data_dir = data_dir
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(
        cls, data_dir: str | Path | None = None, url: str | None = None, migrate: bool = True
    ) -> Store:
        """Open (and by default create or upgrade) a store.

        Parameters
        ----------
        data_dir
            Data directory (see :func:`resolve_data_dir`); created if missing.
        url
            Database URL; default :func:`resolve_url`.
        migrate
            Apply the shipped migrations first (idempotent). Without it an uninitialised or
            outdated database is a :class:`~plantwatch.errors.DataError` telling to run
            ``plantwatch admin init``.
        """
        folder = resolve_data_dir(data_dir).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        database_url = url or resolve_url(folder)
        engine = _make_engine(database_url)
        try:
            head = head_revision()
            try:
                current = current_revision(engine)
            except OperationalError as exc:
                raise DataError(
                    f"cannot open the database {_safe(database_url)}: {exc.orig}"
                ) from None
            if current != head:
                if not migrate:
                    raise DataError(
                        f"the database {_safe(database_url)} is at migration "
                        f"{current or 'none'}, this plantwatch needs {head}; "
                        "run: plantwatch admin init"
                    )
                _upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        from plantwatch.store import models  # noqa: F401  (registers the append-only events)

        return cls(engine, database_url, folder)

    @property
    def files_dir(self) -> Path:
        """Root of the store's files (``data_dir/files``)."""
        return self.data_dir / "files"

    def path(self, relative: str | Path) -> Path:
        """Absolute path of a file the database names (relative to ``data_dir``).

        Raises
        ------
        DataError
            The stored path leaves the data directory (absolute, or with ``..``).
        """
        rel = Path(relative)
        if rel.is_absolute() or ".." in rel.parts:
            raise DataError(f"stored path {str(relative)!r} leaves the data directory")
        return self.data_dir / rel

    def relative(self, path: str | Path) -> str:
        """The POSIX path of ``path`` relative to ``data_dir`` (how the database stores it)."""
        absolute = Path(path).resolve()
        try:
            return absolute.relative_to(self.data_dir.resolve()).as_posix()
        except ValueError:
            raise InputError(
                f"{str(path)!r} is outside the data directory {str(self.data_dir)!r}",
                field="path",
            ) from None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session: commit when the block ends, roll back when it raises.

        A database trigger refusing to change an append-only row comes out as
        :class:`~plantwatch.errors.ImmutableError`.
        """
        session = self._sessions()
        session.info["store"] = self
        try:
            yield session
            session.commit()
        except DBAPIError as exc:
            session.rollback()
            translated = _translate(exc)
            if translated is not None:
                raise translated from None
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store(url={_safe(self.url)!r}, data_dir={str(self.data_dir)!r})"


def _safe(url: str) -> str:
    """The URL with any password hidden (for messages)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<bad url>"
