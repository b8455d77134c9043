"""Pages a newsroom can put on the web (issue 11): anchors and links that resolve, absolute
ClaimReview URLs with --base-url, Markdown an editor can read (and GitHub's renderer shows
cleanly), pages for readers, split indexes, compact summaries and progress on a terminal."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from reviewing import approve_all
from sitecheck import check_site

BASE = "https://news.example/ledger"


@pytest.fixture
def site(story, tmp_path) -> Path:
    out = tmp_path / "site"
    story.ok("publish", "--out", str(out), "--html", "--base-url", BASE + "/")
    return out


def test_every_link_anchor_and_jsonld_url_resolves(site) -> None:
    report = check_site(site, base_url=BASE)
    assert report.problems == []
    assert report.jsonld_urls >= 10 and report.links > 500
    dong = (site / "people" / "han-dong.html").read_text(encoding="utf-8")
    for anchor in ('id="claim-1"', 'id="response-1"', 'id="source-1"'):
        assert anchor in dong
    assert f'"url":"{BASE}/people/han-dong.html#claim-1"' in dong


def test_without_base_url_jsonld_points_at_anchors_on_the_page(story, tmp_path) -> None:
    out = tmp_path / "site"
    story.ok("publish", "--out", str(out), "--html")
    assert check_site(out).problems == []
    assert '"url":"#claim-1"' in (out / "people" / "han-dong.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://news.example",
        "news.example/ledger",
        "https://news.example/?a=1",
        "https://news.example/#x",
    ],
)
def test_a_bad_base_url_is_refused(story, tmp_path, url) -> None:
    out = tmp_path / "site"
    result = story("publish", "--out", str(out), "--html", "--base-url", url)
    assert result.code == 2
    assert result.err.startswith("Error: --base-url") and result.err.count("\n") == 1
    assert not out.exists()


def test_claimreview_export_warns_without_base_url(story, monkeypatch) -> None:
    monkeypatch.delenv("LEDGER_BASE_URL", raising=False)
    relative = story.ok("export", "--format", "claimreview")
    assert "Warning:" in relative.err and "absolute URLs" in relative.err
    assert all(not r["url"].startswith("http") for r in json.loads(relative.out))
    absolute = story.ok("export", "--format", "claimreview", "--base-url", BASE)
    assert "Warning" not in absolute.err
    assert all(r["url"].startswith(BASE + "/people/") for r in json.loads(absolute.out))


# --- Markdown an editor can read -----------------------------------------------------------


def test_han_dong_markdown_has_no_needless_escapes(story) -> None:
    markdown = story.ok("dossier", "Han Dong").out
    for escape in ("\\,", "\\;", "\\'", "\\(", "\\)"):
        assert escape not in markdown, escape
    assert not re.search(r"\w\\[-.]", markdown)  # no \- or \. inside text
    for text in (
        "2023-03",
        "denial, official response",
        "Prime Minister's Office",
        "Mr. Dong told us",
        "Don Valley North (Toronto);",
    ):
        assert text in markdown


def _cmark_gfm() -> str:
    found = shutil.which("cmark-gfm")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("cmark-gfm is missing: .ci/install-web-tools.sh installs it")
        pytest.skip(
            "cmark-gfm (Debian package cmark-gfm) is not installed; run .ci/install-web-tools.sh"
        )
    return found


def test_front_matter_renders_cleanly_in_cmark_gfm(story, tmp_path) -> None:
    cmark = _cmark_gfm()
    out = tmp_path / "site"
    story.ok("publish", "--out", str(out))
    for name in ("people/han-dong.md", "sources/cbc-dong.md", "index.md"):
        markdown = (out / name).read_text(encoding="utf-8")
        html = subprocess.run(
            [cmark, "-e", "table", "-e", "footnotes"],
            input=markdown,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        first_heading = re.search(r"<h(\d)>(.*?)</h\1>", html, re.S)
        assert first_heading is not None and first_heading.group(1) == "1", name
        assert "title:" not in first_heading.group(2), name
        assert "<h2>title:" not in html and "<h2>slug:" not in html, name


# --- pages for readers ---------------------------------------------------------------------


def test_reader_pages_have_masthead_badges_and_footer(site) -> None:
    page = (site / "people" / "han-dong.html").read_text(encoding="utf-8")
    assert '<header class="masthead">' in page and '<nav aria-label="Site">' in page
    assert '<a href="../index.html#people">People</a>' in page
    assert page.count('<span class="badge status-disputed">disputed</span>') >= 6
    main = page.split("<main>", 1)[1].split("</main>", 1)[0]
    assert "ledger verify" not in main  # the anchor is in the footer only
    footer = page.split('<footer class="page-footer">', 1)[1]
    assert "Verify this page: <code>ledger verify --anchor 95:" in footer
    assert "None recorded" not in page and "No reply request" not in page
    assert "(sourcing:" not in page and "wire-dong</a>" not in page
    assert "[2:1]" not in page
    assert 'data-label="Status"' in page


def test_publisher_names_never_keys_in_reader_text(site) -> None:
    for path in (site / "people").glob("*.html"):
        main = path.read_text(encoding="utf-8").split("<main>", 1)[1]
        for key in ("wire-dong", "toronto-dong", "cbc-dong", "globalnews"):
            assert f">{key}<" not in main, (path.name, key)
            assert f" {key} " not in main, (path.name, key)


def test_index_leaves_out_people_with_nothing_recorded(story, tmp_path) -> None:
    story.ok("person", "add", "Nobody Atall")
    out = tmp_path / "site"
    story.ok("publish", "--out", str(out))
    index = (out / "index.md").read_text(encoding="utf-8")
    assert "Nobody Atall" not in index
    assert "more people are recorded with nothing against, about or by them" in index
    assert (out / "people" / "nobody-atall.md").is_file()


def test_a_large_index_is_split_by_initial_and_by_number(story, tmp_path, monkeypatch) -> None:
    import ledger.publish

    monkeypatch.setattr(ledger.publish, "INDEX_LIST_LIMIT", 5)
    out = tmp_path / "site"
    story.ok("publish", "--out", str(out), "--html")
    index = (out / "index.md").read_text(encoding="utf-8")
    assert "By initial:" in index and "| Name |" not in index
    people_pages = sorted((out / "index").glob("people-*.md"))
    source_pages = sorted((out / "index").glob("sources-*.md"))
    assert [p.name for p in source_pages] == ["sources-1-5.md", "sources-6-7.md"]
    listed = "".join(p.read_text(encoding="utf-8") for p in people_pages)
    assert "[Han Dong](<../people/han-dong.md>)" in listed
    assert listed.count("](<../people/") == 23  # everyone with something recorded, once
    assert check_site(out).problems == []
    page = (out / "index.html").read_text(encoding="utf-8")
    assert '<h2 id="people">' in page and '<h2 id="sources">' in page


def test_a_dossier_of_more_than_50_allegations_gets_a_compact_summary(cli, tmp_path) -> None:
    lines = [
        json.dumps({"type": "person", "name": "Busy Person"}),
        json.dumps({"type": "source", "key": "s", "title": "A report", "publisher": "Daily"}),
    ]
    for n in range(51):
        lines.append(
            json.dumps(
                {
                    "type": "claim",
                    "ref": f"c{n}",
                    "statement": f"Busy Person did thing {n}.",
                    "about": ["Busy Person"],
                    "status": "false" if n % 3 else "disputed",
                    "attributions": [{"source": "s", "quote": f"thing {n}"}],
                }
            )
        )
    bundle = tmp_path / "busy.jsonl"
    bundle.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli.ok("import", str(bundle))
    approve_all(cli.db)
    out = tmp_path / "site"
    cli.ok("publish", "--out", str(out), "--html")
    markdown = (out / "people" / "busy-person.md").read_text(encoding="utf-8")
    assert "| Allegation |" not in markdown
    assert "51 allegations: 34 **false**, 17 **disputed**." in markdown
    page = (out / "people" / "busy-person.html").read_text(encoding="utf-8")
    assert '<a href="#claim-51">Busy Person did thing 50.</a>' in page
    assert check_site(out).problems == []


def test_the_footer_template_is_overridable(story, tmp_path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "_footer.md.j2").write_text(
        "Checked at {{ page.anchor }}. Questions: desk.\n", encoding="utf-8"
    )
    out = tmp_path / "site"
    story.ok("publish", "--out", str(out), "--html", "--templates", str(templates))
    page = (out / "people" / "han-dong.html").read_text(encoding="utf-8")
    assert '<footer class="page-footer">\n<p>Checked at 95:' in page
    assert (out / "index.md").read_text(encoding="utf-8").endswith("Questions: desk.\n")


# --- progress ------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_only(story, tmp_path, monkeypatch) -> None:
    quiet = story.ok("publish", "--out", str(tmp_path / "a"))
    assert quiet.err.count("\n") == 1 and quiet.err.startswith("Published")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    from ledger.cli import run

    assert run(["--db", story.db, "publish", "--out", str(tmp_path / "b")]) == 0
    assert "Publishing: dossiers" in terminal.getvalue()


def test_a_dossier_of_more_than_100_allegations_is_split_into_parts(cli, tmp_path) -> None:
    lines = [
        json.dumps({"type": "person", "name": "Busy Person"}),
        json.dumps({"type": "person", "name": "Other Person"}),
        json.dumps({"type": "source", "key": "s", "title": "A report", "publisher": "Daily"}),
    ]
    for n in range(205):
        lines.append(
            json.dumps(
                {
                    "type": "claim",
                    "ref": f"c{n}",
                    "statement": f"Busy Person did thing {n}.",
                    "about": ["Busy Person"],
                    "status": "false",
                    "attributions": [{"source": "s", "quote": f"thing {n}"}],
                }
            )
        )
    lines.append(
        json.dumps(
            {
                "type": "response",
                "claim": "c150",
                "by": "Other Person",
                "kind": "denial",
                "source": "s",
            }
        )
    )
    bundle = tmp_path / "busy.jsonl"
    bundle.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cli.ok("import", str(bundle))
    approve_all(cli.db)
    out = tmp_path / "site"
    cli.ok("publish", "--out", str(out), "--html", "--base-url", BASE)
    people = out / "people"
    assert sorted(p.name for p in people.glob("busy-person*.md")) == [
        "busy-person.2.md",
        "busy-person.3.md",
        "busy-person.4.md",
        "busy-person.md",
    ]
    first = (people / "busy-person.html").read_text(encoding="utf-8")
    assert "205 allegations: 205" in first and "ld+json" not in first
    assert '<a href="busy-person.3.html#claim-151">Busy Person did thing 150.</a>' in first
    assert 'id="claim-151"' in first  # links to the dossier#claim-N still land
    part = (people / "busy-person.3.html").read_text(encoding="utf-8")
    assert part.count('class="allegation"') == 100 and 'id="claim-151"' in part
    assert f'"url":"{BASE}/people/busy-person.3.html#claim-151"' in part
    other = (people / "other-person.html").read_text(encoding="utf-8")
    assert 'href="../people/busy-person.html#claim-151"' in other
    report = check_site(out, base_url=BASE)
    assert report.problems == []
    assert report.largest[0] < 500_000


@pytest.mark.parametrize("command", [("audit",), ("export",), ("import", "BUNDLE")])
def test_import_audit_and_export_show_progress_on_a_terminal(
    story, tmp_path, monkeypatch, command
) -> None:
    from ledger.cli import run

    from conftest import EXAMPLE

    args = [str(EXAMPLE) if arg == "BUNDLE" else arg for arg in command]
    quiet = story(*args)
    assert "Importing" not in quiet.err and "Auditing" not in quiet.err
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code = run(["--db", story.db, *args])
    assert code == 0, terminal.getvalue()
    word = {"audit": "Auditing", "export": "Exporting", "import": "Importing"}[command[0]]
    if command[0] == "export":  # a bar shows once records stream out; here: no error output
        assert "Error" not in terminal.getvalue()
    else:
        assert word in terminal.getvalue()


def test_dry_run_shows_counts_and_at_most_20_examples(cli, tmp_path) -> None:
    rows = ["Claim,Person,Outlet"] + [f"Claim {n},Person {n:02},Outlet {n:02}" for n in range(25)]
    sheet = tmp_path / "claims.csv"
    sheet.write_text("\n".join(rows) + "\n", encoding="utf-8")
    args = (
        "import",
        str(sheet),
        "--map",
        "statement=Claim",
        "--map",
        "about=Person",
        "--map",
        "source=Outlet",
        "--create-missing",
        "--dry-run",
    )
    short = cli.ok(*args).err
    assert "New people (25; the first 20, --verbose lists all):" in short
    assert "  Person 19\n" in short and "Person 20" not in short
    assert max(len(line) for line in short.splitlines()) < 100
    full = cli.ok(*args, "--verbose").err
    assert "New people (25):" in full and "  Person 24\n" in full
    assert cli.json("person", "list") == []


def test_person_and_source_list_page_with_limit_and_offset(story) -> None:
    everyone = story.json("person", "list")
    assert len(everyone) == 27
    page = story.json("person", "list", "--limit", "5", "--offset", "10")
    assert [p["id"] for p in page] == [p["id"] for p in everyone[10:15]]
    sources = story.json("source", "list")
    assert story.json("source", "list", "--limit", "2", "--offset", "6") == sources[6:]
    table = story.ok("source", "list", "--limit", "1").out
    assert len(table.strip().splitlines()) == 2  # the header and one source
    refused = story("person", "list", "--limit", "0")
    assert refused.code == 2 and "Error: Invalid value for '--limit'" in refused.err


def test_split_pages_go_through_the_staged_writer_with_the_checkpoint_footer(
    story, tmp_path, monkeypatch
) -> None:
    import ledger.publish

    monkeypatch.setattr(ledger.publish, "INDEX_LIST_LIMIT", 5)
    key = tmp_path / "newsroom-key"
    story.ok("key", "generate", "--out", str(key))
    story.ok("checkpoint", "--key", str(key), "--name", "Newsroom")
    out = tmp_path / "site"
    story.ok("publish", "--out", str(out), "--html")
    manifest = json.loads((out / ".ledger-publish.json").read_text(encoding="utf-8"))["files"]
    listings = sorted(p.relative_to(out).as_posix() for p in (out / "index").iterdir())
    assert listings and set(listings) <= set(manifest)
    for name in ("index/sources-1-5.md", "people/han-dong.md", "index.md"):
        text = (out / name).read_text(encoding="utf-8")
        assert "\nSigned checkpoint: [checkpoint-" in text, name
        assert text.index("Signed checkpoint:") > text.index("Verify this page:"), name
    listing = (out / "index" / "sources-1-5.html").read_text(encoding="utf-8")
    footer = listing.split('<footer class="page-footer">', 1)[1]
    assert '<a href="../checkpoints/checkpoint-' in footer
    again = story.ok("publish", "--out", str(out), "--html").err
    assert "0 file(s) written" in again  # unchanged pages are linked, not rewritten
