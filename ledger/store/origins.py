"""A claim's independent origins, read from the source links it can reach."""

from __future__ import annotations

from sqlmodel import Session, col, select

from ledger.models import Attribution, Claim, Source, SourceLink
from ledger.origins import OriginGraph


def claim_origins(session: Session, claim: Claim) -> list[Source]:
    """The sources a claim's attributions trace back to, by key (`OriginGraph`)."""
    start = set(session.exec(select(Attribution.source_id)
                             .where(Attribution.claim_id == claim.id)))
    if not start:
        return []
    links = session.exec(select(SourceLink.source_id, SourceLink.target_id))
    origin_ids = OriginGraph(links).independent_origins(start)
    return list(session.exec(select(Source).where(col(Source.id).in_(sorted(origin_ids)))
                             .order_by(col(Source.key))))
