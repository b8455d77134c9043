"""Queries for exchanging claims with other tools (ClaimReview, spreadsheets)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlmodel import Session, col, select

from ledger import values
from ledger.errors import InvalidValue
from ledger.models import Event, Source


def find_source_by_url(session: Session, url: str) -> Source | None:
    """The source whose normalized URL matches `url`, if any (None for a malformed URL)."""
    try:
        checked = values.url(url)
    except InvalidValue:
        return None
    if checked is None:
        return None
    return session.exec(select(Source).where(Source.url_normalized == checked[1])).first()


def status_dates(session: Session) -> dict[str, str]:
    """For each claim uid, the UTC day (YYYY-MM-DD) its current status was set.

    Read from the event log, so it is the same on every run: the day of the first event of
    the newest run of events that carry the current status.
    """
    since: dict[str, tuple[str, str]] = {}  # uid -> (status, day)
    from ledger.errors import ChainBroken
    from ledger.integrity import logged_state

    query = (select(Event.seq, Event.uid, Event.at, Event.state).where(Event.entity == "claim")
             .order_by(col(Event.seq)))
    for seq, uid, at, state in session.exec(query):
        parsed = logged_state("claim", uid, state)
        if parsed is None or not isinstance(at, str):
            raise ChainBroken(f"event {seq} is malformed (its state is not a claim's); "
                              "`ledger verify` says what is wrong")
        status = parsed.get("status")
        if uid not in since or since[uid][0] != status:
            since[uid] = (status, at[:10])
    return {uid: day for uid, (_status, day) in since.items()}



def count_rows(session: Session, model) -> int:
    """How many rows a table (a model class) holds."""
    from sqlalchemy import func

    return session.exec(select(func.count()).select_from(model)).one()


def cited_without_quote(session: Session, *, statement: str, source_key: str) -> bool:
    """Whether a claim with this statement already cites the source with no quote."""
    from ledger.models import Attribution, Claim

    query = (select(Attribution.id).join(Claim, col(Claim.id) == Attribution.claim_id)
             .join(Source, col(Source.id) == Attribution.source_id)
             .where(Claim.statement == values.nfc(statement).strip(), Source.key == source_key,
                    col(Attribution.quote).is_(None)).limit(1))
    return session.exec(query).first() is not None


def find_source_by_title(session: Session, title: str) -> Source | None:
    """The oldest source with exactly this title, if any."""
    return session.exec(select(Source).where(Source.title == values.nfc(title).strip())
                        .order_by(col(Source.id)).limit(1)).first()


def by_id(session: Session, model, row_id: int):
    """The row of `model` with this id (None if there is none)."""
    return session.get(model, row_id)


def in_id_order(session: Session, model, *, live: bool = False) -> Iterator:
    """Every row of `model`, oldest first; with `live`, people merged into another left out."""
    query = select(model)
    if live:
        query = query.where(col(model.merged_into_id).is_(None))
    return iter(session.exec(query.order_by(col(model.id))))
