"""The publish reads that skip work (issue 13): they must decide exactly what the full reads do.

- `review_infos(..., exact_newest=False)` (every publish batch) looks up the newest touching
  event only for approved claims: an approval made stale by a later change to the claim, a
  response or a cited source is still stale, and every claim stands where the exact read
  says.
- `ledger dossier` reads only the people and sources its person's dossier shows
  (`load_dossier_overview`), and gives the same bytes as from the whole ledger's overview.
"""

from __future__ import annotations


def _ledger(engine) -> None:
    from reviewing import approve_all

    from ledger import store
    from ledger.db import transaction

    with transaction(engine, actor="tester") as s:
        for name in ("Ann Able", "Bob Baker", "Cy Cole", "Dee Former", "Zed Unrelated"):
            store.add_person(s, name=name)
        store.add_source(s, key="root", title="The root", published="2022-12")
        store.add_source(s, key="origin", title="The origin", published="2023-01", cites=["root"])
        store.add_source(s, key="report", title="The report", published="2023-02", cites=["origin"])
        store.add_source(s, key="elsewhere", title="Unrelated", published="2023-03")
        for n in range(1, 6):
            claim = store.add_claim(
                s,
                statement=f"Claim {n} about Ann",
                about=["Ann Able"],
                claimant="Dee Former" if n == 2 else "Bob Baker",
            )
            cited = "report" if n > 3 else "origin"
            store.cite(s, claim=claim, source=store.get_source(s, cited), quote=f"q{n}")
        other = store.add_claim(s, statement="Zed's own claim", about=["Zed Unrelated"])
        store.cite(s, claim=other, source=store.get_source(s, "elsewhere"), quote="z")
    approve_all(engine)
    with transaction(engine, actor="tester") as s:
        # Claim 1: a response recorded since its approval; claim 2: a new claimant (Dee is
        # then named only in its earlier state); claim 3: left alone; claim 4: its cited
        # source corrected (so is claim 5, which cites it too); claim 6 (Zed's): left alone.
        store.add_response(
            s, claim=store.get_claim(s, "1"), by="Ann Able", kind="denial", date="2023-04"
        )
        store.edit_claim(s, store.get_claim(s, "2"), claimant="Cy Cole")
        store.edit_source(s, store.get_source(s, "report"), title="The report, corrected")
        store.add_claim(s, statement="Claim 7, never reviewed", about=["Ann Able"])


def test_light_review_read_decides_as_the_exact_one(engine) -> None:
    from sqlalchemy import select

    from ledger.db import reading
    from ledger.models import Claim
    from ledger.store.reviews import review_infos

    _ledger(engine)
    with reading(engine) as s:
        ids = select(Claim.id)
        exact = review_infos(s, ids)
        light = review_infos(s, ids, exact_newest=False)
    assert sorted(light) == sorted(exact) == list(range(1, 8))
    for claim_id, info in exact.items():
        other = light[claim_id]
        assert (other.state, other.approved, other.stale, other.held, other.decision) == (
            info.state,
            info.approved,
            info.stale,
            info.held,
            info.decision,
        ), claim_id
        if info.decision == "approved":
            assert other.newest_seq == info.newest_seq
    states = {claim_id: info.state for claim_id, info in light.items()}
    # 1, 2, 4 and 5 changed since approval (response, edit, source correction); 7 never
    # reviewed; 3 and 6 untouched.
    assert states == {
        1: "needs-review",
        2: "needs-review",
        3: "approved",
        4: "needs-review",
        5: "needs-review",
        6: "approved",
        7: "needs-review",
    }
    assert light[1].stale and light[4].stale and not light[7].stale


def test_one_dossier_reads_only_what_it_shows(engine) -> None:
    from ledger import dossier as contexts
    from ledger.db import reading
    from ledger.publish import _render, dossier, environment
    from ledger.store import get_person, reports

    _ledger(engine)
    with reading(engine) as s:
        ann = get_person(s, "Ann Able")
        batch = reports.load_person_batch(s, first_id=ann.id, last_id=ann.id, drafts=True)
        shown = reports.load_dossier_overview(s, person_id=ann.id, batch=batch)
        whole = reports.load_overview(s)
        text = dossier(s, "Ann Able", drafts=True)
        assert (shown.sequence, shown.head_hash, shown.head_at) == (
            whole.sequence,
            whole.head_hash,
            whole.head_at,
        )
        built = contexts.build_dossier(
            person_id=ann.id,
            overview=whole,
            batch=batch,
            graph=contexts.origin_graph(whole),
            drafts=True,
        )
    assert {p.name for p in shown.people.values()} == {
        "Ann Able",
        "Bob Baker",
        "Cy Cole",
        "Dee Former",
    }
    assert len(whole.people) == 5
    # The cited sources and the one they rely on (through "origin"); not the unrelated one.
    assert {src.key for src in shown.sources.values()} == {"report", "origin", "root"}
    assert {e.source_id for e in shown.source_events} == {
        src.id for src in shown.sources.values() if src.key == "report"
    }
    assert text == _render(environment(), "dossier.md.j2", web=False, page=built, d=built)
    assert "Alleged by: Dee Former → Cy Cole." in text  # named in an earlier state
    assert "Zed" not in text
