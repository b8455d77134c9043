"""Read-only queries behind `ledger audit`: a few set-based selects, no per-row lookups.

Rows come back as plain named tuples, so the audit can walk 100,000 attributions without
building ORM objects. Texts are read in chunks, one query per chunk of sources, so a large
ledger never holds every text at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import union
from sqlmodel import Session, col, select

from ledger.models import (
    Attribution,
    Claim,
    ClaimPerson,
    Person,
    PersonAlias,
    ReplyRequest,
    Response,
    Source,
    SourceLink,
)

# Ids per IN (...) list: well under SQLite's bound-parameter limit.
CHUNK = 2_000


class ClaimRow(NamedTuple):
    id: int
    statement: str
    occurred: str | None
    status: str
    claimant_id: int | None


class AttributionRow(NamedTuple):
    id: int
    claim_id: int
    source_id: int
    quote: str | None
    sourcing: str
    anchor_start: int | None
    anchor_end: int | None
    anchor_prefix: str | None
    anchor_suffix: str | None
    anchor_sha256: str | None  # the capture the quote was last found in
    voice: str | None


class ResponseRow(NamedTuple):
    id: int
    claim_id: int
    respondent_id: int
    kind: str
    date: str | None
    source_id: int | None
    quote: str | None
    anchor_sha256: str | None
    voice: str | None


class ReplyRow(NamedTuple):
    id: int
    claim_id: int
    addressee_id: int
    sent: str
    deadline: str | None


class SourceRow(NamedTuple):
    id: int
    key: str
    title: str
    published: str | None
    has_text: bool
    language: str | None
    text_sha256: str | None = None
    retrieved: str | None = None


class PersonRow(NamedTuple):
    id: int
    name: str
    kind: str
    merged_into_id: int | None
    description: str | None


@dataclass
class AuditRows:
    """Everything the claim checks need, for the claims in scope."""

    claims: list[ClaimRow] = field(default_factory=list)
    claim_people: list[tuple[int, int, str]] = field(default_factory=list)
    attributions: list[AttributionRow] = field(default_factory=list)
    responses: list[ResponseRow] = field(default_factory=list)
    replies: list[ReplyRow] = field(default_factory=list)


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _select_in(session: Session, query, column, ids: set[int] | None) -> list:
    """Run `query`, limited to `column IN ids` (in chunks) unless ids is None (everything)."""
    # Plain Core execution: column rows need none of the ORM's result processing, which
    # would cost more than the query itself on 100,000 attributions.
    # Ordered by id in SQL, so the rows need no sorting in Python; chunks come in id order.
    connection = session.connection()
    query = query.order_by(col(column).table.c.id)
    if ids is None:
        return connection.execute(query).all()
    rows: list = []
    for chunk in _chunks(ids):
        rows.extend(connection.execute(query.where(col(column).in_(chunk))).all())
    return rows


def claim_rows(session: Session, *, claim_ids: set[int] | None = None) -> AuditRows:
    """Claims, their people, attributions, responses and reply requests (all, or `claim_ids`)."""
    claims = _select_in(session, select(Claim.id, Claim.statement, Claim.occurred, Claim.status,
                                        Claim.claimant_id), Claim.id, claim_ids)
    people = _select_in(session, select(ClaimPerson.claim_id, ClaimPerson.person_id,
                                        ClaimPerson.role), ClaimPerson.claim_id, claim_ids)
    attributions = _select_in(
        session, select(Attribution.id, Attribution.claim_id, Attribution.source_id,
                        Attribution.quote, Attribution.sourcing, Attribution.anchor_start,
                        Attribution.anchor_end, Attribution.anchor_prefix,
                        Attribution.anchor_suffix, Attribution.anchor_sha256,
                        Attribution.voice), Attribution.claim_id, claim_ids)
    responses = _select_in(
        session, select(Response.id, Response.claim_id, Response.respondent_id, Response.kind,
                        Response.date, Response.source_id, Response.quote,
                        Response.anchor_sha256, Response.voice),
        Response.claim_id, claim_ids)
    replies = _select_in(session, select(ReplyRequest.id, ReplyRequest.claim_id,
                                         ReplyRequest.addressee_id, ReplyRequest.sent,
                                         ReplyRequest.deadline), ReplyRequest.claim_id,
                         claim_ids)
    # Each select is ordered by id; only chunked (scoped) reads need merging back in order.
    arrange = list if claim_ids is None or len(claim_ids) <= CHUNK else sorted
    return AuditRows(
        claims=arrange(map(ClaimRow._make, claims)),
        claim_people=[(c, p, r) for c, p, r in people],
        attributions=arrange(map(AttributionRow._make, attributions)),
        responses=arrange(map(ResponseRow._make, responses)),
        replies=arrange(map(ReplyRow._make, replies)),
    )


def source_rows(session: Session) -> dict[int, SourceRow]:
    """Every source, without its text (whether it has one is a flag)."""
    query = select(Source.id, Source.key, Source.title, Source.published,
                   Source.text_sha256, Source.language, Source.retrieved)
    return {r[0]: SourceRow(r[0], r[1], r[2], r[3], r[4] is not None, r[5], r[4], r[6])
            for r in session.exec(query)}


def link_rows(session: Session) -> list[tuple[int, int]]:
    """Every source link as (source id, target id): the edges of the origin graph."""
    return [(s, t) for s, t in session.exec(select(SourceLink.source_id, SourceLink.target_id)
                                             .order_by(col(SourceLink.id)))]


def used_source_ids(session: Session) -> set[int]:
    """Sources some attribution or response uses, or some other source relies on."""
    used = union(select(Attribution.source_id).distinct(),
                 select(Response.source_id).distinct()
                 .where(col(Response.source_id).is_not(None)),
                 select(SourceLink.target_id).distinct())
    return {row[0] for row in session.exec(used)}


def source_texts(session: Session, source_ids: Iterable[int]) -> Iterator[tuple[int, str]]:
    """(source id, stored text) for those of `source_ids` that have a text, chunk by chunk."""
    for chunk in _chunks(source_ids):
        yield from session.exec(select(Source.id, Source.text).where(
            col(Source.id).in_(chunk), col(Source.text).is_not(None)))


def people_rows(session: Session) -> tuple[list[PersonRow], list[tuple[int, str]]]:
    """Every person (merged duplicates included, flagged) and every alias as (person id, key)."""
    people = [PersonRow(*r) for r in session.exec(
        select(Person.id, Person.name, Person.kind, Person.merged_into_id, Person.description)
        .order_by(col(Person.id)))]
    aliases = [(p, k) for p, k in session.exec(select(PersonAlias.person_id,
                                                       PersonAlias.name_key))]
    return people, aliases


def claims_touching(session: Session, *, source_id: int | None = None,
                    person_id: int | None = None) -> set[int]:
    """Ids of claims that cite or are answered from a source, or that concern a person
    (about, target, mentioned or claimant)."""
    ids: set[int] = set()
    if source_id is not None:
        ids |= set(session.exec(select(Attribution.claim_id)
                                .where(Attribution.source_id == source_id)))
        ids |= set(session.exec(select(Response.claim_id)
                                .where(Response.source_id == source_id)))
    if person_id is not None:
        ids |= set(session.exec(select(ClaimPerson.claim_id)
                                .where(ClaimPerson.person_id == person_id)))
        ids |= set(session.exec(select(Claim.id).where(Claim.claimant_id == person_id)))
    return ids
