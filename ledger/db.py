"""Engine, transactions and migrations, for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout, and every write transaction
begins IMMEDIATE so concurrent writers queue instead of failing. On PostgreSQL a write
transaction takes one advisory lock first, so appends to the event chain are serialized there
too. Migrations (alembic, in `migrations/`) are the only way the schema is made.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session

from ledger.errors import LedgerError, SchemaMismatch

if TYPE_CHECKING:
    from alembic.config import Config

# The newest migration. A test checks it against alembic's head, so the everyday path can
# compare revisions without importing alembic.
HEAD_REVISION = "0007"
DEFAULT_DB = "ledger.db"
# Any constant: the key of the PostgreSQL advisory lock that serializes writers.
_PG_WRITE_LOCK = 0x1ED6E5


def database_url(db: str | None) -> str:
    """The SQLAlchemy URL for `--db`: a file path (SQLite) or a URL (PostgreSQL, SQLite)."""
    value = db or os.environ.get("LEDGER_DB") or DEFAULT_DB
    if value.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser()}"


def sqlite_path(url: str) -> Path | None:
    """The database file behind a SQLite URL, or None for other backends and memory."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def make_engine(url: str) -> Engine:
    """An engine with the ledger's connection settings for its backend."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"isolation_level": None, "timeout": 60})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(url, pool_pre_ping=False)
        event.listen(engine, "begin", _pg_begin)
    return engine


def _sqlite_connect(dbapi_connection, _record) -> None:
    # The driver's own transaction handling is off; `_sqlite_begin` says BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 60000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _sqlite_begin(connection) -> None:
    write = connection.get_execution_options().get("ledger_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _pg_begin(connection) -> None:
    if connection.get_execution_options().get("ledger_write", False):
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_WRITE_LOCK})")


def utc_now() -> str:
    """The current UTC time as the event log writes it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@contextmanager
def transaction(
    engine: Engine, *, actor: str, clock: Callable[[], str] = utc_now
) -> Iterator[Session]:
    """One write transaction: commit on success, roll back on any error.

    Store functions flush; only this commits. `actor` and `clock` go into every event the
    transaction appends.
    """
    with engine.connect() as connection:
        connection.execution_options(ledger_write=True)
        with Session(bind=connection, autoflush=False, expire_on_commit=False) as session:
            session.info.update(actor=actor, clock=clock)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A read-only session; nothing it does is committed."""
    with engine.connect() as connection, Session(bind=connection, autoflush=False) as session:
        try:
            yield session
        finally:
            session.rollback()


# --- migrations -------------------------------------------------------------------------


def migrations_dir() -> Path:
    """Where the migration scripts are: inside the installed package.

    Run from a source checkout whose `ledger/` shadows the installed package, they are the
    top-level `migrations/` folder beside it.
    """
    try:
        return Path(str(resources.files("ledger.migrations")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    """An alembic Config for the shipped migrations, bound to `engine` when given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if engine is not None:
        config.set_main_option("sqlalchemy.url",
                               engine.url.render_as_string(hide_password=False).replace("%", "%%"))
        config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except (OperationalError, ProgrammingError):
            connection.rollback()
            tables = inspect(connection).get_table_names()
            if "alembic_version" in tables:
                raise  # the table is there: the read failed (I/O error, lock), say so
            if tables:
                raise SchemaMismatch(
                    "this database has tables but no ledger schema version; "
                    "is it a ledger? Point --db at a ledger, or at a new file"
                ) from None
            return None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the schema up to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the schema down to `revision` ("base" for empty)."""
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def schema_differences(engine: Engine) -> list:
    """What autogenerate would change to make the schema match the models (empty: they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import ledger.models  # noqa: F401  (registers the tables)

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": True}
        )
        return compare_metadata(context, SQLModel.metadata)


# Tables the models do not describe on purpose (full-text index tables, alembic's own).
UNMODELLED_TABLES = ("alembic_version",)
UNMODELLED_PREFIXES = ("search_",)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate filter: leave alone the tables the models do not describe on purpose."""
    if type_ in ("table", "index") and name is not None:
        return name not in UNMODELLED_TABLES and not name.startswith(UNMODELLED_PREFIXES)
    return True


def open_ledger(db: str | None, *, create: bool = True) -> Engine:
    """An engine for the ledger at `db`, its schema checked.

    A database with no tables (a missing SQLite file included) is created at the latest schema
    when `create` is true. A database behind the code is never migrated silently: that is an
    error telling the user to run `ledger db upgrade`.
    """
    url = database_url(db)
    path = sqlite_path(url)
    if path is not None and not path.parent.exists():
        raise LedgerError(f"the folder for the ledger {str(path)!r} does not exist")
    engine = make_engine(url)
    try:
        revision = current_revision(engine)
    except OperationalError as exc:
        raise LedgerError(f"cannot open the ledger at {_describe(url)}: {exc.orig}") from None
    if revision is None and create:
        upgrade(engine)
    elif revision is None:
        raise SchemaMismatch(f"no ledger at {_describe(url)}; run `ledger init`")
    elif revision != HEAD_REVISION:
        raise SchemaMismatch(
            f"the ledger at {_describe(url)} is at schema {revision}, this version needs "
            f"{HEAD_REVISION}; run `ledger db upgrade` (back it up first with `ledger backup`)"
        )
    return engine


def _describe(url: str) -> str:
    path = sqlite_path(url)
    if path is not None:
        return str(path)
    return url.split("@")[-1]
