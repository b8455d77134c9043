"""Self-consistency of the bundled example ledger, ledger/examples/story.jsonl.

Deliberately independent of the ledger core: it reads the JSONL file with the standard library
only, so it checks the bundle itself (references, quotes, provenance), not the importer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "ledger" / "examples" / "story.jsonl"
SEED_DIRS = (ROOT.parent / "shared" / "seeds", Path("/work/shared/seeds"))
# A line marking what an excerpt leaves out of its seed (as the saved page or PDF shows it).
OMITTED = ("[…]", "[...]")


_PLAIN = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-",
                        "…": "...", "•": "-"})


def _plain(text: str) -> str:
    """Text as a PDF's core fonts print it, white space collapsed: for comparing excerpts."""
    return " ".join(text.translate(_PLAIN).split())


def _passages(source: dict) -> list[str]:
    """The excerpts a stored text is made of: its lines between omission marks, without the
    page's headline (the source's title, as the saved page prints it first)."""
    lines = source["text"].split("\n")
    if source.get("media_type") == "text/html":
        lines = lines[1:]
    passages, current = [], []
    for line in [*lines, OMITTED[0]]:
        if line.strip() in OMITTED:
            passages.append(" ".join(current))
            current = []
        else:
            current.append(line)
    return [p for p in passages if p.strip()]

# Which source records were excerpted from which seed file.
SEED_SOURCES = {
    "000_a2d17891742cb4a1.txt": ["zhao-wei-expulsion"],
    "001_fac26a3e44133cfc.txt": ["cbc-dong"],
    "002_75dfefc2ed60df01.txt": ["wire-dong"],
    "003_a8d79ecdfe984ecd.txt": ["petition-e2835", "oliphant-response"],
    "004_fb5cfc7ecc80527b.txt": ["toronto-dong"],
}

TYPE_ORDER = ["person", "source", "claim", "response", "reply"]
FIELDS = {
    "person": {"type", "uid", "name", "aliases", "kind", "description"},
    "source": {
        "type",
        "uid",
        "key",
        "title",
        "publisher",
        "author",
        "url",
        "published",
        "kind",
        "language",
        "file_sha256",
        "media_type",
        "text",
        "cites",
        "republishes",
        "translates",
    },
    "claim": {
        "type",
        "uid",
        "ref",
        "statement",
        "about",
        "targets",
        "mentioned",
        "claimant",
        "occurred",
        "status",
        "attributions",
    },
    "attribution": {"uid", "source", "quote", "voice", "sourcing"},
    "response": {"type", "uid", "claim", "by", "kind", "date", "source", "quote", "voice",
                 "summary"},
    "reply": {"type", "uid", "claim", "to", "sent", "deadline", "channel"},
}
PERSON_KINDS = {"person", "organization"}
SOURCE_KINDS = {
    "article",
    "statement",
    "record",
    "petition",
    "post",
    "report",
    "transcript",
    "other",
}
STATUSES = {
    "unverified",
    "corroborated",
    "confirmed",
    "disputed",
    "unsupported",
    "false",
    "retracted",
}
SOURCING = {"named", "anonymous", "document", "official-record"}
RESPONSE_KINDS = {
    "denial",
    "partial-denial",
    "confirmation",
    "no-comment",
    "no-response",
    "official-response",
    "action",
}
UID = re.compile(r"^[0-9a-f]{32}$")
KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


def _records() -> list[dict]:
    out = []
    with BUNDLE.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            assert line.strip(), f"line {number} is blank"
            record = json.loads(line)
            assert isinstance(record, dict), f"line {number} is not an object"
            out.append(record)
    return out


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return _records()


def _seed_dir() -> Path | None:
    return next((d for d in SEED_DIRS if d.is_dir()), None)


def test_every_line_parses_and_is_ordered(records):
    assert records
    positions = [TYPE_ORDER.index(r["type"]) for r in records]
    assert positions == sorted(positions), "records must go person, source, claim, response, reply"
    uids = []
    for r in records:
        assert set(r) <= FIELDS[r["type"]], (r["type"], set(r) - FIELDS[r["type"]])
        uids.append(r["uid"])
        for a in r.get("attributions", []):
            assert set(a) <= FIELDS["attribution"]
            uids.append(a["uid"])
    assert all(UID.match(u) for u in uids)
    assert len(uids) == len(set(uids)), "uids must be unique"


def test_bytes_are_plain_utf8_without_ascii_escapes():
    raw = BUNDLE.read_bytes()
    raw.decode("utf-8")
    assert b"\\u" not in raw, "write with ensure_ascii=False"
    assert raw.endswith(b"\n")


def test_references_resolve_to_earlier_records(records):
    people: set[str] = set()
    sources: dict[str, dict] = {}
    claims: set[str] = set()

    def person(ref, where):
        assert ref in people, f"{where}: no earlier person named {ref!r}"

    def source(key, where):
        assert key in sources, f"{where}: no earlier source {key!r}"

    for r in records:
        where = f"{r['type']} {r.get('name') or r.get('key') or r.get('ref') or r['uid']}"
        if r["type"] == "person":
            assert r["name"].strip() and r["kind"] in PERSON_KINDS
            names = [r["name"], *r.get("aliases", [])]
            assert not people & set(names), f"{where}: name or alias already taken"
            people.update(names)
        elif r["type"] == "source":
            assert KEY.match(r["key"]) and r["key"] not in sources, where
            assert r["title"] and r.get("kind", "article") in SOURCE_KINDS, where
            assert r.get("published") is None or DATE.match(r["published"]), where
            for relation in ("cites", "republishes", "translates"):
                for other in r.get(relation) or []:
                    source(other, f"{where} {relation}")
            sources[r["key"]] = r
        elif r["type"] == "claim":
            assert r["ref"] not in claims and r["statement"].strip(), where
            assert r["about"], f"{where}: a claim is about someone"
            for role in ("about", "targets", "mentioned"):
                for name in r.get(role) or []:
                    person(name, f"{where} {role}")
            if r.get("claimant"):
                person(r["claimant"], f"{where} claimant")
            assert r.get("status", "unverified") in STATUSES, where
            assert r.get("occurred") is None or DATE.match(r["occurred"]), where
            assert r["attributions"], f"{where}: needs at least one attribution"
            for a in r["attributions"]:
                source(a["source"], where)
                assert a["sourcing"] in SOURCING, where
                text = sources[a["source"]].get("text") or ""
                assert a["quote"] and _plain(a["quote"]) in _plain(text), (where, a["quote"])
            claims.add(r["ref"])
        elif r["type"] == "response":
            assert r["claim"] in claims, f"{where}: no earlier claim {r['claim']!r}"
            person(r["by"], where)
            assert r["kind"] in RESPONSE_KINDS, where
            assert r.get("date") is None or DATE.match(r["date"]), where
            if r.get("quote"):
                source(r["source"], where)
                assert _plain(r["quote"]) in _plain(sources[r["source"]].get("text") or ""), (
                    where, r["quote"])
        elif r["type"] == "reply":
            assert r["claim"] in claims, where
            person(r["to"], where)
            assert DATE.match(r["sent"]), where
            assert r.get("deadline") is None or DATE.match(r["deadline"]), where


def test_counts_and_story_shape(records):
    by_type: dict[str, list[dict]] = {}
    for r in records:
        by_type.setdefault(r["type"], []).append(r)
    assert len(by_type["person"]) >= 12
    assert len(by_type["source"]) >= 6
    assert len(by_type["claim"]) >= 8
    assert len(by_type["response"]) >= 10

    han = next(p for p in by_type["person"] if p["name"] == "Han Dong")
    assert "Hang Dong" in han["aliases"]

    sources = {s["key"]: s for s in by_type["source"]}
    assert "text" not in sources["globalnews"] or not sources["globalnews"]["text"]
    for key in ("cbc-dong", "wire-dong", "toronto-dong"):
        assert "globalnews" in sources[key]["cites"], key

    sourcing = {a["sourcing"] for c in by_type["claim"] for a in c["attributions"]}
    assert "anonymous" in sourcing and sourcing - {"anonymous"}


def test_quotes_are_exact_excerpts_of_the_seeds(records):
    seeds = _seed_dir()
    if seeds is None:
        pytest.skip("seed documents not available")
    key_to_seed = {key: name for name, keys in SEED_SOURCES.items() for key in keys}
    texts = {}
    for name, keys in SEED_SOURCES.items():
        seed = (seeds / name).read_text(encoding="utf-8")
        stored = 0
        for key in keys:
            source = next(r for r in records if r["type"] == "source" and r["key"] == key)
            for passage in _passages(source):
                assert _plain(passage) in _plain(seed), (key, passage[:60])
            stored += len(source["text"])
            texts[key] = seed
        assert stored < 0.4 * len(seed), f"{name}: excerpts must stay short"
    with_text = {r["key"] for r in records if r["type"] == "source" and r.get("text")}
    assert with_text == set(key_to_seed), "every source with text comes from a seed"

    for r in records:
        quotes = []
        if r["type"] == "claim":
            quotes = [(a["source"], a["quote"]) for a in r["attributions"]]
        elif r["type"] == "response" and r.get("quote"):
            quotes = [(r["source"], r["quote"])]
        for key, quote in quotes:
            assert _plain(quote) in _plain(texts[key]), (key_to_seed[key], quote)
