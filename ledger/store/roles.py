"""Who may do what on a PostgreSQL ledger: the group roles, and the logins that hold them.

`setup` makes (idempotently) a NOLOGIN `ledger_owner` that owns the tables, sequences and
trigger functions, and four group roles:

- `ledger_reader`: SELECT on every table;
- `ledger_recorder`: a reader that may INSERT, UPDATE and DELETE the record tables and
  INSERT events and checkpoints (never UPDATE or DELETE an event, never ALTER or DROP);
- `ledger_editor`: a recorder whose merge and retract events the event trigger accepts;
- `ledger_admin`: may become `ledger_owner` (SET ROLE, for migrations); its logins also read,
  and have CREATEROLE so they can grant and revoke.

Roles belong to the PostgreSQL cluster, so every ledger database in a cluster shares them;
the grants and the ownership are per database. SQLite has no roles: its file's permissions
are its access control (`ledger init --mode`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from ledger.db import LEDGER_ROLES, OWNER_ROLE
from ledger.errors import Conflict, InvalidValue, LedgerError, NotFound, NotPermitted

ROLES = ("reader", "recorder", "editor", "admin")
"""The roles `grant --as` takes, weakest first."""

GROUPS = {name: f"ledger_{name}" for name in ROLES}
# Tables no recorder writes directly: the log (insert only), checkpoints (insert only) and
# alembic's own.
_NOT_RECORDS = ("event", "checkpoint", "alembic_version")
_FUNCTIONS = ("event_append_only()", "ledger_event_check()", "ledger_change_has_event()")
_LOGIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.@-]{0,62}")


@dataclass(frozen=True)
class Holder:
    """A login role and the ledger role it holds."""

    login: str
    role: str


class NoRoles(LedgerError):
    """The ledger is on SQLite, which has no roles."""


def _require_postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        raise NoRoles(
            "a SQLite ledger has no roles: its access control is the file's permissions "
            "(`ledger init --mode 0600`, or 0640 for a group that reads; see docs/integrity.md, "
            '"Who may do what"). Roles are for a ledger on PostgreSQL'
        )


def _caller(connection: Connection) -> tuple[str, bool, bool]:
    """The login, whether it is a superuser, whether it may manage roles (CREATEROLE)."""
    return tuple(
        connection.execute(
            text(
                "SELECT rolname::text, rolsuper, rolcreaterole FROM pg_roles "
                "WHERE rolname = session_user"
            )
        ).one()
    )  # type: ignore[return-value]


def _refuse_unless_admin(connection: Connection, doing: str) -> None:
    login, superuser, createrole = _caller(connection)
    if not (superuser or createrole):
        raise NotPermitted(
            f"role {login!r} may not {doing} (only an admin or a superuser "
            "may); ask an administrator"
        )


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)


def _exists(connection: Connection, name: str) -> bool:
    return (
        connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
        is not None
    )


def _create_groups(connection: Connection) -> None:
    for name in (OWNER_ROLE, *GROUPS.values()):
        if not _exists(connection, name):
            inherit = " NOINHERIT" if name == GROUPS["admin"] else ""
            connection.execute(text(f"CREATE ROLE {name} NOLOGIN{inherit}"))
    for member, group in (("recorder", "reader"), ("editor", "recorder")):
        connection.execute(text(f"GRANT {GROUPS[group]} TO {GROUPS[member]}"))
    connection.execute(text(f"GRANT {OWNER_ROLE} TO {GROUPS['admin']}"))


def _owned(connection: Connection) -> bool:
    return (
        connection.execute(
            text(
                "SELECT pg_get_userbyid(relowner) = :owner FROM pg_class "
                "WHERE oid = to_regclass('event')"
            ),
            {"owner": OWNER_ROLE},
        ).scalar()
        is True
    )


def _tables(connection: Connection) -> list[str]:
    return list(
        connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
        ).scalars()
    )


def _schema(connection: Connection) -> str:
    return connection.execute(text("SELECT current_schema()")).scalar_one()


def _apply(connection: Connection) -> None:
    """Owner, grants and default privileges, in this database (idempotent)."""
    tables = _tables(connection)
    if "event" not in tables:
        raise LedgerError("this database holds no ledger; run `ledger init URL` first")
    if not _owned(connection):
        for table in tables:
            connection.execute(
                text(f"ALTER TABLE {_quote(connection, table)} OWNER TO {OWNER_ROLE}")
            )
        for function in _FUNCTIONS:
            if connection.execute(text("SELECT to_regprocedure(:f)"), {"f": function}).scalar():
                connection.execute(text(f"ALTER FUNCTION {function} OWNER TO {OWNER_ROLE}"))
    # Migrations create tables and functions as the owner.
    if not connection.execute(
        text("SELECT has_schema_privilege(:owner, current_schema(), 'CREATE')"),
        {"owner": OWNER_ROLE},
    ).scalar():
        connection.execute(
            text(
                f"GRANT USAGE, CREATE ON SCHEMA {_quote(connection, _schema(connection))} "
                f"TO {OWNER_ROLE}"
            )
        )
    # Grants made by the owner itself, so an admin re-running this needs no superuser.
    connection.execute(text(f"SET LOCAL ROLE {OWNER_ROLE}"))
    names = ", ".join(_quote(connection, t) for t in tables)
    records = ", ".join(_quote(connection, t) for t in tables if t not in _NOT_RECORDS)
    reader, recorder = GROUPS["reader"], GROUPS["recorder"]
    for statement in (
        f"REVOKE ALL ON {names} FROM PUBLIC",
        f"GRANT SELECT ON {names} TO {reader}",
        f"GRANT INSERT ON event, checkpoint TO {recorder}",
        f"GRANT INSERT, UPDATE, DELETE ON {records} TO {recorder}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER_ROLE} GRANT SELECT ON TABLES TO {reader}",
    ):
        connection.execute(text(statement))
    for sequence in connection.execute(
        text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
    ).scalars():
        connection.execute(
            text(
                f"GRANT USAGE, SELECT, UPDATE ON SEQUENCE "
                f"{_quote(connection, sequence)} TO {recorder}"
            )
        )
    connection.execute(text("RESET ROLE"))


def setup(engine: Engine) -> list[Holder]:
    """Make the ledger's roles and grants (idempotent); who holds which role."""
    _require_postgres(engine)
    with engine.begin() as connection:
        _refuse_unless_admin(connection, "set up the ledger's roles")
        _create_groups(connection)
        _apply(connection)
    return holders(engine)


def holders(engine: Engine) -> list[Holder]:
    """Every login that holds a ledger role, with the role (an admin shows as admin)."""
    _require_postgres(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT m.rolname::text, substr(g.rolname, 8) FROM pg_auth_members a "
                "JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles m ON m.oid = a.member "
                "WHERE g.rolname = ANY(:groups) AND m.rolname <> ALL(:groups) "
                "AND m.rolname <> :owner ORDER BY 1"
            ),
            {"groups": list(GROUPS.values()), "owner": OWNER_ROLE},
        ).all()
    held: dict[str, set[str]] = {}
    for login, role in rows:
        held.setdefault(login, set()).add(role)
    order = ("admin", *LEDGER_ROLES)
    return [Holder(login, next(r for r in order if r in roles)) for login, roles in held.items()]


def grant(engine: Engine, *, login: str, role: str) -> bool:
    """Give `login` the ledger role `role` in place of any other; True when the login role
    was created (with no password: authentication is the server's pg_hba.conf)."""
    _require_postgres(engine)
    if role not in ROLES:
        raise InvalidValue(f"--as {role!r}: the roles are {', '.join(ROLES)}")
    _check_login(login)
    with engine.begin() as connection:
        _refuse_unless_admin(connection, "grant roles")
        _create_groups(connection)
        _apply(connection)
        created = not _exists(connection, login)
        quoted = _quote(connection, login)
        if created:
            connection.execute(text(f"CREATE ROLE {quoted} LOGIN"))
        elif connection.execute(
            text("SELECT rolsuper FROM pg_roles WHERE rolname = :n"), {"n": login}
        ).scalar():
            raise Conflict(
                f"{login!r} is a superuser: it can do anything already, a ledger "
                "role would change nothing"
            )
        _drop_groups(connection, quoted)
        connection.execute(text(f"GRANT {GROUPS[role]} TO {quoted}"))
        if role == "admin":
            connection.execute(text(f"GRANT {GROUPS['reader']} TO {quoted}"))
            connection.execute(text(f"ALTER ROLE {quoted} CREATEROLE"))
    return created


def revoke(engine: Engine, *, login: str) -> str | None:
    """Take every ledger role from `login` (the login role itself stays); the role it held."""
    _require_postgres(engine)
    _check_login(login)
    before = next((h.role for h in holders(engine) if h.login == login), None)
    with engine.begin() as connection:
        _refuse_unless_admin(connection, "revoke roles")
        if not _exists(connection, login):
            raise NotFound(f"there is no login role {login!r}")
        quoted = _quote(connection, login)
        _drop_groups(connection, quoted)
        if before == "admin":
            connection.execute(text(f"ALTER ROLE {quoted} NOCREATEROLE"))
    return before


def _drop_groups(connection: Connection, quoted: str) -> None:
    for group in GROUPS.values():
        if _exists(connection, group):
            connection.execute(text(f"REVOKE {group} FROM {quoted}"))


def _check_login(login: str) -> None:
    if not _LOGIN.fullmatch(login) or login == OWNER_ROLE or login in GROUPS.values():
        raise InvalidValue(
            f"{login!r} is not a login role name this ledger grants to (letters, "
            "digits, _ . @ -; not one of the ledger's own roles)"
        )
