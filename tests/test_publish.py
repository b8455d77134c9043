"""Publishing: layout, links, safe and unique file names, stale files, the manifest, the
demo, `reports/` kept current, and a query count that does not grow with claims."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REPORTS = REPO / "reports"
REFRESH = ("rm -rf reports && .venv/bin/ledger --db /tmp/demo-refresh.db demo --out reports "
           "(delete /tmp/demo-refresh.db first), or run pytest tests/test_publish.py "
           "--update-golden")


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_publish_writes_linked_pages(story, tmp_path) -> None:
    out = tmp_path / "site"
    result = story.ok("publish", "--out", str(out), "--html")
    assert "Published 27 dossiers and 7 source pages" in result.err
    files = _files(out)
    for name in ("index.md", "index.html", "style.css", ".ledger-publish.json",
                 "people/han-dong.md", "people/han-dong.html", "sources/globalnews.md",
                 "sources/cbc-dong.html"):
        assert name in files, name
    for name, data in files.items():
        if not name.endswith(".html"):
            continue
        page = data.decode("utf-8")
        depth = name.count("/")
        assert f'<link rel="stylesheet" href="{"../" * depth}style.css">' in page
        for href in re.findall(r'href="([^"#]+)(?:#[^"]*)?"', page):
            if href.startswith(("http:", "https:", "mailto:")):
                continue
            target = (out / name).parent / href
            assert target.resolve().is_file(), f"{name} links to missing {href}"
            assert href.endswith((".html", ".css")), href
    index = files["index.html"].decode("utf-8")
    assert 'href="people/han-dong.html"' in index and 'href="sources/cbc-dong.html"' in index
    manifest = json.loads(files[".ledger-publish.json"])
    assert sorted(manifest["files"]) == sorted(n for n in files if n != ".ledger-publish.json")


def test_same_ledger_same_bytes(story, tmp_path) -> None:
    story.ok("publish", "--out", str(tmp_path / "a"), "--html")
    story.ok("publish", "--out", str(tmp_path / "b"), "--html")
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    again = story.ok("publish", "--out", str(tmp_path / "a"), "--html")
    assert "0 file(s) written" in again.err


def test_stale_files_removed_foreign_files_kept(cli, tmp_path) -> None:
    out = tmp_path / "site"
    cli.ok("person", "add", "Alice Example")
    cli.ok("person", "add", "Alicia Example")
    cli.ok("publish", "--out", str(out), "--html")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "people" / "handwritten.md").write_text("mine", encoding="utf-8")
    assert (out / "people" / "alicia-example.html").exists()
    cli.ok("person", "merge", "Alice Example", "Alicia Example")
    result = cli.ok("publish", "--out", str(out), "--html")
    assert "2 removed" in result.err
    assert not (out / "people" / "alicia-example.md").exists()
    assert not (out / "people" / "alicia-example.html").exists()
    assert (out / "people" / "alice-example.md").exists()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (out / "people" / "handwritten.md").read_text(encoding="utf-8") == "mine"


def test_tampered_manifest_never_deletes_outside(cli, tmp_path) -> None:
    out, outside = tmp_path / "site", tmp_path / "keep.txt"
    outside.write_text("keep", encoding="utf-8")
    cli.ok("person", "add", "Alice Example")
    cli.ok("publish", "--out", str(out))
    (out / ".ledger-publish.json").write_text(
        json.dumps({"files": ["../keep.txt", str(outside), "index.md"]}), encoding="utf-8")
    cli.ok("publish", "--out", str(out))
    assert outside.read_text(encoding="utf-8") == "keep"


def test_hostile_names_publish_inside_dir(cli, engine, tmp_path) -> None:
    out = tmp_path / "deep" / "site"
    cli.ok("person", "add", "../../x")
    cli.ok("person", "add", "Mélanie Joly")
    cli.ok("person", "add", "Melanie Joly", "--distinct")
    cli.ok("person", "add", "CON")
    # A slug that slipped past validation (written straight into the table) still stays inside.
    from sqlalchemy import text

    with engine.begin() as connection:
        connection.execute(text("UPDATE person SET slug = '../../evil' WHERE name = 'CON'"))
    # Verify catches the direct edit, so publish refuses it unless told to build anyway.
    refused = cli("publish", "--out", str(out), "--html")
    assert refused.code == 1 and "slug is '../../evil' in the table" in refused.err
    cli.ok("publish", "--out", str(out), "--html", "--skip-verify")
    root = out.resolve()
    assert not [p for p in tmp_path.rglob("*")
                if p.is_file() and not p.name.startswith("ledger.db")
                and not p.resolve().is_relative_to(root)]
    people = sorted(p.name for p in (out / "people").glob("*.md"))
    assert "x.md" in people
    assert "melanie-joly.md" in people and "melanie-joly-2.md" in people
    assert all(len(name.encode()) <= 100 and name.isascii() for name in people)
    assert any(name.startswith("person-") for name in people)  # the unsafe slug's fallback


def test_publish_errors(cli, tmp_path) -> None:
    target = tmp_path / "a-file"
    target.write_text("x", encoding="utf-8")
    result = cli("publish", "--out", str(target))
    assert result.code == 1 and result.err.startswith("Error: ") and "is a file" in result.err
    result = cli("publish", "--out", str(tmp_path / "o"), "--templates", str(tmp_path / "no"))
    assert result.code == 1 and "--templates" in result.err


def test_commands_have_help_with_an_example(cli) -> None:
    for command in ("dossier", "publish", "demo"):
        result = cli.ok(command, "--help")
        assert "Example:" in result.out


def test_demo_refuses_a_non_empty_ledger(story, tmp_path) -> None:
    result = story("demo", "--out", str(tmp_path / "r"))
    assert result.code == 1 and result.err.startswith("Error: ") and "--force" in result.err
    assert not (tmp_path / "r").exists()
    story.ok("demo", "--force", "--out", str(tmp_path / "r"))
    assert (tmp_path / "r" / "people" / "han-dong.html").exists()


_DIGEST = re.compile(rb"[0-9a-f]{64}")
_SIGNATURE = re.compile(rb"-----BEGIN SSH SIGNATURE-----.*?-----END SSH SIGNATURE-----", re.S)


def _without_digests(data: bytes) -> bytes:
    return _SIGNATURE.sub(b"<signature>", _DIGEST.sub(b"<sha256>", data))


def test_reports_folder_is_current(cli, tmp_path, update_golden) -> None:
    """`reports/` holds the output of `ledger demo` on SQLite. On PostgreSQL the database
    names each event's actor (the login, "demo" here) and keeps the declared fact-checker and
    reviewer as "on behalf of", so the hashes and signatures differ and nothing else does."""
    out = tmp_path / "reports"
    postgres = cli.db.startswith("postgresql://")
    if postgres:
        from conftest import login_as

        cli.db = login_as(cli.db, "demo")
    cli.ok("demo", "--out", str(out))
    fresh = _files(out)
    if postgres:
        committed = {name: _without_digests(data) for name, data in _files(REPORTS).items()}
        assert sorted(committed) == sorted(fresh)
        for name, data in fresh.items():
            assert committed[name] == _without_digests(data), f"reports/{name} differs"
        return
    if update_golden:
        shutil.rmtree(REPORTS, ignore_errors=True)
        shutil.copytree(out, REPORTS)
        return
    assert REPORTS.is_dir(), f"reports/ is missing; refresh it with: {REFRESH}"
    committed = _files(REPORTS)
    assert sorted(committed) == sorted(fresh), f"reports/ lists other files; refresh: {REFRESH}"
    for name, data in fresh.items():
        assert committed[name] == data, f"reports/{name} is stale; refresh it with: {REFRESH}"


def test_demo_honours_source_date_epoch(cli, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    cli.ok("demo", "--out", str(tmp_path / "r"))
    log = cli.json("log", "--limit", "1")
    assert log[0]["at"] == "2023-11-14T22:13:20.000000Z"


@pytest.mark.parametrize("claims_per_person", [2, 6])
def test_query_count_does_not_grow_with_claims(db, tmp_path, claims_per_person) -> None:
    from reviewing import approve_all
    from sqlalchemy import event

    from ledger import store
    from ledger.db import open_ledger, transaction
    from ledger.publish import publish

    engine = open_ledger(db)
    with transaction(engine, actor="tester") as s:
        source = store.add_source(s, key="s", title="S", published="2023")
        names = [store.add_person(s, name=f"Person {i}").name for i in range(4)]
        for i, name in enumerate(names):
            for n in range(claims_per_person):
                claim = store.add_claim(s, statement=f"Claim {n} about {name}", about=[name],
                                        targets=[names[(i + 1) % 4]], claimant=names[i - 1])
                store.cite(s, claim=claim, source=source, quote=f"q{n}")
                store.add_response(s, claim=claim, by=name, kind="denial", date="2023")
                store.request_reply(s, claim=claim, to=name, sent="2023-01-01")
    approve_all(engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda *args: statements.append(args[2]))
    # jobs=1: the queries are counted in this process
    result = publish(engine, tmp_path / "out", html=True, batch_size=2, jobs=1)
    engine.dispose()
    assert not result.unapproved and not result.held
    selects = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    # 7 for the overview (with the events of changed sources) and 1 for the checkpoints;
    # per batch of people, 1 counting each person's claim rows and 1 for the ids of their
    # claims, then 10 for the claims no earlier batch read (5 for the claims, 2 for their
    # history, 3 for their reviews: `reports.ClaimCache`); per batch of sources 1 for the
    # ids, and the same 10 for claims not read yet. Here the first batch of people reads
    # every claim (each person is the target or claimant of the next one's), so the second
    # batch and the sources' read none: whatever the number of claims.
    assert len(selects) == 8 + (2 + 10) + 2 + 1, selects
