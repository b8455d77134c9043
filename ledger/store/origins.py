"""A claim's independent origins, read from the source links it can reach."""

from __future__ import annotations

from sqlmodel import Session, col, select

from ledger.models import Attribution, Claim, Source, SourceLink
from ledger.origins import OriginGraph


def claim_origins(session: Session, claim: Claim) -> list[Source]:
    """The sources a claim's attributions trace back to, by key.

    Only the links reachable from the claim's sources are read, one query per step.
    """
    start = set(session.exec(select(Attribution.source_id)
                             .where(Attribution.claim_id == claim.id)))
    links: list[tuple[int, int]] = []
    seen, frontier = set(start), sorted(start)
    while frontier:
        rows = list(session.exec(select(SourceLink.source_id, SourceLink.target_id)
                                 .where(col(SourceLink.source_id).in_(frontier))))
        links.extend(rows)
        frontier = sorted({target for _, target in rows} - seen)
        seen.update(frontier)
    origin_ids = OriginGraph(links).independent_origins(start)
    if not origin_ids:
        return []
    return list(session.exec(select(Source).where(col(Source.id).in_(sorted(origin_ids)))
                             .order_by(col(Source.key))))
