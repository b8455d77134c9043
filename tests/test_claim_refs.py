"""A claim's reference is built once per publish and shared by every page that mentions it
(`ledger.dossier.ClaimRefs`), in bounded memory, without changing a byte of the site."""

from __future__ import annotations

from pathlib import Path

from ledger import dossier
from ledger.db import open_ledger
from ledger.publish import publish


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _ref(claim_id: int) -> dossier.ClaimRef:
    return dossier.ClaimRef(id=claim_id, statement=f"s{claim_id}", status="open", subjects=())


def test_a_claim_ref_is_kept_and_returned_again() -> None:
    refs = dossier.ClaimRefs()
    ref = _ref(1)
    refs.put(ref)
    assert refs.get(1) is ref
    assert refs.get(2) is None


def test_the_cache_holds_at_most_its_limit() -> None:
    refs = dossier.ClaimRefs(limit=3)
    for claim_id in range(10):
        refs.put(_ref(claim_id))
        assert len(refs) <= 3
    assert refs.get(9) is not None  # the newest is always kept


def test_a_tiny_cache_publishes_the_same_bytes(story, tmp_path: Path, monkeypatch) -> None:
    publish(open_ledger(story.db), tmp_path / "default", jobs=1)
    original = dossier.ClaimRefs.__init__
    monkeypatch.setattr(dossier.ClaimRefs, "__init__",
                        lambda self, limit=1: original(self, limit=limit))
    publish(open_ledger(story.db), tmp_path / "tiny", jobs=1)
    assert snapshot(tmp_path / "default") == snapshot(tmp_path / "tiny")


def test_pages_of_one_publish_share_each_claim_ref(story, tmp_path: Path, monkeypatch) -> None:
    made: list[int] = []
    put = dossier.ClaimRefs.put

    def counting(self, ref):
        made.append(ref.id)
        put(self, ref)

    monkeypatch.setattr(dossier.ClaimRefs, "put", counting)
    publish(open_ledger(story.db), tmp_path / "site", jobs=1)
    assert made, "the story's pages mention claims outside their own sections"
    assert len(made) == len(set(made))  # each claim's reference built once
