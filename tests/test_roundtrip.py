"""Any text the ledger accepts comes back exactly through every export format.

Export, import into an empty ledger and export again gives the same bytes, for JSONL, JSON,
YAML and CSV, whatever the text holds: line breaks JSON writes raw (U+0085, U+2028, U+2029),
the CSV list separator inside a name, edge spaces, quotes, any script.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ledger import store
from ledger.errors import InvalidValue

# Text for one-line fields: anything but control characters (refused at input) and lone
# surrogates (not text). Free-text fields may also hold line breaks and tabs.
_LINE_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))
_TEXT_CHARS = st.one_of(_LINE_CHARS, st.sampled_from("\n\t\r\x85\u2028\u2029 ;\"'"))
LINE = st.text(_LINE_CHARS, min_size=1, max_size=30)
# A reference of digits alone means a person's id, so a bundle cannot name "0" by its name.
NAME = LINE.filter(lambda name: not name.strip().isdigit())
FREE = st.text(_TEXT_CHARS, min_size=1, max_size=60)
HOSTILE = [
    "first\x85second\u2028third\u2029fourth",
    "Smith; John",
    "  edge  ",
    '"quoted"',
    "'=1+1",
    "a;b;;c",
]
# One-line fields refuse line breaks (NEL, U+2028, U+2029): the hostile text goes into them
# with spaces instead, and raw into the free-text fields.
ONE_LINE = {0x85: " ", 0x2028: " ", 0x2029: " "}
EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _engine(template: Path, folder: Path, name: str):
    from ledger.db import open_ledger

    path = folder / name
    path.unlink(missing_ok=True)
    shutil.copy(template, path)
    return open_ledger(str(path))


def _build(
    engine,
    *,
    name: str,
    alias: str,
    description: str,
    title: str,
    text: str,
    statement: str,
    quote: str,
    voice: str,
) -> None:
    from ledger.db import transaction

    with transaction(engine, actor="tester") as session:
        person = store.add_person(session, name=name, description=description, aliases=[alias])
        other = store.add_person(session, name=f"{name} B", description=description)
        source = store.add_source(session, title=title, key="s1", text=text)
        claim = store.add_claim(
            session,
            statement=statement,
            about=[str(person.id)],
            targets=[str(other.id)],
            claimant=str(other.id),
        )
        store.cite(session, claim=claim, source=source, quote=quote, voice=voice)


def _export(engine, fmt: str) -> str:
    from ledger.db import reading

    with reading(engine) as session:
        if fmt == "csv":
            from ledger.io.csv_io import dump_csv, export_rows

            return "".join(dump_csv(export_rows(session)))
        from ledger.io.bundle import dump, export_records

        return "".join(dump(export_records(session), fmt=fmt))


def _import(engine, fmt: str, content: str, folder: Path) -> None:
    from ledger.db import transaction

    path = folder / f"bundle.{fmt}"
    path.write_bytes(content.encode("utf-8"))
    with transaction(engine, actor="tester") as session:
        if fmt == "csv":
            from ledger.io.csv_io import Mapping, import_csv, read_rows

            import_csv(session, read_rows(path, Mapping()), create_missing=True)
        else:
            from ledger.io.bundle import import_records, read_records

            import_records(session, read_records(path, fmt=fmt))


def _people(engine) -> list[str]:
    from ledger.db import reading

    with reading(engine) as session:
        return sorted(person.name for person in store.list_people(session))


def _round_trip(template: Path, folder: Path, fmt: str, **fields: str) -> tuple[str, str]:
    """The export of a ledger built from `fields`, and the export of its import elsewhere.

    The people must come back too (a CSV names them only inside list cells).
    """
    engine = _engine(template, folder, "first.db")
    try:
        _build(engine, **fields)
    except InvalidValue:
        engine.dispose()
        assume(False)
    first, people = _export(engine, fmt), _people(engine)
    engine.dispose()
    fresh = _engine(template, folder, "second.db")
    _import(fresh, fmt, first, folder)
    second = _export(fresh, fmt)
    assert _people(fresh) == people
    fresh.dispose()
    return first, second


@pytest.mark.parametrize("fmt", ["jsonl", "json", "yaml", "csv"])
@EXAMPLES
@given(
    name=NAME,
    alias=LINE,
    description=FREE,
    title=LINE,
    text=FREE,
    statement=LINE,
    quote=LINE,
    voice=LINE,
)
def test_any_text_round_trips(
    sqlite_template, tmp_path, fmt, name, alias, description, title, text, statement, quote, voice
):
    first, second = _round_trip(
        sqlite_template,
        tmp_path,
        fmt,
        name=name,
        alias=alias,
        description=description,
        title=title,
        text=text,
        statement=statement,
        quote=quote,
        voice=voice,
    )
    assert first == second


@pytest.mark.parametrize("fmt", ["jsonl", "json", "yaml", "csv"])
@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_round_trips(sqlite_template, tmp_path, fmt, hostile):
    first, second = _round_trip(
        sqlite_template,
        tmp_path,
        fmt,
        name=f"Ann {hostile}".translate(ONE_LINE),
        alias=f"A. {hostile}".translate(ONE_LINE),
        description=hostile,
        title=f"T {hostile}".translate(ONE_LINE),
        text=f"Text: {hostile} end",
        statement=f"She said {hostile}".translate(ONE_LINE),
        quote=hostile.translate(ONE_LINE).strip(),
        voice=f"V {hostile}".translate(ONE_LINE),
    )
    assert first == second


def test_jsonl_export_has_one_record_per_line(sqlite_template, tmp_path):
    engine = _engine(sqlite_template, tmp_path, "first.db")
    _build(
        engine,
        name="Ann Example",
        alias="Ann",
        description="a\u2028b\x85c",
        title="NEL text",
        text="first\x85second\u2028third\u2029fourth",
        statement="Ann said something.",
        quote="second",
        voice="Ann",
    )
    exported = _export(engine, "jsonl")
    engine.dispose()
    assert not any(ch in exported for ch in "\x85\u2028\u2029")
    assert len(exported.splitlines()) == len(exported.split("\n")) - 1 == 4


def test_a_raw_line_separator_inside_a_jsonl_string_is_not_a_line_break(tmp_path):
    from ledger.io.bundle import read_records

    path = tmp_path / "raw.jsonl"
    path.write_text(
        '{"type": "person", "name": "A", "description": "x\u2028y\x85z"}\r\n'
        '{"type": "person", "name": "B"}\n',
        encoding="utf-8",
    )
    records = read_records(path)
    assert [where for where, _ in records] == ["line 1", "line 2"]
    assert records[0][1]["description"] == "x\u2028y\x85z"


def test_csv_list_cells_keep_names_with_the_separator():
    from ledger.io.csv_io import join_list, split_list

    names = ["Smith; John", 'Say "hi"', "Han Dong", "  edge", "a;;b"]
    cell = join_list(names)
    assert split_list(cell) == [n.strip() for n in names]
    assert split_list("Han Dong; Zhao Wei;") == ["Han Dong", "Zhao Wei"]
    assert split_list('"Smith; John"; Han Dong') == ["Smith; John", "Han Dong"]


def test_csv_round_trip_of_hostile_names_and_edge_spaces(cli, tmp_path):
    """The issue's case: "Smith; John" came back as two people, and cells lost edge spaces."""
    for name in ("Smith; John", "Han Dong", 'Li "Lee" Wu'):
        cli.ok("person", "add", name)
    cli.ok(
        "claim",
        "add",
        "Smith advised a diplomat.",
        "--about",
        "Smith; John",
        "--about",
        "Han Dong",
        "--target",
        'Li "Lee" Wu',
    )
    cli.ok("claim", "retract", "1", "--reason", "  withdrawn by the outlet  ")
    before = cli.json("claim", "show", "1")
    exported = tmp_path / "claims.csv"
    cli.ok("export", "--format", "csv", "--out", str(exported))
    assert '"""Smith; John""; Han Dong"' in exported.read_text(encoding="utf-8")
    cli.db, original = str(tmp_path / "fresh.db"), cli.db
    cli.ok("init")
    cli.ok("import", str(exported), "--create-missing")
    people = sorted(p["name"] for p in cli.json("person", "list"))
    assert people == sorted(["Smith; John", "Han Dong", 'Li "Lee" Wu'])
    claim = cli.json("claim", "show", "1")
    assert claim["about"] == ["Smith; John", "Han Dong"]
    assert claim["retraction_reason"] == before["retraction_reason"]
    again = tmp_path / "again.csv"
    cli.ok("export", "--format", "csv", "--out", str(again))
    cli.db = original
    assert again.read_bytes() == exported.read_bytes()
