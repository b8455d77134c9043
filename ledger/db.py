"""Engine, transactions and migrations, for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout, and every write transaction
begins IMMEDIATE so concurrent writers queue instead of failing. On PostgreSQL a write
transaction takes one advisory lock first, so appends to the event chain are serialized there
too. Migrations (alembic, in `migrations/`) are the only way the schema is made; a new SQLite
ledger replays the schema they leave, recorded in `sqlite_schema.sql` (see `create_sqlite`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.errors import LedgerError, NotPermitted, ReadOnly, SchemaMismatch

if TYPE_CHECKING:
    import sqlite3

    from alembic.config import Config
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

# SQLAlchemy is imported inside the functions that use it: creating a new SQLite ledger
# (`create_sqlite`) needs only the standard library, and `ledger init` stays fast.

# The newest migration. A test checks it against alembic's head, so the everyday path can
# compare revisions without importing alembic.
HEAD_REVISION = "0010"
DEFAULT_DB = "ledger.db"
# Any constant: the key of the PostgreSQL advisory lock that serializes writers.
_PG_WRITE_LOCK = 0x1ED6E5


def database_url(db: str | None) -> str:
    """The SQLAlchemy URL for `--db`: a file path (SQLite) or a URL (PostgreSQL, SQLite)."""
    value = db or os.environ.get("LEDGER_DB") or DEFAULT_DB
    if value.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    if "://" in value:
        if not value.startswith(("sqlite:", "postgresql+psycopg://")):
            from ledger.errors import InvalidValue

            scheme = value.split("://", 1)[0]
            raise InvalidValue(f"--db: {scheme}:// is not a supported database; the ledger runs "
                               "on SQLite (a file path, or sqlite:///PATH) and PostgreSQL "
                               "(postgresql://USER@HOST/NAME)")
        return value
    return f"sqlite:///{Path(value).expanduser()}"


def sqlite_path(url: str) -> Path | None:
    """The database file behind a SQLite URL, or None for other backends and memory."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    return Path(path) if path and path != ":memory:" else None


def read_only_path(url: str) -> Path | None:
    """The SQLite file behind `url` when this process cannot write it (the file, or its
    folder, which SQLite needs for its journal), else None."""
    path = sqlite_path(url)
    if path is None or not path.is_file():
        return None
    folder = path.parent if str(path.parent) else Path(".")
    return None if os.access(path, os.W_OK) and os.access(folder, os.W_OK) else path


def _read_only_uri(path: Path) -> str:
    from urllib.request import pathname2url

    # A ledger in WAL mode needs its -shm file beside it; in a folder nobody may write,
    # only `immutable` opens it (nothing can write it meanwhile: nobody may).
    wal = path.with_name(path.name + "-wal").exists() or _is_wal(path)
    folder_writable = os.access(path.parent if str(path.parent) else Path("."), os.W_OK)
    flag = "mode=ro" if folder_writable or not wal else "immutable=1"
    return f"file:{pathname2url(str(path.resolve()))}?{flag}"


def _is_wal(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            header = handle.read(20)
    except OSError:
        return False
    return len(header) == 20 and header[18] == 2  # file format versions: 2 means WAL


def make_engine(url: str) -> Engine:
    """An engine with the ledger's connection settings for its backend.

    A SQLite file this process cannot write is opened read-only (`mode=ro`, or `immutable`
    for a WAL ledger in a read-only folder): every read works, and a write says why not.
    """
    from sqlalchemy import create_engine, event

    read_only = read_only_path(url) if url.startswith("sqlite") else None
    if read_only is not None:
        import sqlite3

        uri = _read_only_uri(read_only)
        engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(
            uri, uri=True, timeout=60, isolation_level=None, check_same_thread=False))
        engine.ledger_read_only = read_only  # type: ignore[attr-defined]
        event.listen(engine, "connect", _sqlite_connect_read_only)
        event.listen(engine, "begin", _sqlite_begin)
    elif url.startswith("sqlite"):
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


def _sqlite_connect_read_only(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 60000")
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
    transaction appends. A ledger opened read-only (see `make_engine`) refuses at once. On
    PostgreSQL the database names the actor (the login role, `session_user`) and `actor`
    becomes "on behalf of" when it names someone else; once the ledger's roles are set up
    (`ledger db roles`), a login that may not record is refused at once.
    """
    from sqlmodel import Session

    read_only = getattr(engine, "ledger_read_only", None)
    if read_only is not None:
        raise ReadOnly(f"the ledger {str(read_only)!r} is read-only here (the file or its "
                       "folder cannot be written); reads work. To change it, make it writable "
                       "(chmod u+w) or work on a writable copy")
    with engine.connect() as connection:
        connection.execution_options(ledger_write=True)
        with Session(bind=connection, autoflush=False, expire_on_commit=False) as session:
            session.info.update(actor=actor, clock=clock)
            if connection.dialect.name == "postgresql":
                _name_the_actor(session, declared=actor)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


# The ledger's group roles on PostgreSQL (see `ledger.store.roles`), strongest first, and the
# role that owns the tables, triggers and functions.
LEDGER_ROLES = ("editor", "recorder", "admin", "reader")
OWNER_ROLE = "ledger_owner"

_WHO = (
    "SELECT session_user::text, r.rolsuper, "
    "(SELECT pg_get_userbyid(c.relowner) FROM pg_class c WHERE c.oid = to_regclass('event')) "
    f"= '{OWNER_ROLE}', "
    "ARRAY(SELECT substr(g.rolname, 8) FROM pg_roles g WHERE g.rolname = ANY(:groups) "
    "AND pg_has_role(session_user, g.oid, 'MEMBER')) "
    "FROM pg_roles r WHERE r.rolname = session_user"
)


def login_role(session: Session) -> tuple[str, str | None]:
    """The PostgreSQL login and its ledger role: "superuser", one of `LEDGER_ROLES`, "no
    ledger role", or None when the ledger's roles are not set up in this database."""
    from sqlalchemy import text

    login, superuser, guarded, held = session.connection().execute(
        text(_WHO), {"groups": [f"ledger_{name}" for name in LEDGER_ROLES]}).one()
    if superuser:
        return login, "superuser"
    if not guarded:
        return login, None
    return login, next((name for name in LEDGER_ROLES if name in held), "no ledger role")


def _name_the_actor(session: Session, *, declared: str) -> None:
    login, role = login_role(session)
    session.info.update(actor=login, on_behalf=None if declared == login else declared,
                        login=login, ledger_role=role)
    if role not in (None, "superuser", "recorder", "editor"):
        whom = ("connect as a recorder or an editor" if role == "admin"
                else "ask an administrator")
        raise NotPermitted(f"role {login!r} may not record ({role}); {whom}")


def require_editor(session: Session, *, doing: str) -> None:
    """Refuse what only an editor may do (`doing`: "merge people") for a login that is not
    one; the database's trigger refuses the event too, this says it plainly first."""
    role = session.info.get("ledger_role")
    if role not in (None, "superuser", "editor"):
        raise NotPermitted(f"role {session.info['login']!r} may not {doing} ({role}); "
                           "ask an editor")


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A read-only session; nothing it does is committed."""
    from sqlmodel import Session

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
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import OperationalError, ProgrammingError

    with engine.connect() as connection:
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            revisions = list(rows)
            if not revisions and set(inspect(connection).get_table_names()) <= {
                    "alembic_version"}:
                return None  # migrated down to nothing
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
    return _one_revision(revisions)


def _one_revision(revisions: list[str]) -> str:
    """The one revision alembic_version must hold, or why it does not make sense."""
    if len(revisions) != 1:
        held = "no revision" if not revisions else f"{len(revisions)} revisions"
        raise SchemaMismatch(f"the ledger's alembic_version table holds {held} "
                             f"({', '.join(map(repr, revisions)) or 'empty'}); it was edited "
                             "outside the ledger. Restore the ledger from a backup")
    revision = revisions[0]
    if revision not in known_revisions():
        raise SchemaMismatch(f"the ledger is at schema {revision!r}, which this version does not "
                             f"know (it knows {', '.join(known_revisions())}): a newer version of "
                             "the ledger made it, or it was edited, and `ledger db upgrade` "
                             "cannot migrate it; upgrade the ledger software, or restore it "
                             "from a backup")
    return revision


def known_revisions() -> list[str]:
    """Every migration's revision id, from the shipped scripts' names (NNNN_*.py)."""
    return sorted(path.name.split("_", 1)[0] for path in (migrations_dir() / "versions").glob(
        "[0-9][0-9][0-9][0-9]_*.py"))


def assume_owner(connection) -> None:
    """Migrate as the tables' owner on a PostgreSQL ledger whose roles are set up (an admin
    may become `ledger_owner`), for this transaction only, so what a migration makes is owned
    by the owner too."""
    if connection.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    owner = connection.execute(text(
        "SELECT CASE WHEN pg_get_userbyid(relowner) = :owner "
        "THEN pg_has_role(session_user, :owner, 'MEMBER') END "
        "FROM pg_class WHERE oid = to_regclass('event')"), {"owner": OWNER_ROLE}).scalar()
    if owner:
        connection.execute(text(f"SET LOCAL ROLE {OWNER_ROLE}"))


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the schema up to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the schema down to `revision` ("base" for empty)."""
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


# --- a new SQLite ledger, without running the migrations -----------------------------------

# The schema the migrations leave on SQLite, recorded statement by statement from a migrated
# ledger: the models' tables as the migrations made them, and what the migrations add beyond the
# models (the append-only and search triggers, the FTS5 tables), in one place. Replaying it takes
# milliseconds; running the migrations takes a second or more. tests/test_fast_init.py checks
# that a ledger made from it equals a migrated one exactly (sqlite_master compared) and that it
# is at HEAD_REVISION; it rewrites the file with --update-golden after a new migration. Until
# then a new ledger is made by the migrations, so a stale recording is only ever slower.
SQLITE_SCHEMA = Path(__file__).with_name("sqlite_schema.sql")
_FTS5_SHADOWS = ("_config", "_content", "_data", "_docsize", "_idx")


def recorded_sqlite_schema() -> tuple[str | None, list[str]]:
    """The revision the recorded SQLite schema is at and its statements, in creation order."""
    import sqlite3

    revision, statements, pending = None, [], ""
    for line in SQLITE_SCHEMA.read_text(encoding="utf-8").splitlines(keepends=True):
        if not pending and line.startswith("-- revision "):
            revision = line.split()[2]
        elif pending or line.strip():
            pending += line
            if sqlite3.complete_statement(pending):
                statements.append(pending.strip().removesuffix(";"))
                pending = ""
    return revision, statements


def sqlite_schema_statements(connection: sqlite3.Connection) -> list[str]:
    """Every statement that makes this SQLite database's schema, in creation order: tables,
    indexes, triggers and virtual tables (the tables FTS5 makes for itself and SQLite's own
    indexes are made by those statements, so they are left out)."""
    rows = connection.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid").fetchall()
    virtual = [name for kind, name, sql in rows
               if kind == "table" and sql.upper().startswith("CREATE VIRTUAL TABLE")]
    shadows = {name + suffix for name in virtual for suffix in _FTS5_SHADOWS}
    return [sql for _kind, name, sql in rows if name not in shadows]


def write_sqlite_schema(connection: sqlite3.Connection, revision: str) -> None:
    """Record the schema of `connection` (a ledger just migrated to `revision`) in
    SQLITE_SCHEMA."""
    statements = sqlite_schema_statements(connection)
    SQLITE_SCHEMA.write_text(
        f"-- revision {revision}\n"
        "-- The schema the migrations leave on SQLite (see ledger.db.SQLITE_SCHEMA). Generated:\n"
        "-- pytest tests/test_fast_init.py --update-golden\n\n"
        + "".join(f"{sql};\n\n" for sql in statements),
        encoding="utf-8",
    )


def create_sqlite(path: Path, *, mode: int = 0o600) -> bool:
    """Make a new SQLite ledger at `path` from the recorded schema, stamped at HEAD_REVISION;
    a new file gets exactly `mode` (see `create_ledger_file`).

    Returns False, having made nothing, when `path` is already a database with tables or the
    recording is not at HEAD_REVISION (the caller then runs the migrations). One IMMEDIATE
    transaction: a concurrent `ledger init` of the same file waits, then finds the tables.
    """
    import sqlite3

    if path.exists() and path.stat().st_size > 0:
        return False
    revision, statements = recorded_sqlite_schema()
    if revision != HEAD_REVISION:
        return False
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another `ledger init` made it just now
            create_ledger_file(path, mode)
    try:
        connection = sqlite3.connect(path, isolation_level=None, timeout=60)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("BEGIN IMMEDIATE")
            if connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                connection.execute("ROLLBACK")
                return False
            for sql in statements:
                connection.execute(sql)
            connection.execute(
                "INSERT INTO alembic_version (version_num) VALUES (?)", (HEAD_REVISION,)
            )
            connection.execute("COMMIT")
        finally:
            connection.close()  # uncommitted, the transaction is rolled back
    except sqlite3.Error as exc:
        raise LedgerError(f"cannot create the ledger at {path}: {exc}") from None
    return True


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


# The triggers the migrations make, as SQLite stores their SQL (compared with white space
# collapsed). They keep the event log append-only and the search index current; a missing or
# altered one is reported by `ledger db check`.
_APPEND_ONLY = "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END"
_SEARCHED = {"claim": ("statement",), "attribution": ("quote", "voice"),
             "response": ("quote", "summary"), "source": ("title", "text")}


def _sqlite_triggers() -> dict[str, str]:
    triggers = {
        "event_no_update": f"CREATE TRIGGER event_no_update BEFORE UPDATE ON event {_APPEND_ONLY}",
        "event_no_delete": f"CREATE TRIGGER event_no_delete BEFORE DELETE ON event {_APPEND_ONLY}",
        "event_no_replace": "CREATE TRIGGER event_no_replace BEFORE INSERT ON event WHEN EXISTS "
                            f"(SELECT 1 FROM event WHERE seq = new.seq) {_APPEND_ONLY}",
    }
    for table, columns in _SEARCHED.items():
        fts, names = f"search_{table}", ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        remove = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old});"
        add = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new});"
        triggers[f"{fts}_insert"] = (
            f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {add} END")
        triggers[f"{fts}_delete"] = (
            f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {remove} END")
        triggers[f"{fts}_update"] = (
            f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {names} ON {table} "
            f"BEGIN {remove} {add} END")
    return triggers


# The record tables whose changes PostgreSQL refuses without an event (migration 0009).
_GUARDED_TABLES = ("person", "person_alias", "source", "source_link", "claim", "claim_person",
                   "attribution", "response", "reply_request", "review")


def trigger_problems(engine: Engine) -> list[str]:
    """The triggers (and PostgreSQL search indexes) that are missing or altered; [] when all hold.

    SQLite: the append-only triggers on `event` and the search triggers. PostgreSQL: the
    append-only trigger on `event` (present, enabled, before UPDATE, DELETE and TRUNCATE, its
    function raising), the append check on `event` and the change-has-event trigger on each
    record table (present, enabled), and the search indexes.
    """
    from sqlalchemy import text

    problems: list[str] = []
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            found = dict(connection.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all())
            for name, sql in _sqlite_triggers().items():
                if name not in found:
                    problems.append(f"trigger {name} is missing")
                elif " ".join(found[name].split()) != sql:
                    problems.append(f"trigger {name} is altered: {' '.join(found[name].split())}")
            return problems
        row = connection.execute(text(
            "SELECT t.tgenabled, t.tgtype, p.prosrc FROM pg_trigger t "
            "JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = 'event'::regclass AND t.tgname = 'event_append_only'")).first()
        # tgtype bits: 1 row-level, 2 before, 8 delete, 16 update, 32 truncate.
        if row is None:
            problems.append("trigger event_append_only on event is missing")
        elif row[0] == "D":
            problems.append("trigger event_append_only on event is disabled")
        elif row[1] & 0b111011 != 0b111010 or "RAISE EXCEPTION" not in row[2]:
            problems.append("trigger event_append_only on event is altered")
        guards = dict(connection.execute(text(
            "SELECT c.relname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname IN ('ledger_event_check', 'ledger_change_has_event')")).all())
        for table in ("event", *_GUARDED_TABLES):
            name = "ledger_event_check" if table == "event" else "ledger_change_has_event"
            if table not in guards:
                problems.append(f"trigger {name} on {table} is missing")
            elif guards[table] == "D":
                problems.append(f"trigger {name} on {table} is disabled")
        indexes = set(connection.execute(text(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'search\\_%'")).scalars())
        problems.extend(f"search index search_{table}_tsv is missing" for table in _SEARCHED
                        if f"search_{table}_tsv" not in indexes)
    return problems


# Tables the models do not describe on purpose (full-text index tables, alembic's own).
UNMODELLED_TABLES = ("alembic_version",)
UNMODELLED_PREFIXES = ("search_",)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate filter: leave alone the tables the models do not describe on purpose."""
    if type_ in ("table", "index") and name is not None:
        return name not in UNMODELLED_TABLES and not name.startswith(UNMODELLED_PREFIXES)
    return True


# A SQLite ledger's permissions are its access control: you alone, or your group reading.
FILE_MODES = {"0600": 0o600, "0640": 0o640}


def ledger_file_mode(value: str | None) -> int:
    """The file mode `ledger init --mode` names (0600 when not given)."""
    if value is None:
        return 0o600
    if value not in FILE_MODES:
        from ledger.errors import InvalidValue

        raise InvalidValue(f"--mode {value!r}: a ledger file is 0600 (you alone) or 0640 (your "
                           "group may read it)")
    return FILE_MODES[value]


def create_ledger_file(path: Path, mode: int = 0o600) -> None:
    """Create an empty SQLite ledger file with exactly `mode`, whatever the umask (SQLite
    gives its -wal and -shm files the same permissions)."""
    descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode)
    try:
        os.fchmod(descriptor, mode)
    finally:
        os.close(descriptor)


def roles_set_up(engine: Engine) -> bool:
    """Whether a PostgreSQL ledger's tables belong to `ledger_owner` (`ledger db roles`)."""
    from sqlalchemy import text

    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT pg_get_userbyid(relowner) = :owner FROM pg_class "
            "WHERE oid = to_regclass('event')"), {"owner": OWNER_ROLE}).scalar() is True


def no_ledger(path: Path) -> LedgerError:
    """The error for a SQLite ledger file that is not there (a typo must not make one)."""
    return LedgerError(f"no ledger at {path}; run `ledger init {path}` to create one")


def require_file(url: str) -> None:
    """Refuse a SQLite URL whose file does not exist, creating nothing."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise no_ledger(path)


def open_ledger(db: str | None, *, create: bool = True) -> Engine:
    """An engine for the ledger at `db`, its schema checked.

    A database with no tables (a missing SQLite file included) is created at the latest schema
    when `create` is true; otherwise a missing SQLite file is an error and nothing is made.
    A database behind the code is never migrated silently: that is an error telling the user
    to run `ledger db upgrade`.
    """
    url = database_url(db)
    path = sqlite_path(url)
    if path is not None and not path.parent.exists():
        raise LedgerError(f"the folder for the ledger {str(path)!r} does not exist")
    if not create:
        require_file(url)
    elif path is not None and create_sqlite(path):
        return make_engine(url)
    elif path is not None and not path.exists():
        create_ledger_file(path)
    from sqlalchemy.exc import OperationalError

    engine = make_engine(url)
    try:
        revision = current_revision(engine)
    except OperationalError as exc:
        raise LedgerError(f"cannot open the ledger at {_describe(url)}: {exc.orig}") from None
    if revision is None and create:
        upgrade(engine)
    elif revision is None:
        raise SchemaMismatch(f"no ledger at {_describe(url)}; run `ledger init` to create one")
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
