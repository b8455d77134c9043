"""Review before publication (issue 18): approvals that go stale, a second pair of eyes, audit
errors, holds, drafts, "Reviewed by", and people's Wikidata items. Every test that takes
`engine` or `cli` runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TEXT = (
    "Global News reported that Han Dong advised a senior Chinese diplomat to delay the "
    "release of the two Michaels, citing two unnamed national security sources."
)
QUOTE = "advised a senior Chinese diplomat to delay the release"


def _as(engine, actor: str, action):
    """Run `action(session)` in one transaction recorded by `actor`."""
    from ledger.db import transaction

    with transaction(engine, actor=actor) as session:
        return action(session)


@pytest.fixture
def desk(engine):
    """A claim recorded by the fact-checker: a person, a source with stored text, the claim
    citing it with a quote that is in the text, and a second claim about someone else."""
    from ledger import store

    def record(session):
        store.add_person(session, name="Han Dong")
        store.add_person(session, name="Zhao Wei")
        store.add_source(
            session,
            key="globalnews",
            title="Global News report",
            publisher="Global News",
            published="2023-02-24",
            text=TEXT,
        )
        claim = store.add_claim(
            session,
            statement="Han Dong advised a diplomat to delay",
            about=["Han Dong"],
            status="disputed",
        )
        store.cite(
            session,
            claim=claim,
            source=store.get_source(session, "globalnews"),
            quote=QUOTE,
            sourcing="anonymous",
        )
        other = store.add_claim(
            session, statement="Zhao Wei targeted an MP's family", about=["Zhao Wei"]
        )
        store.cite(session, claim=other, source=store.get_source(session, "globalnews"))
        return claim.id, other.id

    claim_id, other_id = _as(engine, "fact-checker", record)
    return engine, claim_id, other_id


def _approve(engine, claim_id: int, *, actor: str = "reviewer", **options):
    from ledger import store
    from ledger.store.reviews import approve_claim

    return _as(
        engine, actor, lambda s: approve_claim(s, claim=store.get_claim(s, claim_id), **options).id
    )


def _info(engine, claim_id: int):
    from ledger import store
    from ledger.db import reading
    from ledger.store.reviews import review_info

    with reading(engine) as session:
        return review_info(session, store.get_claim(session, claim_id))


# --- approvals and staleness -------------------------------------------------------------------


def test_an_approval_names_the_newest_event_touching_the_claim(desk):
    from ledger.db import reading
    from ledger.store import list_events

    engine, claim_id, _ = desk
    with reading(engine) as session:
        # person, person, source, claim 1, its attribution, claim 2, its attribution
        first_citation = next(
            (e.seq, e.hash) for e in list_events(session, entity="attribution", newest_first=False)
        )
    _approve(engine, claim_id, note="quotes checked")
    info = _info(engine, claim_id)
    assert info.state == "approved" and info.publishable
    assert info.reviewer == "reviewer" and info.note == "quotes checked"
    # Claim 2 cites the same source later: its citation is not claim 1's event.
    assert (info.approved_seq, info.approved_hash) == first_citation == (5, first_citation[1])


CHANGES = {
    "claim edit": lambda s, c, st: st.edit_claim(s, c, status="unsupported"),
    "minor edit": lambda s, c, st: st.edit_claim(
        s, c, statement="Han Dong advised a diplomat to delay.", minor=True
    ),
    "retraction": lambda s, c, st: st.retract_claim(s, c, reason="wrong person"),
    "attribution": lambda s, c, st: st.cite(
        s, claim=c, source=st.add_source(s, key="cbc", title="CBC report", publisher="CBC News")
    ),
    "response": lambda s, c, st: st.add_response(
        s, claim=c, by="Han Dong", kind="denial", date="2023-03-22"
    ),
    "reply request": lambda s, c, st: st.request_reply(
        s, claim=c, to="Han Dong", sent="2023-02-20"
    ),
    "source recapture": lambda s, c, st: st.recapture_source(
        s, st.get_source(s, "globalnews"), text=TEXT + " Dong denies it."
    ),
    "source text edit": lambda s, c, st: st.edit_source(
        s, st.get_source(s, "globalnews"), text=TEXT + " Updated."
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_an_approval_goes_stale_after_each_kind_of_change(desk, change):
    from ledger import store

    engine, claim_id, other_id = desk
    _approve(engine, claim_id)
    _approve(engine, other_id)
    assert _info(engine, claim_id).publishable
    _as(engine, "fact-checker", lambda s: CHANGES[change](s, store.get_claim(s, claim_id), store))
    info = _info(engine, claim_id)
    assert info.decision == "approved" and info.stale
    assert info.state == "needs-review" and not info.publishable
    # A change to claim 1 alone leaves claim 2's approval standing.
    if not change.startswith("source"):
        assert _info(engine, other_id).approved


def test_a_change_to_another_claim_or_an_uncited_source_leaves_the_approval(desk):
    from ledger import store

    engine, claim_id, other_id = desk
    _approve(engine, claim_id)
    _as(
        engine,
        "fact-checker",
        lambda s: (
            store.edit_claim(s, store.get_claim(s, other_id), status="unsupported"),
            store.add_source(s, key="elsewhere", title="Unrelated", text="Nothing here."),
            store.edit_source(s, store.get_source(s, "elsewhere"), text="Still nothing."),
        ),
    )
    assert _info(engine, claim_id).approved


def test_review_list_says_what_changed_since_the_approval(desk, cli):
    from ledger import store

    engine, claim_id, _ = desk
    _approve(engine, claim_id)
    _as(
        engine,
        "fact-checker",
        lambda s: store.edit_claim(s, store.get_claim(s, claim_id), status="unsupported"),
    )
    listed = cli.json("review", "list", "--state", "needs-review")
    mine = next(r for r in listed if r["claim"] == claim_id)
    assert mine["stale"] and mine["reviewer"] == "reviewer"
    # On PostgreSQL the actor is the login the database names ("tester"), not the declared one.
    login = "tester" if engine.dialect.name == "postgresql" else "fact-checker"
    assert [(c["entity"], c["action"], c["actor"]) for c in mine["changed"]] == [
        ("claim", "edit", login)
    ]
    assert {"field": "status", "before": "disputed", "after": "unsupported"} in (
        mine["changed"][0]["changes"]
    )
    text = cli.ok("review", "list", "--state", "needs-review").out
    assert f"Claim {claim_id} [needs-review]" in text
    assert "stale: changed since" in text
    assert "claim 1 edit: status “disputed” → “unsupported”" in text
    assert "ledger changes --since" in text


# --- a second pair of eyes ---------------------------------------------------------------------


def test_self_approval_is_refused(desk):
    from ledger.errors import ReviewRefused

    engine, claim_id, _ = desk
    with pytest.raises(ReviewRefused, match="second pair of eyes: fact-checker recorded"):
        _approve(engine, claim_id, actor="fact-checker")
    assert _info(engine, claim_id).state == "needs-review"


def test_after_an_approval_only_those_who_changed_it_since_are_refused(desk):
    from ledger import store
    from ledger.errors import ReviewRefused

    engine, claim_id, _ = desk
    _approve(engine, claim_id, actor="reviewer")
    _as(
        engine,
        "reviewer",
        lambda s: store.edit_claim(s, store.get_claim(s, claim_id), status="unsupported"),
    )
    with pytest.raises(ReviewRefused, match="reviewer changed claim 1 since its last approval"):
        _approve(engine, claim_id, actor="reviewer")
    # The fact-checker recorded the claim before the last approval: now a second pair of eyes.
    _approve(engine, claim_id, actor="fact-checker")
    assert _info(engine, claim_id).reviewer == "fact-checker"


def test_self_approval_through_the_cli_exits_1_naming_the_rule(desk, cli):
    from ledger.db import reading
    from ledger.store import count_events

    engine, claim_id, _ = desk
    with reading(engine) as session:
        before = count_events(session)
    result = cli("--actor", "fact-checker", "review", "approve", str(claim_id))
    assert result.code == 1
    assert result.err.startswith(
        "Error: a second pair of eyes: fact-checker recorded or changed claim 1, in event 5"
    )
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    with reading(engine) as session:
        assert count_events(session) == before
    assert cli.ok("--actor", "reviewer", "review", "approve", str(claim_id)).out == (
        f"Approved claim {claim_id}\n"
    )


# --- audit errors and the override -------------------------------------------------------------


def test_approval_with_audit_errors_is_refused_and_accepted_with_an_override(desk, cli):
    from ledger import store

    engine, claim_id, _ = desk
    _as(
        engine,
        "fact-checker",
        lambda s: store.cite(
            s,
            claim=store.get_claim(s, claim_id),
            source=store.get_source(s, "globalnews"),
            quote="words the report never printed",
        ),
    )
    refused = cli("--actor", "reviewer", "review", "approve", str(claim_id))
    assert refused.code == 1
    assert "1 audit error (quote-not-found)" in refused.err and "--override" in refused.err
    assert _info(engine, claim_id).state == "needs-review"
    cli.ok(
        "--actor",
        "reviewer",
        "review",
        "approve",
        str(claim_id),
        "--override",
        "the quote is in the print edition, page A3",
    )
    info = _info(engine, claim_id)
    assert info.approved and info.override == "the quote is in the print edition, page A3"
    # Shown to reviewers ...
    listed = cli.ok("review", "list", "--state", "approved").out
    assert "override (audit errors): the quote is in the print edition, page A3" in listed
    # ... never to readers.
    for fmt in ("md", "html"):
        page = cli.ok("dossier", "Han Dong", "--format", fmt).out
        assert "Reviewed by reviewer on" in page
        assert "print edition" not in page and "override" not in page.lower()


def test_an_override_without_audit_errors_is_refused(desk, cli):
    _, claim_id, _ = desk
    result = cli("--actor", "reviewer", "review", "approve", str(claim_id), "--override", "x")
    assert result.code == 1 and "no audit errors" in result.err


# --- publishing: approved only, holds never, drafts marked -------------------------------------


def _site(cli, out: Path, *options: str) -> dict[str, str]:
    result = cli.ok("publish", "--out", str(out), "--html", *options)
    pages = {
        p.relative_to(out).as_posix(): p.read_text(encoding="utf-8")
        for p in out.rglob("*")
        if p.suffix in (".md", ".html")
    }
    return {"stderr": result.err, **pages}


HELD = "Zhao Wei targeted an MP's family"


@pytest.mark.parametrize("drafts", [False, True], ids=["published", "drafts"])
def test_a_held_claim_is_absent_from_every_published_output(desk, cli, tmp_path, drafts):
    engine, claim_id, other_id = desk
    _approve(engine, claim_id)
    _approve(engine, other_id)
    cli.ok("claim", "edit", str(other_id), "--status", "false")  # assessed: ClaimReview
    cli.ok("--actor", "lawyer", "review", "approve", str(other_id))
    cli.ok("--actor", "lawyer", "review", "hold", str(other_id), "--reason", "with the lawyers")
    options = ("--drafts",) if drafts else ()
    site = _site(cli, tmp_path / "site", *options)
    assert "people/zhao-wei.md" in site  # the page exists (links keep working), empty
    for name, page in site.items():
        assert HELD not in page, name
        assert "with the lawyers" not in page, name
        assert f"claim-{other_id}" not in page, name
    assert "Han Dong advised a diplomat to delay" in site["people/han-dong.md"]
    # JSON-LD: no ClaimReview names the held claim.
    assert "application/ld+json" not in site["people/zhao-wei.html"]
    # The index lists no one with nothing published, and counts only what is.
    assert "Zhao Wei" not in site["index.md"]
    assert "1 person with allegations" in site["index.md"]
    # The source page lists only the published claim.
    assert site["sources/globalnews.md"].count("claim-") <= 2
    dossier = cli.ok("dossier", "Zhao Wei", "--format", "html", *options).out
    assert HELD not in dossier
    exported = cli.ok("export", "--format", "claimreview").out
    assert HELD not in exported
    # The hold and its reason stay in the ledger and in `review list`.
    held = cli.json("review", "list", "--state", "held")
    assert [(r["claim"], r["hold_reason"], r["held_by"]) for r in held] == [
        (other_id, "with the lawyers", "lawyer")
    ]


def test_a_released_claim_is_published_again(desk, cli):
    engine, claim_id, _ = desk
    _approve(engine, claim_id)
    cli.ok("review", "hold", str(claim_id), "--reason", "legal")
    assert "Han Dong advised" not in cli.ok("dossier", "Han Dong").out
    cli.ok("review", "release", str(claim_id))
    assert "Han Dong advised" in cli.ok("dossier", "Han Dong").out
    assert _info(engine, claim_id).approved  # a hold is no change to the claim


def test_unapproved_claims_are_left_out_with_a_note_naming_drafts_and_approve(desk, cli, tmp_path):
    engine, claim_id, _ = desk
    site = _site(cli, tmp_path / "site")
    assert "Han Dong advised" not in site["people/han-dong.md"]
    note = [line for line in site["stderr"].splitlines() if line.startswith("Note:")]
    assert len(note) == 1
    assert "2 claims were left out" in note[0]
    assert "--drafts" in note[0] and "ledger review approve ID" in note[0]
    dossier = cli.ok("dossier", "Han Dong")
    assert "Note: 1 claim was left out" in dossier.err
    _approve(engine, claim_id)
    assert "Note:" not in cli.ok("dossier", "Han Dong").err


def test_drafts_are_marked_on_every_page(desk, cli, tmp_path):
    engine, claim_id, other_id = desk
    _approve(engine, claim_id)
    cli.ok("--actor", "reviewer", "review", "reject", str(other_id), "--reason", "thin")
    site = _site(cli, tmp_path / "site", "--drafts")
    pages = {name: page for name, page in site.items() if name != "stderr"}
    assert len(pages) >= 8
    for name, page in pages.items():
        assert "Draft: not for publication." in page, name
        if name.endswith(".md"):
            front = page.split("\n---\n", 1)[0]
            assert "\ndraft: true\n" in front, name
        else:
            assert "<strong>Draft: not for publication.</strong>" in page, name
    zhao = site["people/zhao-wei.md"]
    assert HELD in zhao and "**Draft:** rejected by a reviewer." in zhao
    han = site["people/han-dong.md"]
    assert "Reviewed by reviewer on" in han and "**Draft:**" not in han
    # A draft is no published assessment: no ClaimReview for it.
    cli.ok("claim", "edit", str(other_id), "--status", "false")
    zhao_html = cli.ok("dossier", "Zhao Wei", "--format", "html", "--drafts").out
    assert "ClaimReview" not in zhao_html
    # Without --drafts, nothing says draft.
    plain = _site(cli, tmp_path / "plain")
    assert not any("Draft" in page for name, page in plain.items() if name != "stderr")


def test_the_reviewer_and_date_appear_on_published_allegations(desk, cli, tmp_path):
    from ledger.db import reading
    from ledger.store import list_events

    engine, claim_id, _ = desk
    _approve(engine, claim_id, actor="Robin Editor")
    with reading(engine) as session:
        day = next(e.at[:10] for e in list_events(session, entity="review", limit=1))
    site = _site(cli, tmp_path / "site")
    line = f"Reviewed by Robin Editor on {day}."
    assert line in site["people/han-dong.md"]
    assert f"Reviewed by Robin Editor on {day}." in site["people/han-dong.html"]
    assert line in cli.ok("dossier", "Han Dong").out


def test_the_claimreview_export_includes_only_approved_claims(desk, cli):
    engine, claim_id, _ = desk
    assert json.loads(cli.ok("export", "--format", "claimreview").out) == []
    _approve(engine, claim_id)
    reviews = json.loads(cli.ok("export", "--format", "claimreview").out)
    assert [r["claimReviewed"] for r in reviews] == ["Han Dong advised a diplomat to delay"]


# --- the command line's contract ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("review", "reject", "1"), 2, "Error: --reason is required"),
        (("review", "hold", "1"), 2, "Error: --reason is required"),
        (("review", "hold", "1", "--reason", "   "), 2, "Error: --reason is required"),
        (("review", "release", "1"), 1, "Error: claim 1 is not held; nothing to release"),
        (("review", "approve", "99"), 1, "Error: no claim 99"),
        (("review", "approve", "x1"), 2, "Error: claim 'x1' is not a claim id"),
        (("review", "list", "--state", "pending"), 2, "Error: "),
    ],
)
def test_review_errors_are_one_line_and_change_nothing(desk, cli, args, code, message):
    from ledger.db import reading
    from ledger.store import count_events

    engine = desk[0]
    with reading(engine) as session:
        before = count_events(session)
    result = cli("--actor", "reviewer", *args)
    assert result.code == code, result.err
    assert result.err.startswith(message) and result.err.count("\n") == 1
    with reading(engine) as session:
        assert count_events(session) == before


def test_repeated_decisions_are_conflicts(desk, cli):
    _, claim_id, _ = desk
    cli.ok("--actor", "reviewer", "review", "approve", str(claim_id))
    again = cli("--actor", "other", "review", "approve", str(claim_id))
    assert again.code == 1 and "already approved (by reviewer" in again.err
    cli.ok("review", "hold", str(claim_id), "--reason", "legal")
    twice = cli("review", "hold", str(claim_id), "--reason", "legal")
    assert twice.code == 1 and "already held" in twice.err
    cli.ok("--actor", "reviewer", "review", "reject", str(claim_id), "--reason", "thin")
    rejected = cli.json("review", "list", "--state", "held")
    assert rejected[0]["decision"] == "rejected" and rejected[0]["reason"] == "thin"


def test_reviews_verify_and_a_table_edit_is_caught(desk, cli):
    from sqlalchemy import text

    engine, claim_id, _ = desk
    _approve(engine, claim_id)
    cli.ok("review", "hold", str(claim_id), "--reason", "legal")
    assert cli.json("verify")["ok"]
    with engine.begin() as connection:
        connection.execute(text("UPDATE review SET held = :no"), {"no": False})
    report = cli("verify", "--json")
    assert report.code == 1
    differences = json.loads(report.out)["differences"]
    assert [(d["entity"], d["field"]) for d in differences] == [("review", "held")]


# --- people's Wikidata items -------------------------------------------------------------------


def test_wikidata_is_validated(cli):
    for bad in ("42", "q42", "Q", "Q0", "Q42x", "P31"):
        result = cli("person", "add", "Douglas Adams", "--wikidata", bad)
        assert result.code == 2 and result.err.startswith("Error: --wikidata"), bad
        assert result.err.count("\n") == 1
    assert cli.json("person", "list") == []
    cli.ok("person", "add", "Douglas Adams", "--wikidata", "Q42")
    assert cli("person", "edit", "douglas-adams", "--wikidata", "Q-1").code == 2


def test_wikidata_on_the_dossier_and_as_sameas_in_the_json_ld(desk, cli):
    engine, claim_id, _ = desk
    _approve(engine, claim_id)
    cli.ok("person", "edit", "Han Dong", "--wikidata", "Q21998401")
    assert "wikidata: Q21998401" in cli.ok("person", "show", "Han Dong").out
    page = cli.ok("dossier", "Han Dong").out
    assert "Wikidata: [Q21998401](<https://www.wikidata.org/wiki/Q21998401>)" in page
    html = cli.ok("dossier", "Han Dong", "--format", "html").out
    blocks = [
        json.loads(b)
        for b in html.split('<script type="application/ld+json">')[1:]
        for b in [b.split("</script>")[0]]
    ]
    person = next(b for b in blocks if b.get("@type") == "Person")
    assert person == {
        "@context": "https://schema.org",
        "@type": "Person",
        "name": "Han Dong",
        "sameAs": "https://www.wikidata.org/wiki/Q21998401",
    }
    assert cli.json("verify")["ok"]


def test_wikidata_round_trips_through_export_and_import(cli, tmp_path, capsys):
    from conftest import Cli, new_ledger

    cli.ok("person", "add", "Douglas Adams", "--wikidata", "Q42")
    cli.ok("person", "add", "Someone Else")
    bundle = tmp_path / "bundle.jsonl"
    cli.ok("export", "--out", str(bundle))
    lines = [json.loads(line) for line in bundle.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["wikidata"] == "Q42" and "wikidata" not in lines[1]
    other = Cli(new_ledger(tmp_path / "other.db"), capsys)
    other.ok("import", str(bundle))
    again = tmp_path / "again.jsonl"
    other.ok("export", "--out", str(again))
    assert again.read_text(encoding="utf-8") == bundle.read_text(encoding="utf-8")
    other.ok("import", str(bundle))  # twice changes nothing


def test_a_person_event_without_wikidata_verifies_as_none(engine):
    from ledger import shapes
    from ledger.integrity import state_problem

    old = {
        "uid": "a" * 32,
        "name": "Han Dong",
        "kind": "person",
        "description": None,
        "slug": "han-dong",
        "aliases": [],
        "merged_into": None,
    }
    assert state_problem("person", "a" * 32, old) is None
    assert shapes.person_state(**old) == old  # no key added: its hash is unchanged
    assert shapes.person_state(**old, wikidata="Q1")["wikidata"] == "Q1"


# --- the example ledger ------------------------------------------------------------------------


def test_the_example_ledger_records_its_reviews(tmp_path, capsys):
    from ledger.cli import run
    from ledger.publish import DEMO_FACT_CHECKER, DEMO_REVIEWER

    from conftest import Cli

    db = str(tmp_path / "demo.db")
    assert run(["--db", db, "demo", "--out", str(tmp_path / "site")]) == 0
    demo = Cli(db, capsys)
    states = {
        r["claim"]: (r["state"], r["reviewer"] or r["held_by"]) for r in demo.json("review", "list")
    }
    assert sorted({state for state, _ in states.values()}) == ["approved", "held", "needs-review"]
    assert {who for state, who in states.values() if state != "needs-review"} == {DEMO_REVIEWER}
    log = demo.json("log", "--limit", "1000")
    actors = {e["actor"] for e in log}
    assert actors == {DEMO_FACT_CHECKER, DEMO_REVIEWER}


def test_a_held_review_verifies_and_a_changed_hold_is_caught(desk, cli):
    """Verify reads `held` as the bool the writers logged, whatever the database returns for
    it (SQLite's 0 and 1), and names a hold changed in the table without an event."""
    from sqlalchemy import text

    from ledger.db import reading
    from ledger.store.replay import verify_ledger

    engine, _, other_id = desk
    _approve(engine, other_id)
    cli.ok("--actor", "lawyer", "review", "hold", str(other_id), "--reason", "with the lawyers")
    with reading(engine) as session:
        report = verify_ledger(session)
    assert report.ok and report.rows["review"] == 1
    with engine.begin() as connection:  # a direct change, triggers out of the way
        if engine.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text("UPDATE review SET held = NOT held WHERE held"))
    with reading(engine) as session:
        report = verify_ledger(session)
    (difference,) = report.differences
    assert (difference.entity, difference.field) == ("review", "held")
    assert (difference.table, difference.logged) == (False, True)  # bools, not 0 and 1
    assert type(difference.table) is bool
    assert "held is False in the table, True in event" in difference.message()
