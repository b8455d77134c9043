"""Every command refuses bad input the same way: `Error:` on stderr, the documented exit code
(2 for a malformed value, 1 for a reference that does not resolve, a conflict or a failed
check), no traceback, and the ledger exactly as before."""

from __future__ import annotations

from pathlib import Path

import pytest

LONG = "x" * 5_001


def _cases(tmp: Path) -> list[tuple[int, list[str]]]:
    latin1 = tmp / "latin1.txt"
    latin1.write_bytes("Mélanie Joly a déclaré".encode("latin-1"))
    bad_json = tmp / "bad.jsonl"
    bad_json.write_text('{"type": "person", "name": "Ok Person"}\n{not json}\n', encoding="utf-8")
    unknown_ref = tmp / "unknown.jsonl"
    unknown_ref.write_text(
        '{"type": "person", "name": "Brand New Person"}\n'
        '{"type": "claim", "ref": "c1", "statement": "S", "about": ["Nobody Known"]}\n',
        encoding="utf-8")
    bad_type = tmp / "type.jsonl"
    bad_type.write_text('{"type": "rumour", "name": "x"}\n', encoding="utf-8")
    return [
        # malformed values: exit 2
        (2, ["person", "add", ""]),
        (2, ["person", "add", "   "]),
        (2, ["person", "add", "x" * 201]),
        (2, ["person", "add", "Robot", "--kind", "robot"]),
        (2, ["person", "add", "Someone", "--description", "d" * 2_001]),
        (2, ["person", "add", "Someone", "--alias", " "]),
        (2, ["person", "show", ""]),
        (2, ["person", "edit", "han-dong"]),
        (2, ["person", "add", "Someone", "--no-such-option"]),
        (2, ["source", "add"]),
        (2, ["source", "add", "--title", "T", "--published", "202102"]),
        (2, ["source", "add", "--title", "T", "--published", "2021-02-30"]),
        (2, ["source", "add", "--title", "T", "--published", "2021-13"]),
        (2, ["source", "add", "--title", "T", "--published", "March 2021"]),
        (2, ["source", "add", "--title", "T", "--url", "ftp://example.org/x"]),
        (2, ["source", "add", "--title", "T", "--url", "javascript:alert(1)"]),
        (2, ["source", "add", "--title", "T", "--key", "Bad Key"]),
        (2, ["source", "add", "--title", "T", "--key", "../etc"]),
        (2, ["source", "add", "--title", "T", "--kind", "blog"]),
        (2, ["source", "add", "--title", "t" * 501]),
        (2, ["source", "link", "cbc-dong", "--cites", "globalnews", "--relation", "quotes"]),
        (2, ["source", "link", "cbc-dong"]),
        (2, ["source", "edit", "cbc-dong"]),
        (2, ["claim", "add", "", "--about", "Han Dong"]),
        (2, ["claim", "add", "Statement"]),
        (2, ["claim", "add", "S", "--about", "Han Dong", "--status", "maybe"]),
        (2, ["claim", "add", "S", "--about", "Han Dong", "--status", "retracted"]),
        (2, ["claim", "add", "S", "--about", "Han Dong", "--occurred", "2021-02-30"]),
        (2, ["claim", "add", "S", "--about", "Han Dong", "--quote", "q"]),
        (2, ["claim", "add", "s" * 2_001, "--about", "Han Dong"]),
        (2, ["claim", "add", "S", "--about", "Han Dong", "--source", "cbc-dong", "--quote", LONG]),
        (2, ["claim", "add", "S", "--about", "Han Dong", "--source", "cbc-dong", "--anonymous",
             "--sourcing", "named"]),
        (2, ["claim", "cite", "1", "--source", "cbc-dong", "--sourcing", "rumour"]),
        (2, ["claim", "cite", "1"]),
        (2, ["claim", "cite", "abc", "--source", "cbc-dong"]),
        (2, ["claim", "list", "--status", "maybe"]),
        (2, ["claim", "edit", "1"]),
        (2, ["claim", "edit", "1", "--status", "retracted"]),
        (2, ["claim", "retract", "1"]),
        (2, ["claim", "retract", "1", "--reason", "   "]),
        (2, ["response", "add", "1", "--by", "Han Dong", "--kind", "maybe"]),
        (2, ["response", "add", "1", "--by", "Han Dong", "--kind", "denial",
             "--date", "2023-02-29"]),
        (2, ["response", "add", "1", "--by", "Han Dong", "--kind", "denial", "--quote", "q"]),
        (2, ["response", "add", "1", "--kind", "denial"]),
        (2, ["reply", "request", "1", "--to", "Han Dong", "--sent", "nope"]),
        (2, ["reply", "request", "1", "--to", "Han Dong", "--sent", "2023-03-20",
             "--deadline", "2023-03-01"]),
        (2, ["log", "--limit", "0"]),
        (2, ["verify", "--anchor", "nonsense"]),
        (2, ["export", "--format", "xml"]),
        (2, ["import", str(bad_json)]),
        (2, ["import", str(bad_type)]),
        (2, ["--actor", " ", "person", "add", "Someone"]),
        # references that do not resolve, conflicts, failed checks: exit 1
        (1, ["person", "add", "Han Dong"]),
        (1, ["person", "show", "Han Dung"]),
        (1, ["person", "show", "9999"]),
        (1, ["person", "merge", "han-dong", "Hang Dong"]),
        (1, ["person", "edit", "han-dong", "--name", "Michael Chong"]),
        (1, ["person", "edit", "han-dong", "--remove-alias", "Not An Alias"]),
        (1, ["claim", "add", "S", "--about", "Nobody Here"]),
        (1, ["claim", "add", "S", "--about", "Han Dong", "--claimant", "Nobody"]),
        (1, ["claim", "add", "S", "--about", "Han Dong", "--source", "no-such-source"]),
        (1, ["claim", "cite", "9999", "--source", "cbc-dong"]),
        (1, ["claim", "cite", "1", "--source", "cbc-dong", "--quote", "words nobody wrote",
             "--strict"]),
        (1, ["claim", "show", "9999"]),
        (1, ["claim", "retract", "9999", "--reason", "r"]),
        (1, ["source", "add", "--title", "T", "--key", "cbc-dong"]),
        (1, ["source", "add", "--title", "T", "--url", "http://www.example.org/story/?utm_source=x"]),
        (1, ["source", "add", "--title", "T", "--text-file", str(tmp / "missing.txt")]),
        (1, ["source", "add", "--title", "T", "--text-file", str(latin1)]),
        (1, ["source", "link", "globalnews", "--cites", "cbc-dong"]),
        (1, ["source", "link", "cbc-dong", "--cites", "globalnews"]),
        (1, ["source", "link", "cbc-dong", "--cites", "cbc-dong"]),
        (1, ["source", "show", "no-such-source"]),
        (1, ["response", "add", "9999", "--by", "Han Dong", "--kind", "denial"]),
        (1, ["response", "add", "1", "--by", "Nobody", "--kind", "denial"]),
        (1, ["reply", "request", "1", "--to", "Nobody", "--sent", "2023"]),
        (1, ["import", str(tmp / "missing.jsonl")]),
        (1, ["import", str(unknown_ref)]),
        (1, ["verify", "--anchor", "1:" + "0" * 64]),
    ]


def _snapshot(cli) -> tuple[dict, str]:
    return cli.json("verify"), cli.ok("export").out


def test_bad_input_is_refused_cleanly(story, tmp_path):
    story.ok("source", "add", "--title", "Example", "--key", "example",
             "--url", "https://example.org/story")
    before = _snapshot(story)
    failures = []
    for expected, args in _cases(tmp_path):
        result = story(*args)
        problems = []
        if result.code != expected:
            problems.append(f"exit {result.code}, expected {expected}")
        if "Error:" not in result.err:
            problems.append("no 'Error:' on stderr")
        if "Traceback" in result.err or "Traceback" in result.out:
            problems.append("a traceback")
        if problems:
            failures.append(f"ledger {' '.join(a[:40] for a in args)}: {', '.join(problems)}\n"
                            f"    stderr: {result.err.strip()[:300]}")
    assert not failures, "\n".join(failures)
    assert _snapshot(story) == before


@pytest.mark.parametrize("args, needle", [
    (["person", "show", "Han Dung"], "did you mean 'Han Dong'?"),
    (["source", "add", "--title", "T", "--published", "202102"], "--published"),
    (["claim", "add", "S", "--about", "Han Dong", "--occurred", "2021-13"], "--occurred"),
    (["source", "add", "--title", "T", "--key", "cbc-dong"], "cbc-dong"),
    (["claim", "add", "s" * 2_001, "--about", "Han Dong"], "limit is 2,000"),
])
def test_errors_say_what_to_do(story, args, needle):
    result = story(*args)
    assert needle in result.err


def test_duplicate_url_names_the_existing_key(cli):
    cli.ok("source", "add", "--title", "One", "--key", "one",
           "--url", "https://www.example.org/a/?utm_source=feed#top")
    result = cli("source", "add", "--title", "Two", "--url", "http://example.org/a")
    assert result.code == 1
    assert "'one'" in result.err
