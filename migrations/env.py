"""Alembic environment: one for SQLite (batch mode) and PostgreSQL, online and offline."""

from alembic import context
from sqlmodel import SQLModel

import ledger.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from ledger.db import assume_owner, database_url, include_object, make_engine

config = context.config
target_metadata = SQLModel.metadata

OPTIONS = {
    "target_metadata": target_metadata,
    "render_as_batch": True,  # SQLite alters tables by copying them
    "include_object": include_object,
    "compare_type": True,
}


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or database_url(None)


def run_migrations_offline() -> None:
    """Write the SQL to stdout instead of running it."""
    context.configure(url=_url(), literal_binds=True, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations in one transaction on the ledger's own engine settings."""
    engine = config.attributes.get("engine") or make_engine(_url())
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode copies tables; foreign keys are checked once at the end instead.
            # Straight to the driver: the PRAGMA is a no-op inside the BEGIN that any
            # statement through SQLAlchemy would open first.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
        connection.execution_options(ledger_write=True)
        context.configure(connection=connection, **OPTIONS)
        with context.begin_transaction():
            assume_owner(connection)
            context.run_migrations()
            if connection.dialect.name == "sqlite":
                problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if problems:
                    raise RuntimeError(f"foreign key check failed after migrating: {problems[:5]}")
        if connection.dialect.name == "sqlite":
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
