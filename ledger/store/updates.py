"""Set-based reads of the history behind each claim, for the updates a dossier shows.

A dossier lists, under each allegation, what changed after it was first recorded: its own
events after the first (edits, retraction), the responses and reply requests recorded later,
and corrections of the sources it cites. These reads follow `ledger.store.reports`: one query
per batch of claims (or once per publish for sources), whatever the number of claims, and
rows come back as plain named tuples. `ledger.dossier` turns them into words.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import and_, func, literal, select, union_all
from sqlmodel import Session, col

from ledger.models import Claim, Event, Person, ReplyRequest, Response, Source


class ClaimEventRow(NamedTuple):
    """One event of a claim: its first (the add) and every later edit or retraction."""

    claim_id: int
    seq: int
    at: str
    action: str
    state: str


class AdditionRow(NamedTuple):
    """The event that recorded a response (`kind` "response") or a reply request ("reply")."""

    claim_id: int
    kind: str
    record_id: int
    seq: int
    at: str


class SourceEventRow(NamedTuple):
    """One event of a source that has been changed since it was added."""

    source_id: int
    seq: int
    at: str
    action: str
    state: str


def load_claim_events(session: Session, claim_ids) -> list[ClaimEventRow]:
    """Every event of the claims `claim_ids` (a subquery) selects, in sequence order.

    An outer join, so the claims drive the query: with an inner join SQLite's planner walks
    every claim event and tests each against the subquery, 4 s a batch on LIAR (40 s under
    load) where this takes 0.02 s. Every claim has its add event; the NULL rows an outer join
    could give are dropped all the same.
    """
    query = (
        select(Claim.id, Event.seq, Event.at, Event.action, Event.state)
        .outerjoin(Event, and_(Event.entity == "claim", col(Event.uid) == col(Claim.uid)))
        .where(col(Claim.id).in_(claim_ids))
        .order_by(col(Event.seq))
    )
    rows = session.connection().execute(query).all()
    return [ClaimEventRow._make(row) for row in rows if row[1] is not None]


def load_additions(session: Session, claim_ids) -> list[AdditionRow]:
    """The add events of the responses and reply requests of the claims `claim_ids` selects
    (outer joins, for the reason `load_claim_events` gives)."""
    responses = (
        select(
            Response.claim_id, literal("response").label("kind"), Response.id, Event.seq, Event.at
        )
        .outerjoin(
            Event,
            and_(
                Event.entity == "response",
                col(Event.uid) == col(Response.uid),
                Event.action == "add",
            ),
        )
        .where(col(Response.claim_id).in_(claim_ids))
    )
    replies = (
        select(
            ReplyRequest.claim_id,
            literal("reply").label("kind"),
            ReplyRequest.id,
            Event.seq,
            Event.at,
        )
        .outerjoin(
            Event,
            and_(
                Event.entity == "reply",
                col(Event.uid) == col(ReplyRequest.uid),
                Event.action == "add",
            ),
        )
        .where(col(ReplyRequest.claim_id).in_(claim_ids))
    )
    query = union_all(responses, replies).order_by("seq")
    rows = session.connection().execute(query).all()
    return [AdditionRow._make(row) for row in rows if row[3] is not None]


def load_source_events(session: Session, sources=None) -> list[SourceEventRow]:
    """Every event of every source with more than one event (it was edited or recaptured),
    in sequence order: two scans of the source events, once per publish. `sources`, a
    condition on `Source`, keeps only those sources."""
    changed = (
        select(Event.uid)
        .where(Event.entity == "source")
        .group_by(col(Event.uid))
        .having(func.count() > 1)
    )
    query = (
        select(Source.id, Event.seq, Event.at, Event.action, Event.state)
        .join(Event, and_(Event.entity == "source", col(Event.uid) == col(Source.uid)))
        .where(col(Event.uid).in_(changed))
        .order_by(col(Event.seq))
    )
    if sources is not None:
        query = query.where(sources)
    return [SourceEventRow._make(row) for row in session.connection().execute(query).all()]


def person_ids_by_uid(session: Session, uids: set[str]) -> dict[str, int]:
    """Person ids for the uids the log names (one query; none for an empty set)."""
    if not uids:
        return {}
    rows = session.connection().execute(
        select(Person.uid, Person.id).where(col(Person.uid).in_(sorted(uids)))
    )
    return {uid: person_id for uid, person_id in rows}
