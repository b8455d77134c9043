"""The bundle: export, import into an empty ledger and export again gives the same file;
importing a file twice adds nothing; a bad record anywhere means nothing is written."""

from __future__ import annotations

import json

import pytest

from conftest import EXAMPLE, new_ledger


@pytest.mark.parametrize("fmt", ["jsonl", "json", "yaml"])
def test_round_trip_is_byte_identical(story, tmp_path, fmt):
    first = tmp_path / f"first.{fmt}"
    story.ok("export", "--format", fmt, "--out", str(first))
    fresh = new_ledger(tmp_path / "fresh.db")
    story.db, original = fresh, story.db
    story.ok("import", str(first))
    second = tmp_path / f"second.{fmt}"
    story.ok("export", "--format", fmt, "--out", str(second))
    story.db = original
    assert first.read_bytes() == second.read_bytes()


def test_export_keeps_every_record_of_the_example(story):
    records = [json.loads(line) for line in story.ok("export").out.splitlines()]
    given = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["uid"] for r in records) == sorted(r["uid"] for r in given)
    by_uid = {r["uid"]: r for r in records}
    for record in given:
        for key, value in record.items():
            if key in ("type", "ref", "by", "to", "about", "targets", "mentioned", "claimant"):
                continue  # references: they may name an alias; the export names the person
            if key == "attributions":
                assert [a["uid"] for a in by_uid[record["uid"]][key]] == [a["uid"] for a in value]
            elif value not in (None, []):
                assert by_uid[record["uid"]][key] == value, (record["uid"], key)


def test_importing_twice_changes_nothing(story):
    before = story.json("verify")
    result = story.ok("import", str(EXAMPLE))
    assert "nothing new" in result.err
    assert story.json("verify") == before


def test_hand_written_file_without_uids_imports_once(cli, tmp_path):
    bundle = tmp_path / "hand.jsonl"
    bundle.write_text("\n".join(json.dumps(r) for r in [
        {"type": "person", "name": "Han Dong", "aliases": ["Hang Dong"]},
        {"type": "person", "name": "Global News", "kind": "organization"},
        {"type": "source", "key": "cbc", "title": "Dong leaves caucus", "publisher": "CBC News",
         "published": "2023-03", "text": "Dong said the reporting is false.",
         "cites": ["globalnews"]},
        {"type": "source", "key": "globalnews", "title": "Report", "published": "2023-03-22"},
        {"type": "claim", "ref": "c1", "statement": "Dong advised a diplomat.",
         "about": ["hang dong"], "claimant": "Global News", "occurred": "2021-02",
         "attributions": [{"source": "cbc", "quote": "the reporting is false",
                           "sourcing": "anonymous"}]},
        {"type": "response", "claim": "c1", "by": "Han Dong", "kind": "denial",
         "date": "2023-03-22", "source": "cbc", "quote": "the reporting is false"},
        {"type": "reply", "claim": "c1", "to": "Han Dong", "sent": "2023-03-20",
         "deadline": "2023-03-22", "channel": "email"},
    ]) + "\n", encoding="utf-8")
    cli.ok("import", str(bundle))
    once = cli.ok("export").out
    again = cli.ok("import", str(bundle))
    assert "nothing new" in again.err
    assert cli.ok("export").out == once
    claim = cli.json("claim", "show", "1")
    assert claim["about"] == ["Han Dong"]
    assert claim["attributions"][0]["quote_status"] == "verified"
    assert cli.json("source", "show", "cbc")["cites"] == ["globalnews"]


def test_a_bad_line_writes_nothing_and_is_named(cli, tmp_path):
    bundle = tmp_path / "bad.jsonl"
    bundle.write_text(
        '{"type": "person", "name": "Fine Person"}\n'
        '{"type": "source", "key": "fine", "title": "Fine"}\n'
        '{"type": "claim", "ref": "c1", "statement": "S", "about": ["Fine Person"], '
        '"occurred": "2021-02-30"}\n', encoding="utf-8")
    result = cli("import", str(bundle))
    assert result.code == 2
    assert "line 3" in result.err and "--occurred" in result.err
    assert cli.json("person", "list") == []
    assert cli.json("verify")["events"] == 0


def test_import_reports_a_citation_cycle_it_brings(cli, tmp_path):
    bundle = tmp_path / "cycle.jsonl"
    bundle.write_text(
        '{"type": "source", "key": "a", "title": "A", "cites": ["b"]}\n'
        '{"type": "source", "key": "b", "title": "B", "cites": ["a"]}\n', encoding="utf-8")
    result = cli.ok("import", str(bundle))
    assert "citation cycle" in result.err


def test_conflicting_uid_is_refused(story, tmp_path):
    record = json.loads(story.ok("export").out.splitlines()[0])
    record["name"] = record["name"] + " Junior"
    bundle = tmp_path / "changed.jsonl"
    bundle.write_text(json.dumps(record) + "\n", encoding="utf-8")
    result = story("import", str(bundle))
    assert result.code == 1
    assert "line 1" in result.err and "different name" in result.err


def test_retracted_claim_with_sources_round_trips(cli, tmp_path):
    cli.ok("person", "add", "Han Dong")
    cli.ok("source", "add", "--title", "T", "--key", "t")
    cli.ok("claim", "add", "S", "--about", "Han Dong", "--source", "t", "--voice", "an aide")
    cli.ok("claim", "retract", "1", "--reason", "recorded against the wrong person")
    first = tmp_path / "first.jsonl"
    cli.ok("export", "--out", str(first))
    cli.db = new_ledger(tmp_path / "fresh.db")
    cli.ok("import", str(first))
    claim = cli.json("claim", "show", "1")
    assert claim["status"] == "retracted" and len(claim["attributions"]) == 1
    second = tmp_path / "second.jsonl"
    cli.ok("export", "--out", str(second))
    assert first.read_bytes() == second.read_bytes()


def test_quoteless_attribution_is_not_duplicated_on_reimport(cli, tmp_path):
    bundle = tmp_path / "noquote.jsonl"
    bundle.write_text(
        '{"type": "person", "name": "Han Dong"}\n'
        '{"type": "source", "key": "t", "title": "T"}\n'
        '{"type": "claim", "ref": "c1", "statement": "S", "about": ["Han Dong"], '
        '"attributions": [{"source": "t", "voice": "an aide"}, {"source": "t"}]}\n',
        encoding="utf-8")
    cli.ok("import", str(bundle))
    cli.ok("import", str(bundle))
    assert len(cli.json("claim", "show", "1")["attributions"]) == 2


def test_a_jsonl_file_is_read_line_by_line(tmp_path):
    """`iter_records` yields a JSONL file's records as it reads them, split on \\n only (a
    U+2028 inside a string stays in its record), and names a bad line or byte by its place in
    the file."""
    from ledger.errors import InvalidValue, ReadFailed
    from ledger.io.bundle import iter_records

    path = tmp_path / "b.jsonl"
    path.write_text('{"type": "person", "name": "A\u2028B"}\r\n\n{"type": "person", '
                    '"name": "C"}\n{not json}\n', encoding="utf-8")
    records = iter_records(path)
    assert next(records) == ("line 1", {"type": "person", "name": "A\u2028B"})
    assert next(records) == ("line 3", {"type": "person", "name": "C"})
    with pytest.raises(InvalidValue, match=r"^line 4: not valid JSON"):
        next(records)
    path.write_bytes(b'{"type": "person", "name": "A"}\n{"name": "\xff"}\n')
    with pytest.raises(ReadFailed, match=r"not UTF-8 text \(invalid start byte at byte 42\)"):
        list(iter_records(path))


def test_import_file_names_a_bad_line_and_writes_nothing(db, tmp_path):
    from ledger.db import open_ledger, reading, transaction
    from ledger.errors import InvalidValue
    from ledger.io.bundle import import_file
    from ledger.store import list_people

    path = tmp_path / "b.jsonl"
    path.write_text('{"type": "person", "name": "A"}\n[1]\n', encoding="utf-8")
    engine = open_ledger(db)
    with pytest.raises(InvalidValue, match=r"^line 2: each record must be an object"), \
            transaction(engine, actor="t") as session:
        import_file(session, path)
    path.write_text('{"type": "person", "name": "A"}\n{"type": "person", "name": "B"}\n',
                    encoding="utf-8")
    with transaction(engine, actor="t") as session:
        assert import_file(session, path).created["person"] == 2
    with reading(engine) as session:
        assert sorted(p.name for p in list_people(session)) == ["A", "B"]
    engine.dispose()


def test_a_new_ledger_reads_the_file_once_and_still_finds_repeats(db, tmp_path, monkeypatch):
    """Into a ledger without claims the file is read once (nothing there to index first);
    records that repeat earlier ones of the same file are still found, by uid or, without
    one, by statement and subjects. Into a ledger with claims it is read twice."""
    from ledger.db import open_ledger, reading, transaction
    from ledger.io import bundle as bundle_io
    from ledger.store.replay import verify_ledger

    reads = []
    original = bundle_io.iter_records
    monkeypatch.setattr(bundle_io, "iter_records",
                        lambda path, **kw: reads.append(path) or original(path, **kw))
    uid = "ab" * 16
    records = [
        {"type": "person", "name": "Han Dong"},
        {"type": "source", "key": "t", "title": "T", "text": "Dong said it was false."},
        {"type": "claim", "ref": "c1", "statement": "Dong  advised a diplomat.",
         "about": ["Han Dong"], "attributions": [{"source": "t", "quote": "it was false"}]},
        {"type": "claim", "statement": "Dong advised a diplomat.", "about": ["han dong"],
         "attributions": [{"source": "t", "quote": "it was false"}]},
        {"type": "claim", "uid": uid, "statement": "Another claim.", "about": ["Han Dong"]},
        {"type": "claim", "uid": uid, "statement": "Another claim.", "about": ["Han Dong"]},
        {"type": "response", "claim": uid, "by": "Han Dong", "kind": "denial"},
    ]
    path = tmp_path / "repeats.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    engine = open_ledger(db)
    with transaction(engine, actor="t") as session:
        result = bundle_io.import_file(session, path)
    assert len(reads) == 1
    assert (result.created["claim"], result.skipped["claim"]) == (2, 2)
    assert result.created["response"] == 1
    with transaction(engine, actor="t") as session:
        again = bundle_io.import_file(session, path)
    assert len(reads) == 3  # a first pass indexes what the ledger holds
    assert sum(again.created.values()) == 0
    with reading(engine) as session:
        assert verify_ledger(session).ok
    engine.dispose()
