"""A publish reads each claim once and shares its rows between the batches that show it
(`ledger.store.reports.ClaimCache`), in bounded memory, without changing a byte of the site."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.publish import load_example, publish
from ledger.store import reports


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _parts(claim_id: int) -> reports.ClaimParts:
    return reports.ClaimParts(claim_id, None, "held", None)


def test_the_cache_holds_at_most_its_limit_and_drops_the_least_recent() -> None:
    cache = reports.ClaimCache(limit=3)
    for claim_id in range(1, 4):
        cache.put(_parts(claim_id))
    assert cache.get(1) is not None  # 1 is now the most recent
    cache.put(_parts(4))
    assert len(cache) == 3
    assert cache.get(2) is None  # the least recently used went first
    assert {c for c in (1, 3, 4) if cache.get(c) is not None} == {1, 3, 4}
    for claim_id in range(5, 50):
        cache.put(_parts(claim_id))
        assert len(cache) <= 3
    assert cache.get(49) is not None


def _fields(batch: reports.Batch) -> dict:
    kept = set(batch.claims)
    return {"claims": batch.claims, "roles": batch.roles, "attributions": batch.attributions,
            "responses": batch.responses, "replies": batch.replies,
            # The history of the claims kept: a batch read whole also reads the events of
            # the claims it then leaves out, which nothing shows.
            "claim_events": [e for e in batch.claim_events if e.claim_id in kept],
            "additions": [a for a in batch.additions if a.claim_id in kept],
            "reviews": batch.reviews, "held": batch.held, "unapproved": batch.unapproved}


@pytest.mark.parametrize("drafts", [False, True])
def test_a_batch_from_the_cache_is_the_batch_read_whole(engine, drafts) -> None:
    from ledger.db import reading

    load_example(engine)  # a held claim, an unreviewed one, corrections, replies
    with reading(engine) as s:
        people = sorted(reports.load_overview(s).people)
        sources = sorted(reports.load_overview(s).sources)
        for limit in (0, 10_000):
            cache = reports.ClaimCache(limit=limit, drafts=drafts)
            for twice in range(2):  # cold, then warm (when the limit allows)
                for person_id in people:
                    whole = reports.load_person_batch(s, first_id=person_id,
                                                      last_id=person_id, drafts=drafts)
                    cached = reports.load_person_batch_cached(s, first_id=person_id,
                                                              last_id=person_id, cache=cache)
                    assert _fields(cached) == _fields(whole), (person_id, limit, twice)
                    assert cached.roles_by_claim == whole.roles_by_claim
                    assert cached.claim_events_by_claim == {
                        k: v for k, v in whole.claim_events_by_claim.items()
                        if k in whole.claims}
                for first in sources:
                    whole = reports.load_source_batch(s, first_id=first, last_id=first + 1,
                                                      drafts=drafts)
                    cached = reports.load_source_batch_cached(s, first_id=first,
                                                              last_id=first + 1, cache=cache)
                    assert _fields(cached) == _fields(whole), (first, limit, twice)
                    assert cached.attributions_by_claim == whole.attributions_by_claim
            assert len(cache) <= limit


@pytest.mark.parametrize("drafts", [False, True])
def test_a_tiny_cache_publishes_the_same_bytes(engine, tmp_path: Path, monkeypatch,
                                               drafts) -> None:
    load_example(engine)
    default = publish(engine, tmp_path / "default", jobs=1, drafts=drafts, batch_size=2)
    original = reports.ClaimCache.__init__
    monkeypatch.setattr(reports.ClaimCache, "__init__",
                        lambda self, limit=1, drafts=False: original(self, limit, drafts=drafts))
    tiny = publish(engine, tmp_path / "tiny", jobs=1, drafts=drafts, batch_size=2)
    assert snapshot(tmp_path / "default") == snapshot(tmp_path / "tiny")
    assert (default.unapproved, default.held) == (tiny.unapproved, tiny.held)
    assert default.held  # the example holds a claim
    assert bool(default.unapproved) != drafts


def test_one_publish_reads_each_claim_once(engine, tmp_path: Path, monkeypatch) -> None:
    load_example(engine)
    read: list[int] = []
    original = reports._claims_in_full

    def counting(session, claim_ids, *, drafts):
        read.extend(claim_ids)
        return original(session, claim_ids, drafts=drafts)

    monkeypatch.setattr(reports, "_claims_in_full", counting)
    publish(engine, tmp_path / "site", jobs=1, drafts=True, batch_size=2)
    assert read, "the example's claims are read through the cache"
    assert len(read) == len(set(read))
