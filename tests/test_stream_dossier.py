"""A dossier read and built in claim batches (issue 17, item 14): the same pages, less memory.

A person whose dossier reads more than `ledger.publish.STREAM_CLAIMS` claim rows is published
through `ledger.dossier.stream_dossier`, a batch of claims at a time. These tests shrink the
part size so a small ledger splits into several parts, and check that the pages are the same
bytes whether the dossier is built whole (`build_dossier` + `split_dossier`) or streamed in
batches of 3 claims or of 1,000, in Markdown and HTML, with and without drafts. Memory at
scale is measured by tests/benchmarks/bench_big_dossier.py.
"""

from __future__ import annotations

from pathlib import Path

CLOCK = "2025-01-01T00:00:00.000000Z"


def _records(claims: int) -> list[tuple[str, dict]]:
    """Ann's claims: about her (against) and naming her as a target or mention
    (concerning), interleaved by id; sources citing others (independent origins), responses
    with and without sources and dates, reply requests, claims she alleges and her answers to
    claims about someone else."""
    records: list[dict] = [
        {"type": "person", "name": name} for name in ("Ann Big", "Bob Other", "Cy Third")
    ]
    for i in range(1, 9):
        source = {
            "type": "source",
            "key": f"s{i}",
            "title": f"Report {i}",
            "publisher": f"Outlet {i % 3}",
            "published": f"2023-0{i}",
            "text": f"report {i}: alpha beta gamma delta",
        }
        if i > 2 and i % 2:
            source["cites"] = [f"s{i - 2}"]
        records.append(source)
    for n in range(1, claims + 1):
        claim = {
            "type": "claim",
            "ref": f"c{n}",
            "statement": f"Claim {n}: *a* [b]",
            "status": ("unverified", "disputed", "false")[n % 3],
            "attributions": [
                {
                    "source": f"s{(n * k) % 8 + 1}",
                    "quote": "alpha beta" if k == 1 else "not there",
                    "voice": "an official",
                    "sourcing": "named",
                }
                for k in (1, 3, 5)[: 1 + n % 3]
            ],
        }
        if n % 4 == 0:
            claim.update(about=["Bob Other"], targets=["Ann Big"])
        elif n % 7 == 0:
            claim.update(about=["Bob Other"], mentioned=["Ann Big"])
        else:
            claim["about"] = ["Ann Big"]
        if n % 5 == 0:
            claim["claimant"] = "Ann Big" if n % 10 else "Cy Third"
        records.append(claim)
        if n % 2:
            response = {"type": "response", "claim": f"c{n}", "by": "Ann Big", "kind": "denial"}
            if n % 3:
                response.update(
                    date=f"2023-0{n % 9 + 1}", source=f"s{n % 8 + 1}", quote=f"not so {n}"
                )
            records.append(response)
        if n % 6 == 0:
            records.append(
                {
                    "type": "reply",
                    "claim": f"c{n}",
                    "to": "Ann Big",
                    "sent": "2023-03-01",
                    "deadline": "2023-03-08",
                }
            )
    for n in range(1, 4):
        records.append(
            {
                "type": "claim",
                "ref": f"o{n}",
                "statement": f"Cy did {n}",
                "about": ["Cy Third"],
                "attributions": [{"source": f"s{n}"}],
            }
        )
        records.append(
            {
                "type": "response",
                "claim": f"o{n}",
                "by": "Ann Big",
                "kind": "no-comment",
                "source": f"s{n + 3}",
            }
        )
    return [(f"record {i}", record) for i, record in enumerate(records, start=1)]


def _ledger(engine, claims: int) -> None:
    from reviewing import approve_all

    from ledger import store
    from ledger.db import transaction
    from ledger.io.bundle import import_records

    with transaction(engine, actor="recorder", clock=lambda: CLOCK) as session:
        import_records(session, _records(claims))
    with transaction(
        engine, actor="recorder", clock=lambda: "2025-02-01T00:00:00.000000Z"
    ) as session:
        store.edit_claim(session, store.get_claim(session, "2"), status="confirmed")
        store.retract_claim(session, store.get_claim(session, "3"), reason="wrong")
        store.edit_source(session, store.get_source(session, "s2"), published="2023-02-05")
    approve_all(engine)
    with transaction(
        engine, actor="recorder", clock=lambda: "2025-03-01T00:00:00.000000Z"
    ) as session:
        store.edit_claim(session, store.get_claim(session, "5"), statement="Changed later")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_a_dossier_read_in_claim_batches_gives_the_same_pages(
    engine, tmp_path, monkeypatch
) -> None:
    from ledger import dossier as contexts
    from ledger import publish as publishing
    from ledger.store import reports

    _ledger(engine, 26)
    monkeypatch.setattr(contexts, "DOSSIER_PART_SIZE", 4)
    batches: list[int] = []
    load = reports.load_claim_batch

    def counted(session, *, claim_ids, drafts=False):
        batches.append(len(claim_ids))
        return load(session, claim_ids=claim_ids, drafts=drafts)

    monkeypatch.setattr(reports, "load_claim_batch", counted)
    for drafts in (False, True):
        sites = {}
        ways = [("whole", 10**9, 1_000), ("batches of 3", 0, 3), ("one batch", 0, 1_000)]
        for name, stream_claims, claim_batch in ways[: 3 if drafts else 2]:
            monkeypatch.setattr(publishing, "STREAM_CLAIMS", stream_claims)
            monkeypatch.setattr(contexts, "CLAIM_BATCH_SIZE", claim_batch)
            batches.clear()
            out = tmp_path / f"{name.replace(' ', '-')}-{drafts}"
            result = publishing.publish(
                engine, out, html=True, jobs=1, drafts=drafts, include_retracted=drafts
            )
            sites[name] = _snapshot(out)
            assert result.people == 3
            if name == "batches of 3":
                # Every person is streamed; Ann's claims are read three at a time.
                assert max(batches) == 3 and len(batches) > 8
            elif name == "whole":
                assert batches == []
        assert sites["whole"] == sites["batches of 3"] == sites.get("one batch", sites["whole"])
        pages = sites["whole"]
        parts = sorted(
            name for name in pages if name.startswith("people/ann-big.") and name.endswith(".md")
        )
        assert len(parts) >= 5, parts  # the first page and 4 or more parts of 4
        first = pages["people/ann-big.md"].decode()
        assert "## Summary" in first and "### Responses to other allegations" in first
        assert "### Allegations they make" in first
        assert ("Changed later" in first) == drafts  # changed since approved: a draft
        assert ("Retracted" in pages["people/ann-big.2.md"].decode()) == drafts
        part = pages["people/ann-big.2.md"].decode()
        assert "## Allegations against Ann Big" in part and "[^" in part
        assert any(
            "## Allegations concerning Ann Big" in pages[name].decode() for name in parts
        )  # against and concerning both split across parts
