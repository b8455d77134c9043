"""`ledger init`, `ledger db upgrade|current|check` (the schema, through alembic) and
`ledger db roles|grant|revoke` (who may do what on PostgreSQL)."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import info, new_app, out, state, table

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
             show_default=False)] = None,
         mode: Annotated[str | None, typer.Option(
             "--mode", help="A SQLite file's permissions: 0600 (you alone) or 0640 (your group "
             "may read) [default: 0600 for a new file].", show_default=False)] = None) -> None:
    """Create the ledger database at the latest schema, or report that it is current.

    Only `ledger init` and `ledger demo` create a ledger; every other command refuses a
    ledger file that does not exist. A new SQLite file is made 0600 whatever the umask (its
    permissions are its access control); --mode 0640 lets your group read it, and on an
    existing file sets its mode. On PostgreSQL use `ledger db roles` instead.

    \b
    Example:
      ledger init newsroom.db --mode 0640
    """
    from ledger import db

    file_mode = db.ledger_file_mode(mode)
    url = _url(ctx, create=True, db=path)
    target = db.sqlite_path(url)
    if mode is not None and target is None:
        from ledger.errors import LedgerError

        raise LedgerError("--mode is a SQLite file's permissions; a PostgreSQL ledger's access "
                          "control is its roles (`ledger db roles`)")
    if target is not None and db.create_sqlite(target, mode=file_mode):
        # A new file from the recorded schema: no migrations to run.
        out(f"Created a ledger at schema {db.HEAD_REVISION}, file mode {file_mode:04o}")
        return
    engine = db.make_engine(url)
    revision = db.current_revision(engine) if target is None or target.exists() else None
    if revision is None:
        if target is not None and not target.exists():
            db.create_ledger_file(target, file_mode)
        db.upgrade(engine)
        shown = f", file mode {file_mode:04o}" if target is not None else ""
        out(f"Created a ledger at schema {db.HEAD_REVISION}{shown}")
    elif revision == db.HEAD_REVISION:
        if mode is not None and target is not None:
            for file in (target, *(target.with_name(target.name + end)
                                   for end in ("-wal", "-shm"))):
                if file.exists():
                    file.chmod(file_mode)
            out(f"The ledger is current (schema {revision}); file mode set to {file_mode:04o}")
        else:
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
    if engine.dialect.name == "postgresql" and db.roles_set_up(engine):
        from ledger.store import roles

        roles.setup(engine)  # grants on what the migrations made
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


# --- roles (PostgreSQL) --------------------------------------------------------------------


def _ledger(ctx: typer.Context):
    return state(ctx).engine()


@app.command("roles")
def roles(ctx: typer.Context) -> None:
    """Make the ledger's PostgreSQL roles (idempotent) and list which logins hold which.

    reader: reads only. recorder: records and edits, appends events. editor: a recorder who
    may also merge people and retract claims. admin: migrations and roles. The tables belong
    to ledger_owner, a role no one logs in as. Run it first as a PostgreSQL superuser; an
    admin may run it again. On SQLite the file's permissions are the access control.

    \b
    Example:
      ledger --db postgresql://postgres@localhost/newsroom db roles
    """
    from ledger.store import roles as store_roles

    holders = store_roles.setup(_ledger(ctx))
    out("Roles ready: ledger_owner (owns the tables), ledger_reader, ledger_recorder, "
        "ledger_editor, ledger_admin")
    if holders:
        table([[h.login, h.role] for h in holders], ["login", "role"])
    else:
        out("No login holds a ledger role yet; add one with `ledger db grant LOGIN --as ROLE`")


@app.command("grant")
def grant(ctx: typer.Context,
          login: Annotated[str, typer.Argument(help="The PostgreSQL login role (made if "
                                               "missing, without a password).",
                                               show_default=False)],
          role: Annotated[str, typer.Option("--as", help="reader | recorder | editor | admin.",
                                            show_default=False)]) -> None:
    """Give a login one ledger role (in place of any it held); makes the roles if needed.

    \b
    Example:
      ledger --db postgresql://postgres@localhost/newsroom db grant alice --as recorder
    """
    from ledger.store import roles as store_roles

    created = store_roles.grant(_ledger(ctx), login=login, role=role)
    if created:
        info(f"Created the login role {login!r} without a password: set one in psql "
             f"(\\password {login}) or authenticate it in pg_hba.conf")
    out(f"{login} is now a ledger {role}")


@app.command("revoke")
def revoke(ctx: typer.Context,
           login: Annotated[str, typer.Argument(help="The PostgreSQL login role.",
                                                show_default=False)]) -> None:
    """Take every ledger role from a login (the login itself stays).

    \b
    Example:
      ledger --db postgresql://postgres@localhost/newsroom db revoke alice
    """
    from ledger.store import roles as store_roles

    before = store_roles.revoke(_ledger(ctx), login=login)
    out(f"{login} no longer holds a ledger role" + (f" (was {before})" if before else
                                                     " (it held none)"))
