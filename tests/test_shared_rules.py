"""Rules defined once and used everywhere: reply status (dossier and audit agree), source
key derivation (command and bundle agree), citation-graph walks (one `OriginGraph`)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from reviewing import approve_all

from ledger import store
from ledger.audit import audit
from ledger.origins import OriginGraph
from ledger.replies import reply_status


def _asked_and_silent(session, *, kind: str) -> None:
    store.add_person(session, name="Han Dong")
    claim = store.add_claim(session, statement="Han Dong advised a diplomat", about=["Han Dong"])
    store.request_reply(
        session, claim=claim, to="Han Dong", sent="2023-03-21", deadline="2023-03-22"
    )
    store.add_response(session, claim=claim, by="Han Dong", kind=kind)


@pytest.mark.parametrize("kind, overdue", [("no-response", True), ("denial", False)])
def test_reply_status_agrees_in_the_dossier_and_the_audit(cli, kind, overdue, monkeypatch):
    """A `no-response` response records silence: past the deadline the request is overdue
    for both. Any other kind from the addressee answers it, for both."""
    cli.ok("person", "add", "Han Dong")
    cli.ok("claim", "add", "Han Dong advised a diplomat", "--about", "Han Dong")
    cli.ok(
        "reply",
        "request",
        "1",
        "--to",
        "Han Dong",
        "--sent",
        "2023-03-21",
        "--deadline",
        "2023-03-22",
    )
    cli.ok("response", "add", "1", "--by", "Han Dong", "--kind", kind)
    approve_all(cli.db)
    dossier = cli.ok("dossier", "Han Dong").out  # judged on its newest event's day
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(1680307200))  # 2023-04-01 UTC
    codes = {f["code"] for f in json.loads(cli.ok("audit", "--json").out)}
    assert ("reply-overdue" in codes) is overdue
    assert ("no response by the 2023-03-22 deadline" in dossier) is overdue
    assert (", answered" in dossier) is not overdue


def test_audit_reply_overdue_uses_the_shared_rule(session):
    _asked_and_silent(session, kind="no-response")
    codes = [f.code for f in audit(session, today=date(2023, 4, 1))]
    assert "reply-overdue" in codes
    assert "reply-overdue" not in [f.code for f in audit(session, today=date(2023, 3, 22))]


def test_reply_status_rule():
    def status(responses, today="2023-04-01", deadline="2023-03-22"):
        return reply_status(sent="2023-03-21", deadline=deadline, responses=responses, today=today)

    assert status([]).state == "overdue"
    assert status([], today="2023-03-22").state == "pending"
    assert status([], deadline=None).state == "pending"
    assert status([("no-response", "2023-03-23")]).state == "overdue"
    answered = status([("denial", "2023-03-23"), ("no-comment", "2023-03-22")])
    assert (answered.state, answered.answered_on, answered.late) == (
        "answered",
        "2023-03-22",
        False,
    )
    assert status([("denial", "2023-03-23")]).late
    assert status([("denial", "2023-03-01")]).answered_on is None  # before it was asked


def test_a_bundle_source_without_a_key_is_keyed_like_source_add(cli, tmp_path):
    cli.ok(
        "source",
        "add",
        "--title",
        "MPs vote",
        "--publisher",
        "CBC News",
        "--published",
        "2023-03-23",
    )
    bundle = tmp_path / "keyless.jsonl"
    bundle.write_text(
        json.dumps(
            {
                "type": "source",
                "title": "Another story",
                "publisher": "CBC News",
                "published": "2023-03-23",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    cli.ok("import", str(bundle))
    keys = [s["key"] for s in cli.json("source", "list")]
    assert keys == ["cbc-news-2023-03-23", "cbc-news-2023-03-23-2"]
    assert "nothing new" in cli.ok("import", str(bundle)).err


def test_origin_graph_walks():
    graph = OriginGraph([(1, 2), (2, 3), (3, 1), (4, 1)])
    assert graph.path(4, 3) == [4, 1, 2, 3]
    assert graph.path(3, 4) is None
    assert graph.cycles() == [[1, 2, 3]]
    assert graph.cycle_path([1, 2, 3]) == [1, 2, 3, 1]


@pytest.mark.parametrize(
    "args",
    [
        ["import", "{path}"],
        ["import", "{path}", "--format", "csv"],
        ["import", "{path}", "--format", "claimreview"],
        ["source", "add", "--title", "T", "--text-file", "{path}"],
    ],
)
def test_every_user_file_is_read_with_the_same_friendly_errors(cli, tmp_path, args):
    """Missing, a folder, not UTF-8: one `Error:` line naming the file, exit 1, for every
    command that reads a user's file (`ledger.userfiles.read_text`)."""
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Mélanie".encode("latin-1"))
    for path, says in (
        (tmp_path / "missing.jsonl", "no file"),
        (tmp_path, "is a folder"),
        (latin, "is not UTF-8 text"),
    ):
        result = cli(*[a.format(path=path) for a in args])
        assert result.code == 1, result.err
        assert result.err.startswith("Error: ") and says in result.err
        assert str(path) in result.err and len(result.err.strip().splitlines()) == 1
    assert cli.json("source", "list") == []
