"""Who may do what, and who did it: PostgreSQL roles, the database-named actor, the guards.

On a throwaway cluster, one login of each kind (alice reader, rita recorder, eddie editor,
adam admin) connects by the URL's user (the cluster trusts loopback). Each command is allowed
or refused as docs/integrity.md's role table says, and raw SQL that bypasses the ledger is
refused by the database itself. SQLite has no roles: its file's mode is its access control.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import psycopg
import pytest

from ledger.chain import GENESIS, event_hash
from ledger.db import HEAD_REVISION

from conftest import Cli

LOGINS = {"reader": "alice", "recorder": "rita", "editor": "eddie", "admin": "adam"}


@pytest.fixture
def pg_db(pg_cluster, pg_template) -> str:
    """A fresh migrated PostgreSQL ledger (its URL as the superuser), its roles not set up."""
    name = pg_cluster.new_database_name()
    with pg_cluster._admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield pg_cluster.url(name).replace("postgresql+psycopg://", "postgresql://")
    import conftest

    conftest._dispose_engines()
    pg_cluster.drop_database(name)


@pytest.fixture
def newsroom(pg_db: str, capsys) -> dict[str, Cli]:
    """The ledger with its roles set up and one login of each kind; a CLI per login (and
    "postgres", the superuser who set it up)."""
    su = Cli(pg_db, capsys)
    su.ok("--actor", "postgres", "person", "add", "Han Dong")  # no on_behalf: 0006 holds it
    su.ok("db", "roles")
    for role, login in LOGINS.items():
        su.ok("db", "grant", login, "--as", role)
    clis = {login: Cli(_as(pg_db, login), capsys) for login in LOGINS.values()}
    clis["postgres"] = su
    return clis


def _as(url: str, login: str) -> str:
    return url.replace("://postgres@", f"://{login}@")


def _connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url)


def _events(cli: Cli) -> list[dict]:
    return cli.json("log", "--limit", "1000")


pg = pytest.mark.postgres


@pg
def test_roles_lists_who_holds_what_and_is_idempotent(newsroom) -> None:
    result = newsroom["postgres"].ok("db", "roles")
    lines = result.out.splitlines()
    assert lines[0].startswith("Roles ready: ledger_owner (owns the tables)")
    held = {line.split()[0]: line.split()[1] for line in lines[2:]}
    assert {login: held[login] for login in LOGINS.values()} == {
        login: role for role, login in LOGINS.items()
    }
    assert newsroom["adam"].ok("db", "roles").out == result.out  # an admin may run it again


@pg
def test_a_reader_reads_and_may_not_record(newsroom) -> None:
    alice = newsroom["alice"]
    before = _events(newsroom["postgres"])
    result = alice("claim", "add", "Dong met a consul", "--about", "Han Dong")
    assert result.code == 1
    assert result.err == ("Error: role 'alice' may not record (reader); ask an administrator\n")
    assert _events(newsroom["postgres"]) == before
    assert "Han Dong" in alice.ok("person", "list").out
    alice.ok("verify")
    refused = alice("person", "add", "Someone Else")
    assert refused.code == 1 and refused.err.startswith("Error: role 'alice' may not record")


@pg
def test_a_recorder_records_but_may_not_merge_or_retract(newsroom) -> None:
    rita = newsroom["rita"]
    rita.ok("claim", "add", "Dong met a consul", "--about", "Han Dong")
    rita.ok("person", "add", "Han Dong Jr")
    before = _events(newsroom["postgres"])
    merge = rita("person", "merge", "Han Dong", "Han Dong Jr")
    assert (merge.code, merge.err) == (
        1,
        "Error: role 'rita' may not merge people (recorder); ask an editor\n",
    )
    retract = rita("claim", "retract", "1", "--reason", "wrong")
    assert (retract.code, retract.err) == (
        1,
        "Error: role 'rita' may not retract claims (recorder); ask an editor\n",
    )
    for args in (("db", "grant", "mallory", "--as", "editor"), ("db", "revoke", "eddie")):
        refused = rita(*args)
        assert refused.code == 1 and refused.err.startswith("Error: role 'rita' may not")
        assert "Traceback" not in refused.err
    assert _events(newsroom["postgres"]) == before


@pg
def test_an_editor_merges_and_retracts(newsroom) -> None:
    eddie = newsroom["eddie"]
    eddie.ok("claim", "add", "Dong met a consul", "--about", "Han Dong")
    eddie.ok("person", "add", "H. Dong")
    eddie.ok("person", "merge", "Han Dong", "H. Dong")
    eddie.ok("claim", "retract", "1", "--reason", "the source withdrew it")
    actions = [(e["actor"], e["action"]) for e in _events(eddie)[:3]]
    assert ("eddie", "retract") in actions and ("eddie", "merge") in actions
    eddie.ok("verify")


@pg
def test_an_admin_manages_roles_and_migrates_but_does_not_record(newsroom, pg_db) -> None:
    adam = newsroom["adam"]
    refused = adam("claim", "add", "Dong met a consul", "--about", "Han Dong")
    assert refused.code == 1 and refused.err.startswith("Error: role 'adam' may not record (admin)")
    adam.ok("db", "grant", "rosa", "--as", "recorder")
    assert "rosa" in adam.ok("db", "roles").out
    revoked = adam.ok("db", "revoke", "rosa").out
    assert revoked == "rosa no longer holds a ledger role (was recorder)\n"
    # Migrations: down as the superuser, up again as the admin, who becomes ledger_owner.
    newsroom["postgres"].ok(
        "--actor", "postgres", "claim", "add", "Dong met a consul", "--about", "Han Dong"
    )
    from ledger import db

    engine = db.make_engine(db.database_url(pg_db))
    db.downgrade(engine, "0006")
    engine.dispose()
    upgraded = adam.ok("db", "upgrade").out
    assert upgraded.startswith(f"Upgraded the schema from 0006 to {HEAD_REVISION}")
    adam.ok("db", "check")
    adam.ok("verify")
    with _connect(_as(pg_db, "rita")) as connection:
        owner = connection.execute(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'event'"
        ).fetchone()
    assert owner == ("ledger_owner",)
    newsroom["rita"].ok("claim", "add", "After the upgrade", "--about", "Han Dong")


@pg
def test_the_actor_is_the_login_whatever_actor_says(newsroom) -> None:
    rita = newsroom["rita"]
    rita.ok(
        "--actor", "Jane at the desk", "claim", "add", "Dong met a consul", "--about", "Han Dong"
    )
    rita.ok("--actor", "rita", "person", "add", "Someone Else")
    newest, previous = _events(rita)[:2]
    assert (previous["actor"], previous["on_behalf"]) == ("rita", "Jane at the desk")
    assert newest["actor"] == "rita" and "on_behalf" not in newest
    assert "rita for Jane at the desk" in rita.ok("log", "--limit", "2").out
    rita.ok("verify")


def _raw_event(
    connection: psycopg.Connection,
    *,
    actor: str,
    action: str = "add",
    prev: str | None = None,
    hash_: str | None = None,
    seq: int | None = None,
    on_behalf: str | None = None,
) -> None:
    head = connection.execute("SELECT seq, hash FROM event ORDER BY seq DESC LIMIT 1").fetchone()
    last, head_hash = head if head else (0, GENESIS)
    seq = last + 1 if seq is None else seq
    prev = head_hash if prev is None else prev
    state = json.dumps({"name": "Forged Person"}, separators=(",", ":"), sort_keys=True)
    at = "2030-01-01T00:00:00.000000Z"
    digest = hash_ or event_hash(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        entity="person",
        uid="f" * 32,
        state=state,
        prev=prev,
        on_behalf=on_behalf,
    )
    connection.execute(
        "INSERT INTO event (seq, at, actor, on_behalf, action, entity, uid, state, prev_hash, "
        "hash) VALUES (%s, %s, %s, %s, %s, 'person', %s, %s, %s, %s)",
        (seq, at, actor, on_behalf, action, "f" * 32, state, prev, digest),
    )


def _refused(url: str, work, match: str) -> None:
    with _connect(url) as connection:
        with pytest.raises(psycopg.Error, match=match):
            work(connection)
            connection.commit()
        connection.rollback()


@pg
def test_a_raw_event_is_checked_by_the_database(newsroom, pg_db) -> None:
    rita = _as(pg_db, "rita")
    before = _events(newsroom["postgres"])
    _refused(rita, lambda c: _raw_event(c, actor="rita", hash_="0" * 64), "does not match its hash")
    _refused(rita, lambda c: _raw_event(c, actor="rita", prev="a" * 64), "does not follow the head")
    _refused(rita, lambda c: _raw_event(c, actor="rita", seq=5), "is out of order")
    _refused(rita, lambda c: _raw_event(c, actor="eddie"), "does not match its hash")
    _refused(
        rita,
        lambda c: _raw_event(c, actor="rita", action="merge"),
        "role rita may not merge people",
    )
    assert _events(newsroom["postgres"]) == before
    # A well-formed event passes the trigger (verify then finds it has no record: that is
    # verify's job, the trigger keeps the chain).
    with _connect(rita) as connection:
        _raw_event(connection, actor="rita", on_behalf="the desk")
        _raw_event(connection, actor="rita")  # after the first: the head moved with it
        connection.rollback()
    assert _events(newsroom["postgres"]) == before


@pg
def test_a_recorder_cannot_rewrite_the_log_or_its_guards(newsroom, pg_db) -> None:
    rita = _as(pg_db, "rita")
    for statement, match in [
        ("UPDATE event SET actor = 'mallory'", "permission denied"),
        ("DELETE FROM event", "permission denied"),
        ("TRUNCATE event", "permission denied"),
        ("DROP TRIGGER ledger_event_check ON event", "must be owner"),
        ("DROP TRIGGER ledger_change_has_event ON claim", "must be owner"),
        ("ALTER TABLE event DISABLE TRIGGER ALL", "must be owner"),
        ("ALTER TABLE claim ADD COLUMN sneaky text", "must be owner"),
        (
            "CREATE OR REPLACE FUNCTION ledger_event_check() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RETURN NEW; END $$",
            "must be owner|permission denied",
        ),
    ]:
        _refused(rita, lambda c, s=statement: c.execute(s), match)
    newsroom["postgres"].ok("db", "check")


@pg
def test_a_table_change_without_its_event_is_refused(newsroom, pg_db) -> None:
    rita = newsroom["rita"]
    rita.ok("claim", "add", "Dong met a consul", "--about", "Han Dong")
    for statement in (
        "UPDATE claim SET statement = 'Dong did not meet a consul'",
        "UPDATE person SET name = 'Han Dung'",
        "DELETE FROM claim_person",
        "INSERT INTO person_alias (person_id, name, name_key) VALUES (1, 'Dongy', 'dongy')",
    ):
        _refused(_as(pg_db, "rita"), lambda c, s=statement: c.execute(s), "has no event")
    rita.ok("verify")
    assert "Dong met a consul" in rita.ok("claim", "list").out
    # Through the ledger the same changes carry their events and pass.
    rita.ok("claim", "edit", "1", "--statement", "Dong is said to have met a consul")
    rita.ok("person", "edit", "Han Dong", "--add-alias", "Dongy")
    rita.ok("verify")


@pg
def test_a_recorder_imports_and_recaptures(pg_db, capsys, tmp_path) -> None:
    """The bulk import and a source's new capture (quotes re-checked) carry every change's
    event, so the deferred check passes them."""
    su = Cli(pg_db, capsys)
    su.ok("db", "grant", "rita", "--as", "recorder")
    rita = Cli(_as(pg_db, "rita"), capsys)
    rita.ok("import", str(Path(__file__).parent.parent / "ledger" / "examples" / "story.jsonl"))
    key = rita.json("source", "list")[0]["key"]
    text = tmp_path / "capture.txt"
    text.write_text("A new capture of the page, without the old quotes.\n")
    rita.ok("source", "edit", key, "--text-file", str(text))
    rita.ok("verify")
    assert {e["actor"] for e in _events(rita)} == {"rita"}


@pg
def test_a_refusal_is_one_error_line(newsroom, pg_db, capsys) -> None:
    """A refusal only the database makes (the CLI has no role to pre-check: a login that
    holds no ledger role) reaches the user as one line, exit 1."""
    newsroom["postgres"].ok("db", "grant", "nobody", "--as", "reader")
    newsroom["postgres"].ok("db", "revoke", "nobody")
    nobody = Cli(_as(pg_db, "nobody"), capsys)
    result = nobody("person", "list")
    assert result.code == 1
    assert result.err.count("\n") == 1 and result.err.startswith("Error: ")
    assert "permission denied" in result.err and "Traceback" not in result.err
    result = nobody("person", "add", "Someone")
    assert result.code == 1 and result.err.count("\n") == 1
    assert "permission denied" in result.err


@pg
def test_postgres_escapes_json_strings_as_python_does(pg_db) -> None:
    """The trigger rebuilds the hashed body with to_json(text); Python with
    encode_basestring. Every code point PostgreSQL's text can hold (all but NUL and the
    surrogates) must come out the same."""
    encode = json.encoder.encode_basestring
    with _connect(pg_db) as connection:
        for start in range(1, 0x110000, 0x10000):
            chars = "".join(
                chr(c)
                for c in range(start, min(start + 0x10000, 0x110000))
                if not 0xD800 <= c <= 0xDFFF
            )
            (escaped,) = connection.execute("SELECT to_json(%s::text)::text", (chars,)).fetchone()
            assert escaped == encode(chars), f"code points from U+{start:04X} differ"


def test_migration_carries_an_old_ledger_forward(db: str, cli) -> None:
    """A ledger with events at schema 0006 (before on_behalf) upgrades and still verifies."""
    from ledger import db as ledger_db

    # The login is "tester" on PostgreSQL, as the actor: no on_behalf, which 0006 cannot hold.
    cli.ok("import", str(Path(__file__).parent.parent / "ledger" / "examples" / "story.jsonl"))
    head = cli.json("verify")
    engine = ledger_db.make_engine(ledger_db.database_url(db))
    ledger_db.downgrade(engine, "0006")
    ledger_db.upgrade(engine)
    engine.dispose()
    cli.ok("db", "check")
    assert cli.json("verify") == head


# --- SQLite: the file's permissions are the access control ------------------------------


@pytest.mark.parametrize(
    "args", [("db", "roles"), ("db", "grant", "alice", "--as", "reader"), ("db", "revoke", "alice")]
)
def test_sqlite_has_no_roles(tmp_path: Path, capsys, args) -> None:
    from conftest import new_ledger

    cli = Cli(new_ledger(tmp_path / "l.db"), capsys)
    result = cli(*args)
    assert result.code == 1
    assert result.err.startswith(
        "Error: a SQLite ledger has no roles: its access control is "
        "the file's permissions (`ledger init --mode 0600`"
    )


@pytest.mark.parametrize(("mode", "expected"), [(None, 0o600), ("0600", 0o600), ("0640", 0o640)])
def test_init_makes_the_file_with_its_mode_whatever_the_umask(
    tmp_path, capsys, mode, expected
) -> None:
    path = tmp_path / "newsroom.db"
    old = os.umask(0)
    try:
        cli = Cli(str(path), capsys)
        args = ("init", str(path)) + (("--mode", mode) if mode else ())
        created = f"Created a ledger at schema {HEAD_REVISION}, file mode {expected:04o}\n"
        assert cli.ok(*args).out == created
        cli.ok("person", "add", "Han Dong")
    finally:
        os.umask(old)
    for file in (path, path.with_name("newsroom.db-wal"), path.with_name("newsroom.db-shm")):
        if file.exists():
            assert stat.S_IMODE(file.stat().st_mode) == expected, file


def test_init_mode_refuses_other_modes_and_changes_an_existing_ledger(tmp_path, capsys) -> None:
    path = tmp_path / "newsroom.db"
    cli = Cli(str(path), capsys)
    bad = cli("init", str(path), "--mode", "0644")
    assert bad.code == 2 and bad.err.startswith("Error: --mode '0644': a ledger file is 0600")
    assert not path.exists()
    cli.ok("init", str(path))
    assert cli.ok("init", str(path), "--mode", "0640").out.endswith("file mode set to 0640\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pg
def test_init_mode_is_for_sqlite(pg_db, capsys) -> None:
    result = Cli(pg_db, capsys)("init", pg_db, "--mode", "0600")
    assert result.code == 1 and "access control is its roles" in result.err


def test_on_behalf_is_hashed() -> None:
    """An event's on_behalf is part of its hash; without one the hash is the old one."""
    fields = dict(
        seq=1,
        at="2023-03-22T00:00:00.000000Z",
        actor="rita",
        action="add",
        entity="person",
        uid="a" * 32,
        state='{"name":"Han Dong"}',
        prev=GENESIS,
    )
    plain = event_hash(**fields)
    assert event_hash(**fields, on_behalf=None) == plain
    signed = event_hash(**fields, on_behalf="Jane")
    assert signed not in (plain, event_hash(**fields, on_behalf="June"))


@pg
def test_db_check_reports_a_disabled_guard(pg_db, capsys) -> None:
    su = Cli(pg_db, capsys)
    with _connect(pg_db) as connection:
        connection.execute("ALTER TABLE claim DISABLE TRIGGER ledger_change_has_event")
        connection.execute("DROP TRIGGER ledger_event_check ON event")
    result = su("db", "check")
    assert result.code == 1
    assert "trigger ledger_change_has_event on claim is disabled" in result.err
    assert "trigger ledger_event_check on event is missing" in result.err


@pg
def test_the_second_pair_of_eyes_is_the_login_whatever_actor_says(newsroom) -> None:
    """Issue 18's rule on a shared ledger: the approver is the database-named login, so a
    recorder cannot approve its own claim by declaring someone else with --actor."""
    rita, eddie = newsroom["rita"], newsroom["eddie"]
    rita.ok("--actor", "Desk Intern", "claim", "add", "Dong met a consul", "--about", "Han Dong")
    before = _events(newsroom["postgres"])
    refused = rita("--actor", "Chief Editor", "review", "approve", "1")
    assert refused.code == 1
    assert refused.err.startswith("Error: a second pair of eyes: rita recorded or changed claim 1")
    assert _events(newsroom["postgres"]) == before
    eddie.ok("review", "approve", "1")
    approval = _events(newsroom["postgres"])[0]
    assert (approval["action"], approval["actor"]) == ("approve", "eddie")
