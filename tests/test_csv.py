"""CSV import with a column mapping, dry runs and refused rows; CSV export with formula
neutralizing; the round trip through an empty ledger."""

from __future__ import annotations

import csv
import io

import pytest

from ledger.io.csv_io import neutralize, unneutralize

SHEET = (
    "Claim,Person,Said by,When,Verdict,Outlet,Words\n"
    "Alice took a bribe,Alice Example,Bob Example,2021-02,False,daily-news,took a bribe\n"
    "Carol lied under oath,Carol Example,,2022,Mostly True,Weekly Gazette,\n"
)


def write(tmp_path, text, name="claims.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


MAP = ["--map", "statement=Claim", "--map", "about=Person", "--map", "claimant=Said by",
       "--map", "occurred=When", "--map", "source=Outlet", "--map", "quote=Words"]


def test_unknown_people_are_refused_without_create_missing(cli, tmp_path):
    result = cli("import", write(tmp_path, SHEET), *MAP)
    assert result.code == 1
    assert "line 2: no person 'Alice Example'" in result.err
    assert "line 3: no person 'Carol Example'" in result.err
    assert cli.json("claim", "list") == []


def test_dry_run_reports_creations_and_refusals(cli, tmp_path):
    sheet = SHEET + "No one is named here,,,,,,\nBad date,Dan Example,,2021-13,,,\n"
    result = cli("import", write(tmp_path, sheet), *MAP, "--create-missing", "--dry-run",
                 "--json")
    assert result.code == 0, result.err
    import json

    report = json.loads(result.out)
    assert report["dry_run"] is True
    assert report["new_people"] == ["Alice Example", "Bob Example", "Carol Example"]
    assert report["new_sources"] == ["daily-news", "weekly-gazette"]
    assert report["created"]["claim"] == 2
    refused = {r["line"]: r["error"] for r in report["refused"]}
    assert set(refused) == {4, 5}
    assert "about" in refused[4] and "2021-13" in refused[5]
    assert cli.json("claim", "list") == [] and cli.json("person", "list") == []


def test_import_with_mapping_file_and_value_map(cli, tmp_path):
    mapping = write(tmp_path, (
        "columns:\n  statement: Claim\n  about: Person\n  claimant: Said by\n"
        "  status: Verdict\n  source: Outlet\n  quote: Words\n"
        "values:\n  status:\n    False: 'false'\n    Mostly True: corroborated\n"
        "defaults:\n  sourcing: named\n"), "map.yaml")
    result = cli("import", write(tmp_path, SHEET), "--mapping", mapping, "--create-missing")
    assert result.code == 0, result.err
    assert "2 claims" in result.err
    claims = cli.json("claim", "list")
    assert [c["status"] for c in claims] == ["false", "corroborated"]
    shown = cli.json("claim", "show", str(claims[0]["id"]))
    assert shown["claimant"] == "Bob Example"
    assert shown["attributions"][0]["quote"] == "took a bribe"
    assert cli.json("source", "show", "weekly-gazette")["title"] == "Weekly Gazette"
    # Importing the same sheet again changes nothing.
    again = cli("import", write(tmp_path, SHEET), "--mapping", mapping, "--create-missing")
    assert "nothing new" in again.err


def test_headerless_tsv_by_column_number(cli, tmp_path):
    path = write(tmp_path, "x\tA statement\tEve Example\n", "rows.tsv")
    cli.ok("import", path, "--no-header", "--map", "statement=2", "--map", "about=3",
           "--create-missing")
    assert cli.json("claim", "list")[0]["about"] == ["Eve Example"]


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--map", "statement"], 2, "must be FIELD=COLUMN"),
    (["--map", "nonsense=Claim"], 2, "unknown ledger field"),
    (["--map", "statement=Nope", "--map", "about=Person"], 2, "no column 'Nope'"),
    (["--mapping", "missing.yaml"], 1, "no file"),
    (["--dry-run", "--format", "jsonl"], 2, "are for --format csv"),
])
def test_bad_mappings(cli, tmp_path, args, code, message):
    result = cli("import", write(tmp_path, SHEET), *args)
    assert result.code == code, result.err
    assert result.err.startswith("Error: ") and message in result.err


def test_not_utf8_and_bad_csv(cli, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("statement,about\nCaf\xe9 claim,X\n".encode("latin-1"))
    result = cli("import", str(path))
    assert result.code == 1 and "not UTF-8" in result.err
    result = cli("import", write(tmp_path, 'statement,about\n"unclosed,X\n'))
    assert result.code in (0, 1, 2) and "Traceback" not in result.err


@pytest.mark.parametrize(("cell", "written"), [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"),
    ("+1 555", "'+1 555"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tTAB", "'\tTAB"), ("\rCR", "'\rCR"), ("'=already", "''=already"),
    ("plain", "plain"), ("it's", "it's"), ("", ""),
])
def test_formula_neutralizing(cell, written):
    assert neutralize(cell) == written
    assert unneutralize(written) == cell


def test_export_neutralizes_and_round_trips(story, tmp_path, db):
    story.ok("claim", "add", "=cmd|' /C calc'!A0 is a statement", "--about", "Han Dong",
             "--source", "cbc-dong", "--quote", "@SUM(1+1)")
    out = tmp_path / "claims.csv"
    story.ok("export", "--format", "csv", "--out", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert any(r["statement"].startswith("'=cmd") for r in rows)
    assert any(r["quote"] == "'@SUM(1+1)" for r in rows)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))
    before = {(c["uid"], c["statement"], c["status"], tuple(c["about"]))
              for c in story.json("claim", "list")}
    # Into an empty ledger: every claim comes back.
    from conftest import Cli, new_ledger

    fresh = Cli(new_ledger(tmp_path / "empty.db"), story.capsys)
    result = fresh("import", str(out), "--create-missing")
    assert result.code == 0, result.err
    after = {(c["uid"], c["statement"], c["status"], tuple(c["about"]))
             for c in fresh.json("claim", "list")}
    assert after == before
    original = {c["uid"]: len(c["attributions"]) for c in story.json("claim", "list")}
    copied = {c["uid"]: len(c["attributions"]) for c in fresh.json("claim", "list")}
    assert copied == original
    hits = fresh.json("search", "calc")
    assert hits and hits[0]["type"] == "claim"


def test_a_repeated_claim_with_another_verdict_is_refused_by_line(cli, tmp_path):
    """The second row repeats a claim with another verdict, after naming a new outlet: it is
    refused by its line, and the rows around it (one more new outlet) neither collide with
    what it staged nor get written."""
    sheet = (
        "Claim,Person,Verdict,Outlet\n"
        "Alice took a bribe,Alice Example,false,daily-news\n"
        "Alice took a bribe,Alice Example,confirmed,weekly-gazette\n"
        "Carol lied under oath,Carol Example,false,evening-post\n"
    )
    args = ["--map", "statement=Claim", "--map", "about=Person", "--map", "status=Verdict",
            "--map", "source=Outlet", "--create-missing"]
    path = write(tmp_path, sheet)
    result = cli("import", path, *args)
    assert result.code == 1
    assert "1 row refused; nothing was imported" in result.err
    assert "line 3: claim 'Alice took a bribe' is already in the ledger with a different " \
        "status" in result.err
    assert cli.json("claim", "list") == [] and cli.json("source", "list") == []
    import json

    report = json.loads(cli("import", path, *args, "--dry-run", "--json").out)
    assert [r["line"] for r in report["refused"]] == [3]
    assert report["new_sources"] == ["daily-news", "evening-post"]
    assert cli("verify").code == 0
