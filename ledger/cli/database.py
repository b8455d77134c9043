"""`ledger init` and `ledger db upgrade|current|check`: the schema, through alembic."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import info, new_app, out, state

app = new_app("The database schema: migrations (alembic under the hood).")


def _url(ctx: typer.Context, *, create: bool = False, db: str | None = None) -> str:
    from ledger.db import database_url, require_file, sqlite_path
    from ledger.errors import LedgerError

    url = database_url(db or state(ctx).db)
    path = sqlite_path(url)
    if path is not None and not path.parent.exists():
        raise LedgerError(f"the folder for the ledger {str(path)!r} does not exist")
    if not create:
        require_file(url)
    return url


def _engine(ctx: typer.Context, *, create: bool = False, db: str | None = None):
    from ledger.db import make_engine

    return make_engine(_url(ctx, create=create, db=db))


def init(ctx: typer.Context,
         path: Annotated[str | None, typer.Argument(
             help="The ledger file or postgresql:// URL [default: --db].",
             show_default=False)] = None) -> None:
    """Create the ledger database at the latest schema, or report that it is current.

    Only `ledger init` and `ledger demo` create a ledger; every other command refuses a
    ledger file that does not exist.

    \b
    Example:
      ledger init newsroom.db
    """
    from ledger import db

    url = _url(ctx, create=True, db=path)
    file = db.sqlite_path(url)
    if file is not None and db.create_sqlite(file):  # a new file: no migrations to run
        out(f"Created a ledger at schema {db.HEAD_REVISION}")
        return
    engine = db.make_engine(url)
    revision = db.current_revision(engine)
    if revision is None:
        db.upgrade(engine)
        out(f"Created a ledger at schema {db.HEAD_REVISION}")
    elif revision == db.HEAD_REVISION:
        out(f"The ledger is current (schema {revision})")
    else:
        from ledger.errors import SchemaMismatch

        raise SchemaMismatch(f"the ledger is at schema {revision}, this version needs "
                             f"{db.HEAD_REVISION}; run `ledger db upgrade`")


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Migrate the ledger's schema to the latest version (back it up first).

    \b
    Example:
      ledger backup before-upgrade.db && ledger db upgrade
    """
    from ledger import db

    engine = _engine(ctx)
    before = db.current_revision(engine)
    db.upgrade(engine)
    after = db.current_revision(engine)
    if before == after:
        out(f"Already at the latest schema ({after})")
    else:
        out(f"Upgraded the schema from {before or 'empty'} to {after}")


@app.command("current")
def current(ctx: typer.Context) -> None:
    """Print the schema revision the ledger is at, and the one this version needs.

    \b
    Example:
      ledger db current
    """
    from ledger import db

    revision = db.current_revision(_engine(ctx))
    out(f"{revision or 'empty'} (this version needs {db.HEAD_REVISION})")


@app.command("check")
def check(ctx: typer.Context) -> None:
    """Check the schema is current, matches the models and has its triggers; exit 1 if not.

    The triggers keep the event log append-only and the search index current (on
    PostgreSQL, the search indexes are checked instead of search triggers).

    \b
    Example:
      ledger db check
    """
    from ledger import db
    from ledger.errors import SchemaMismatch

    engine = _engine(ctx)
    revision = db.current_revision(engine)
    if revision != db.HEAD_REVISION:
        raise SchemaMismatch(f"the ledger is at schema {revision or 'empty'}, this version "
                             f"needs {db.HEAD_REVISION}; run `ledger db upgrade`")
    differences = db.schema_differences(engine)
    if differences:
        for difference in differences:
            info(f"  {difference}")
        raise SchemaMismatch(f"the schema differs from the models in {len(differences)} "
                             "place(s) (listed above)")
    problems = db.trigger_problems(engine)
    if problems:
        for problem in problems:
            info(f"  {problem}")
        raise SchemaMismatch(f"{len(problems)} trigger(s) or index(es) missing or altered "
                             "(listed above): the database was changed outside the ledger; "
                             "restore it from a backup, then run `ledger verify`")
    out(f"ok: schema {revision}, matching the models, triggers in place")
