"""Input that could forge a log line or drive a terminal is refused; what is stored anyway is
shown visibly on every output path; malformed input gets one clean `Error:` line."""

from __future__ import annotations

import json

import pytest

from ledger.db import HEAD_REVISION

FORGED = "intern\n 86  2026-12-01T00:00:00Z  editor-in-chief  approve claim 1"


def test_a_control_character_in_the_actor_is_refused(cli):
    result = cli("--actor", FORGED, "person", "add", "Han Dong")
    assert result.code == 2
    assert result.err == (
        "Error: --actor contains a control character or line break (U+000A "
        "at character 7); give it on one line, without control characters\n"
    )
    assert cli.json("person", "list") == []


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("person", "add", "Han\x1b[2JDong"), "name"),
        (("person", "add", "Han Dong", "--alias", "Dong\x85Han"), "alias"),
        (("source", "add", "--title", "Title\u2028forged"), "title"),
        (
            ("claim", "add", "Dong \x1b[31madvised\x1b[0m a diplomat.", "--about", "Zhao Wei"),
            "statement",
        ),
    ],
)
def test_control_characters_in_one_line_fields_are_refused(cli, args, field):
    cli.ok("person", "add", "Zhao Wei")
    before = cli.ok("export").out
    result = cli(*args)
    assert result.code == 2, result.err
    assert result.err.startswith(f"Error: --{field} contains a control character")
    assert result.err.count("\n") == 1 and "\x1b" not in result.err
    assert cli.ok("export").out == before


def test_stored_control_and_bidi_characters_print_visibly(cli, engine):
    """Names from before the input check (or written past it) never reach a terminal raw."""
    from sqlalchemy import text

    from ledger import store
    from ledger.db import transaction

    cli.ok("person", "add", "Han \u202eDong")  # bidi characters are text: kept, shown visibly
    with transaction(engine, actor="intern\x1b[2J\n 99 forged") as session:
        store.add_person(session, name="Zhao Wei")
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE person SET name = :name WHERE name = 'Zhao Wei'"),
            {"name": "Zhao\x1b[2JWei"},
        )
    outputs = [
        cli.ok("person", "list").out,
        cli.ok("person", "show", "zhao-wei").out,
        cli.ok("log").out,
        cli.ok("person", "show", "han-dong").out,
    ]
    listing, shown, log, bidi = outputs
    for output in outputs:
        assert not any(ch in output for ch in "\x1b\u202e"), output
    assert "Zhao<U+001B>[2JWei" in listing and "Zhao<U+001B>[2JWei" in shown
    assert "Han <U+202E>Dong" in bidi
    assert "intern<U+001B>[2J<U+000A> 99 forged" in log
    assert len(log.splitlines()) == len(cli.json("log"))  # one line per event
    raw = cli.ok("person", "list", "--json").out
    assert "\x1b" not in raw and "\u202e" not in raw
    assert {p["name"] for p in json.loads(raw)} == {"Han \u202eDong", "Zhao\x1b[2JWei"}


def test_a_lone_surrogate_in_an_argument_is_a_malformed_value(cli):
    result = cli("person", "add", "Han\udcff Dong")  # an undecodable byte of argv
    assert result.code == 2
    assert result.err.startswith(
        "Error: --name contains a lone surrogate, which is not text (U+DCFF at character 4)"
    )
    assert cli.json("person", "list") == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"type": "person", "name": "Han Dong"}\n{"type": "person", "name": "Zhao\\ud800"}\n',
            "line 2: it holds a lone surrogate (U+D800), which is not text",
        ),
        (
            '{"type": "person", "name": "Han Dong"}\n' + '{"a": ' * 100_000 + "1" + "}" * 100_000,
            "line 2: the JSON is nested too deeply to be a record",
        ),
        (
            '{"type": "person", "name": "Han Dong", "aliases": ' + "[" * 50 + "]" * 50 + "}\n",
            "line 1: it is nested more than 8 levels deep",
        ),
        (  # one level past the limit: nine brackets, the fewest that can be too deep
            '{"type": "person", "name": "Han Dong", "aliases": ' + "[" * 8 + '"a"' + "]" * 8
            + "}\n",
            "line 1: it is nested more than 8 levels deep",
        ),
        (  # a lone surrogate in a key, as an upper-case escape
            '{"type": "person", "name": "Han Dong", "x\\uDFFF": 1}\n',
            "line 1: it holds a lone surrogate (U+DFFF), which is not text",
        ),
    ],
)
def test_malformed_bundles_are_refused_naming_the_line(cli, tmp_path, content, message):
    bundle = tmp_path / "bad.jsonl"
    bundle.write_text(content, encoding="utf-8")
    result = cli("import", str(bundle))
    assert result.code == 2, result.err
    assert result.err == f"Error: {message}\n"
    assert cli.json("person", "list") == []


def test_deeply_nested_claimreview_json_is_refused(cli, tmp_path):
    page = tmp_path / "reviews.json"
    page.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = cli("import", str(page), "--format", "claimreview")
    assert result.code == 2 and result.err.startswith("Error: ") and "nested" in result.err
    assert "Traceback" not in result.err


def _set_versions(db: str, *versions: str) -> None:
    from ledger.db import database_url, make_engine

    engine = make_engine(database_url(db))
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM alembic_version")
        for version in versions:
            connection.exec_driver_sql(
                f"INSERT INTO alembic_version (version_num) VALUES ('{version}')"
            )
    engine.dispose()


@pytest.mark.parametrize(
    ("versions", "message"),
    [
        (("9999",), "the ledger is at schema '9999', which this version does not know"),
        (("0003", "0005"), "alembic_version table holds 2 revisions ('0003', '0005')"),
        ((), "alembic_version table holds no revision (empty)"),
        (("0001",), "is at schema 0001, this version needs"),
    ],
)
def test_an_odd_alembic_version_is_a_clean_error(cli, db, versions, message):
    cli.ok("person", "add", "Han Dong")
    _set_versions(db, *versions)
    for command in (("verify",), ("person", "list"), ("db", "check")):
        result = cli(*command)
        assert result.code == 1, (command, result.err)
        assert result.err.startswith("Error: ") and message in result.err, result.err
        assert result.err.count("\n") == 1
    _set_versions(db, HEAD_REVISION)
    assert [p["name"] for p in cli.json("person", "list")] == ["Han Dong"]


def test_an_unsupported_database_url_says_which_are_supported(tmp_path, capsys):
    from ledger.cli import run

    assert run(["--db", "mysql://user@localhost/ledger", "person", "list"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "Error: --db: mysql:// is not a supported database; the ledger runs on "
        "SQLite (a file path, or sqlite:///PATH) and PostgreSQL "
        "(postgresql://USER@HOST/NAME)\n"
    )


def test_a_backup_to_a_full_disk_is_a_clean_error(cli, db, tmp_path, monkeypatch):
    if "://" in db:
        pytest.skip("ledger backup copies SQLite ledgers")
    import sqlite3

    cli.ok("person", "add", "Han Dong")

    class FullDisk:
        def __init__(self, connection):
            self.connection = connection

        def backup(self, *_args, **_kwargs):
            raise sqlite3.OperationalError("database or disk is full")

        def close(self):
            self.connection.close()

    real = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: FullDisk(real(*a, **k)))
    dest = tmp_path / "copy.db"
    result = cli("backup", str(dest))
    assert result.code == 1
    assert result.err == (
        f"Error: the backup to {str(dest)!r} failed (database or disk is "
        "full); nothing was written there. Free some space (or choose "
        "another disk) and run it again\n"
    )
    assert not dest.exists() and not list(tmp_path.glob(".copy.db*"))


def test_a_raw_search_too_complex_to_answer_quickly_is_refused(cli, capsys):
    import time

    cli.ok("person", "add", "Han Dong")
    cli.ok(
        "claim",
        "add",
        "Dong advised a diplomat about two detained Canadians.",
        "--about",
        "Han Dong",
    )
    words = " ".join(f"w{n}" for n in range(200))
    started = time.perf_counter()
    result = cli("search", "--raw", f"NEAR({words}, 10)")
    seconds = time.perf_counter() - started
    assert result.code == 2
    assert result.err == (
        "Error: the query's NEAR group has 200 terms; the limit is 10. Search "
        "for fewer words near each other, or for a phrase\n"
    )
    assert seconds < 1.0
    many = " OR ".join(f"w{n}" for n in range(100))
    assert cli("search", "--raw", many).err.startswith("Error: the query has 100 terms")
    cli.ok("search", "--raw", "NEAR(advised diplomat, 5)")  # FTS5 syntax; plain words on PG
    assert cli.json("search", "--raw", '"two detained" OR Canadians')


def test_a_hundred_thousand_aliases_import_in_linear_time(cli, tmp_path, capsys):
    import time

    bundle = tmp_path / "aliases.jsonl"
    aliases = [f"Alias {n}" for n in range(100_000)]
    bundle.write_text(
        json.dumps({"type": "person", "name": "Han Dong", "aliases": aliases}) + "\n",
        encoding="utf-8",
    )
    started = time.perf_counter()
    cli.ok("import", str(bundle))
    seconds = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n  one person with 100,000 aliases imported in {seconds:.1f} s (was 207 s)")
    assert len(cli.json("person", "show", "han-dong")["aliases"]) == 100_000
    assert seconds < 60
