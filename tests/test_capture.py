"""Source capture from the files people save (HTML, PDF, WARC, text), and recapture."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

import capture_fixtures as fx
from conftest import EXAMPLE, SEEDS

BODY_QUOTE = "Beijing should hold off on freeing Michael Kovrig and Michael Spavor"
PETITION_QUOTE = "publicly sided with China on Meng Wanzhou case"
RESPONSE_QUOTE = "Canada takes seriously allegations of interference"
MOVING = "the wrong place to be as an independent investigation pursues the facts"


@pytest.fixture(scope="module")
def seeds() -> Path:
    if not SEEDS.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the seed documents are missing: {SEEDS}")
        pytest.skip(f"the seed documents are not beside the project ({SEEDS})")
    return SEEDS


@pytest.fixture(scope="module")
def article(seeds) -> list[str]:
    paragraphs = fx.seed_paragraphs(seeds, "001_fac26a3e44133cfc.txt")
    paragraphs[0] = paragraphs[0].removeprefix("date 2023-02-27 ")  # the seed's stray header
    return paragraphs


@pytest.fixture
def files(tmp_path, article, seeds) -> dict[str, Path]:
    page = fx.news_page(article)
    petition = fx.seed_paragraphs(seeds, "003_a8d79ecdfe984ecd.txt", count=40)
    made = {
        "html": (tmp_path / "page.html", page.encode("utf-8")),
        "warc": (tmp_path / "page.warc.gz", fx.page_warc(page)),
        "pdf": (tmp_path / "petition.pdf", fx.petition_pdf([petition[2:8], petition[8:12]])),
    }
    for path, data in made.values():
        path.write_bytes(data)
    return {name: path for name, (path, _) in made.items()}


def _events(cli) -> int:
    return len(cli.json("log", "--limit", "100000"))


# --- the library -----------------------------------------------------------------------------


def test_sniffing_goes_by_content_not_extension(files, tmp_path) -> None:
    from ledger.io.capture import sniff

    for name, path in files.items():
        disguised = tmp_path / f"saved-{name}.txt"
        disguised.write_bytes(path.read_bytes())
        assert sniff(disguised.read_bytes(), name=str(disguised)) == name
    assert sniff(b"Plain words <b>with a tag</b>", name="notes.txt") == "txt"
    assert sniff(b"<p>A fragment</p>", name="fragment.html") == "html"


def test_html_main_text_without_the_boilerplate(files) -> None:
    from ledger.io.capture import read_capture

    capture = read_capture(files["html"])
    assert capture.format == "html" and capture.media_type == "text/html"
    assert capture.file_sha256 == hashlib.sha256(files["html"].read_bytes()).hexdigest()
    assert BODY_QUOTE in capture.text
    assert [b for b in fx.BOILERPLATE if b in capture.text] == []
    # Paragraphs are kept: one per line.
    assert "\nDong denies the fresh allegations.\n" in capture.text
    assert capture.metadata == {
        "title": (fx.PAGE_TITLE, '<meta property="og:title"> content'),
        "published": ("2023-03-23", '<meta property="article:published_time"> content'),
        "author": ("Parliamentary bureau", '<meta name="author"> content'),
        "url": (fx.PAGE_URL, '<link rel="canonical"> href'),
    }


def test_pdf_pages_in_order(files) -> None:
    from ledger.io.capture import read_capture

    capture = read_capture(files["pdf"])
    assert capture.format == "pdf" and capture.media_type == "application/pdf"
    assert capture.text.index("Petition to the House of Commons") < capture.text.index(
        "Signed by (Minister or Parliamentary Secretary): Rob Oliphant"
    )
    assert PETITION_QUOTE in capture.text


def test_warc_holds_the_page(files) -> None:
    from ledger.io.capture import read_capture

    warc, page = read_capture(files["warc"]), read_capture(files["html"])
    assert warc.format == "warc" and warc.media_type == "application/warc"
    assert warc.text == page.text
    assert warc.retrieved == "2023-03-23T14:05:09.000000Z"
    assert warc.file_sha256 != page.file_sha256


# --- the command line ------------------------------------------------------------------------


def test_source_add_from_a_saved_page(cli, files) -> None:
    result = cli.ok(
        "source",
        "add",
        "--key",
        "cbc-dong",
        "--text-file",
        str(files["html"]),
        "--publisher",
        "CBC News",
    )
    assert f'--title from <meta property="og:title"> content: {fx.PAGE_TITLE}' in result.err
    assert (
        '--published from <meta property="article:published_time"> content: 2023-03-23'
        in result.err
    )
    source = cli.json("source", "show", "cbc-dong")
    assert (source["title"], source["published"], source["author"], source["url"]) == (
        fx.PAGE_TITLE,
        "2023-03-23",
        "Parliamentary bureau",
        fx.PAGE_URL,
    )
    assert source["media_type"] == "text/html"
    assert source["file_sha256"] == hashlib.sha256(files["html"].read_bytes()).hexdigest()
    # Given values win over the page's metadata.
    twin = cli("source", "add", "--key", "again", "--text-file", str(files["warc"]))
    assert twin.code == 1 and "already has this URL" in twin.err  # the canonical URL counts
    cli.ok(
        "source",
        "add",
        "--key",
        "again",
        "--title",
        "My title",
        "--published",
        "2023-03",
        "--url",
        "https://archive.example.org/page",
        "--text-file",
        str(files["warc"]),
    )
    again = cli.json("source", "show", "again")
    assert (again["title"], again["published"], again["media_type"]) == (
        "My title",
        "2023-03",
        "application/warc",
    )
    assert again["retrieved"] == "2023-03-23T14:05:09.000000Z"
    cli.ok("person", "add", "Han Dong")
    cli.ok(
        "claim", "add", "Han Dong advised a diplomat to delay the release", "--about", "Han Dong"
    )
    assert (
        "[verified]"
        in cli.ok(
            "claim", "cite", "1", "--source", "cbc-dong", "--quote", BODY_QUOTE, "--anonymous"
        ).out
    )
    nav = cli(
        "claim", "cite", "1", "--source", "again", "--quote", "Accept all cookies", "--strict"
    )
    assert nav.code == 1 and "not in the stored text" in nav.err
    assert cli.ok("verify").code == 0


def test_petition_pdf_quotes_verify(cli, files) -> None:
    cli.ok(
        "source",
        "add",
        "--key",
        "petition",
        "--title",
        "Petition e-2835",
        "--kind",
        "petition",
        "--text-file",
        str(files["pdf"]),
    )
    assert cli.json("source", "show", "petition")["media_type"] == "application/pdf"
    cli.ok("person", "add", "John McCallum")
    cli.ok("person", "add", "Rob Oliphant")
    cli.ok(
        "claim",
        "add",
        "John McCallum sided with China on the Meng Wanzhou case",
        "--about",
        "John McCallum",
        "--source",
        "petition",
        "--quote",
        PETITION_QUOTE,
        "--sourcing",
        "document",
        "--strict",
    )
    cli.ok(
        "response",
        "add",
        "1",
        "--by",
        "Rob Oliphant",
        "--kind",
        "official-response",
        "--source",
        "petition",
        "--quote",
        RESPONSE_QUOTE,
        "--strict",
    )


def test_format_overrides_sniffing(cli, files) -> None:
    cli.ok(
        "source",
        "add",
        "--key",
        "raw",
        "--title",
        "Raw page",
        "--format",
        "txt",
        "--text-file",
        str(files["html"]),
    )
    cli.ok("person", "add", "Han Dong")
    cli.ok(
        "claim",
        "add",
        "A claim",
        "--about",
        "Han Dong",
        "--source",
        "raw",
        "--quote",
        "Accept all cookies",
        "--strict",
    )  # the raw HTML keeps everything
    assert (
        cli(
            "source", "add", "--title", "T", "--format", "docx", "--text-file", str(files["html"])
        ).code
        == 2
    )


@pytest.mark.parametrize(
    "content, message",
    [
        (b"%PDF-1.4\nnot really a PDF", "is not a readable PDF"),
        (b"\x1f\x8b\x08\x00garbage", "is a gzip file that is not a WARC"),
        (b"WARC/1.0\r\nWARC-Type: warcinfo\r\n\r\n", "WARC"),
        (
            b"<!doctype html><html><head><script>var page = 1;</script></head><body></body></html>",
            "no text could be extracted",
        ),
        ("Caf\u00e9 in Latin-1".encode("latin-1"), "is not UTF-8 text"),
    ],
)
def test_unreadable_files_write_nothing(cli, tmp_path, content, message) -> None:
    before = cli.ok("export").out
    path = tmp_path / "saved.bin"
    path.write_bytes(content)
    result = cli("source", "add", "--key", "bad", "--title", "Bad", "--text-file", str(path))
    assert result.code == 1, result.err
    assert result.err.startswith("Error: ") and message in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert cli.ok("export").out == before
    missing = cli("source", "add", "--title", "Bad", "--text-file", str(tmp_path / "nope.html"))
    assert missing.code == 1 and "no file" in missing.err


# --- recapture -------------------------------------------------------------------------------


def test_recapture_reports_quotes_that_stand_move_or_go(cli, tmp_path, article) -> None:
    first = tmp_path / "first.html"
    first.write_text(fx.news_page(article), encoding="utf-8")
    cli.ok("source", "add", "--key", "cbc", "--text-file", str(first))
    cli.ok("person", "add", "Han Dong")
    cli.ok(
        "claim",
        "add",
        "Han Dong advised a diplomat to delay the release",
        "--about",
        "Han Dong",
        "--source",
        "cbc",
        "--quote",
        BODY_QUOTE,
        "--anonymous",
    )
    cli.ok("claim", "cite", "1", "--source", "cbc", "--quote", "Dong denies the fresh allegations")
    cli.ok("claim", "cite", "1", "--source", "cbc", "--quote", MOVING)
    cli.ok(
        "response",
        "add",
        "1",
        "--by",
        "Han Dong",
        "--kind",
        "denial",
        "--source",
        "cbc",
        "--quote",
        "denied that he advised Beijing to delay releasing Kovrig and Spavor",
    )
    old = cli.json("source", "show", "cbc")
    # The page changed after publication: the short denial paragraph dropped (what follows
    # it moves up), the last paragraph rewritten, a correction note added at the end.
    changed = [p for p in article if p != "Dong denies the fresh allegations."]
    changed[-1] = changed[-1].replace(
        "but denied that he advised Beijing to delay releasing", "and disputed the account of"
    )
    changed.append("Correction: an earlier version of this story misstated the vote's date.")
    second = tmp_path / "second.html"
    second.write_text(fx.news_page(changed), encoding="utf-8")
    events = _events(cli)
    report = cli.json("source", "recapture", "cbc", "--text-file", str(second))
    assert report["previous_sha256"] == old["text_sha256"]
    outcomes = {(q["entity"], q["quote"]): q["outcome"] for q in report["quotes"]}
    assert outcomes == {
        ("attribution", BODY_QUOTE): "stands",
        ("attribution", "Dong denies the fresh allegations"): "gone",
        ("attribution", MOVING): "moved",
        ("response", "denied that he advised Beijing to delay releasing Kovrig and Spavor"): "gone",
    }
    assert _events(cli) == events + 1  # one new event: the newer capture
    [event] = cli.json("log", "--limit", "1")
    assert event["action"] == "recapture"
    claim = cli.json("claim", "show", "1")
    assert [a["quote_status"] for a in claim["attributions"]] == [
        "verified",
        "not-found",
        "verified",
    ]
    moved = next(q for q in report["quotes"] if q["outcome"] == "moved")
    assert moved["after"][0] == moved["before"][0] - len("Dong denies the fresh allegations.\n")
    # The old text stays in the history.
    states = [e["state"] for e in cli.json("log", "--entity", "source", "--limit", "100")]
    assert any(s.get("text_sha256") == old["text_sha256"] for s in states)
    # The audit names both captures.
    audit = json.loads(cli("audit", "--json").out)
    drifted = [f for f in audit if f["code"] == "quote-drifted"]
    assert len(drifted) == 2 and all(f["severity"] == "warning" for f in drifted)
    assert {f["detail"]["found_in"] for f in drifted} == {old["text_sha256"]}
    assert {f["detail"]["current"] for f in drifted} == {report["text_sha256"]}
    assert old["text_sha256"][:12] in drifted[0]["message"]
    assert not [f for f in audit if f["code"] == "quote-not-found"]
    assert cli.ok("verify").code == 0
    text = cli.ok("source", "recapture", "cbc", "--text-file", str(first)).out
    assert "1 quote(s) still stand, 1 moved, 0 gone, 2 found again" in text
    assert not [f for f in json.loads(cli("audit", "--json").out) if f["code"] == "quote-drifted"]


def test_recapture_refuses_the_same_text_and_changes_nothing(cli, files) -> None:
    cli.ok("source", "add", "--key", "cbc", "--text-file", str(files["html"]))
    before = cli.ok("export").out
    same = cli("source", "recapture", "cbc", "--text-file", str(files["warc"]))
    assert same.code == 1 and "same text" in same.err
    bare = cli.ok("source", "add", "--key", "bare", "--title", "No text")
    assert bare.code == 0
    assert cli("source", "recapture", "bare", "--text-file", str(files["html"])).code == 1
    assert cli("source", "recapture", "cbc").code == 2
    assert cli.ok("export").out.count("\n") == before.count("\n") + 1  # only the bare source


def test_example_texts_are_extracted_from_the_saved_files():
    """Each example text is what the capture extracts from the page (or PDF) shipped beside
    the bundle, whose SHA-256 and media type the source records."""
    import hashlib

    from ledger.io.capture import read_capture

    records = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    sources = [r for r in records if r["type"] == "source" and r.get("text")]
    assert {s["media_type"] for s in sources} == {"text/html", "application/pdf"}
    assert [s["key"] for s in sources if s["media_type"] == "application/pdf"] == ["petition-e2835"]
    for source in sources:
        path = EXAMPLE.parent / fx.example_capture_name(source["key"])
        assert hashlib.sha256(path.read_bytes()).hexdigest() == source["file_sha256"], path
        capture = read_capture(path)
        assert (capture.text, capture.media_type) == (source["text"], source["media_type"])
