"""Read-side queries for dossiers, source pages and publishing.

Everything here is set-based: a publish reads the small tables once (`load_overview`) and then
the claim tables in batches of people or of sources, a fixed handful of queries per batch
(`load_person_batch`, `load_source_batch`). The number of queries grows with the number of
batches, never with the number of claims, and memory stays bounded by one batch. A person with
many claims is read in claim batches instead: `load_person_claims` (the page index), then
`load_claim_sources`, `load_claim_batch` and `load_person_statements`.

A publish reads its batches through a `ClaimCache` (`load_person_batch_cached`,
`load_source_batch_cached`): one query for a batch's claim ids, then only the claims no
earlier batch of the same process read, in full; the cache holds a bounded number of claims.

Rows come back as plain named tuples; `ledger.dossier` turns them into template contexts.

`as_of` (a day, `YYYY-MM-DD`) limits a batch to what had been published by that day: sources
published on or before it, responses dated on or before it and reply requests sent on or before
it (and, when a response names the source it appeared in, that source published by then).
Partial dates compare by their earliest day (`2023-03` counts as 2023-03-01). Items with no
date are left out under `as_of`: nothing shows they were known by then.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from typing import NamedTuple

from sqlalchemy import String, and_, false, func, literal, or_, select, union, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

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
from ledger.store.events import head
from ledger.store.reviews import ReviewInfo, review_infos
from ledger.store.updates import (
    AdditionRow,
    ClaimEventRow,
    SourceEventRow,
    load_additions,
    load_claim_events,
    load_source_events,
)


class PersonRow(NamedTuple):
    """A person as reports show them."""

    id: int
    name: str
    slug: str
    kind: str
    description: str | None
    merged_into_id: int | None
    uid: str = ""
    wikidata: str | None = None


class SourceRow(NamedTuple):
    """A source's metadata (its stored text is not loaded, only whether there is one)."""

    id: int
    key: str
    title: str
    publisher: str | None
    author: str | None
    url: str | None
    published: str | None
    kind: str
    language: str | None
    text_sha256: str | None
    retrieved: str | None


class LinkRow(NamedTuple):
    """Source `source_id` relies on source `target_id` (cites, republishes, translates)."""

    source_id: int
    target_id: int
    relation: str


class ClaimRow(NamedTuple):
    """A claim."""

    id: int
    statement: str
    claimant_id: int | None
    occurred: str | None
    status: str
    retraction_reason: str | None


class RoleRow(NamedTuple):
    """A person a claim concerns, with their role (subject, target, mentioned)."""

    id: int
    claim_id: int
    person_id: int
    role: str


class AttributionRow(NamedTuple):
    """A source carrying a claim, with the quote and the voice inside it."""

    id: int
    claim_id: int
    source_id: int
    quote: str | None
    voice: str | None
    sourcing: str
    quote_status: str


class ResponseRow(NamedTuple):
    """An answer to a claim."""

    id: int
    claim_id: int
    respondent_id: int
    kind: str
    date: str | None
    source_id: int | None
    quote: str | None
    summary: str | None


class ReplyRow(NamedTuple):
    """A reply request: the addressee was asked to answer a claim."""

    id: int
    claim_id: int
    addressee_id: int
    sent: str
    deadline: str | None
    channel: str | None


@dataclass
class Overview:
    """The small tables, read once per publish: people, aliases, sources, links, the head."""

    sequence: int
    head_hash: str
    head_at: str | None
    people: dict[int, PersonRow]
    aliases: dict[int, list[str]]
    sources: dict[int, SourceRow]
    links: list[LinkRow]
    # Events of the sources that were changed after they were added (their corrections).
    source_events: list[SourceEventRow] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """`SEQ:HASH`, as `ledger verify --anchor` takes it."""
        return f"{self.sequence}:{self.head_hash}"

    @cached_property
    def links_from(self) -> dict[int, list[LinkRow]]:
        """Links by the source that relies on the other, in the order recorded."""
        grouped: dict[int, list[LinkRow]] = {}
        for link in self.links:
            grouped.setdefault(link.source_id, []).append(link)
        return grouped

    @cached_property
    def links_to(self) -> dict[int, list[LinkRow]]:
        """Links by the source relied on, in the order recorded."""
        grouped: dict[int, list[LinkRow]] = {}
        for link in self.links:
            grouped.setdefault(link.target_id, []).append(link)
        return grouped

    @cached_property
    def person_ids(self) -> dict[str, int]:
        """Person ids by uid, for the people the event log names."""
        return {p.uid: p.id for p in self.people.values()}

    @cached_property
    def source_events_by_source(self) -> dict[int, list[SourceEventRow]]:
        return _group(self.source_events, attrgetter("source_id"))

    def live_people(self) -> list[PersonRow]:
        """People not merged into another record, in id order."""
        return [p for p in self.people.values() if p.merged_into_id is None]


class Groups(dict):
    """Rows grouped by a key: a dict whose missing key reads as no rows (and stays missing)."""

    def __missing__(self, key: object) -> tuple:
        return ()


def _group(rows, key) -> Groups:
    grouped = Groups()
    for row in rows:
        value = key(row)
        found = grouped.get(value)
        if found is None:
            grouped[value] = [row]
        else:
            found.append(row)
    return grouped


@dataclass
class Batch:
    """Claims and everything attached to them, for one batch of people or sources.

    The `by_*` indexes are built once per batch, on first use, so building each page of the
    batch costs time in proportion to that page, not to the batch.
    """

    claims: dict[int, ClaimRow] = field(default_factory=dict)
    roles: list[RoleRow] = field(default_factory=list)
    attributions: list[AttributionRow] = field(default_factory=list)
    responses: list[ResponseRow] = field(default_factory=list)
    replies: list[ReplyRow] = field(default_factory=list)
    # The history behind the claims (person batches only): see ledger.store.updates.
    claim_events: list[ClaimEventRow] = field(default_factory=list)
    additions: list[AdditionRow] = field(default_factory=list)
    # Where each claim of the batch stands in review (ledger.store.reviews), and the claims
    # left out of it: not approved (or changed since), and held.
    reviews: dict[int, ReviewInfo] = field(default_factory=dict)
    unapproved: set[int] = field(default_factory=set)
    held: set[int] = field(default_factory=set)

    @cached_property
    def claim_events_by_claim(self) -> dict[int, list[ClaimEventRow]]:
        return _group(self.claim_events, attrgetter("claim_id"))

    @cached_property
    def additions_by_claim(self) -> dict[int, list[AdditionRow]]:
        return _group(self.additions, attrgetter("claim_id"))

    @cached_property
    def roles_by_claim(self) -> dict[int, list[RoleRow]]:
        return _group(self.roles, attrgetter("claim_id"))

    @cached_property
    def roles_by_person(self) -> dict[int, list[RoleRow]]:
        return _group(self.roles, attrgetter("person_id"))

    @cached_property
    def attributions_by_claim(self) -> dict[int, list[AttributionRow]]:
        return _group(self.attributions, attrgetter("claim_id"))

    @cached_property
    def attributions_by_source(self) -> dict[int, list[AttributionRow]]:
        return _group(self.attributions, attrgetter("source_id"))

    @cached_property
    def responses_by_claim(self) -> dict[int, list[ResponseRow]]:
        return _group(self.responses, attrgetter("claim_id"))

    @cached_property
    def responses_by_respondent(self) -> dict[int, list[ResponseRow]]:
        return _group(self.responses, attrgetter("respondent_id"))

    @cached_property
    def responses_by_source(self) -> dict[int, list[ResponseRow]]:
        return _group(self.responses, attrgetter("source_id"))

    @cached_property
    def replies_by_claim(self) -> dict[int, list[ReplyRow]]:
        return _group(self.replies, attrgetter("claim_id"))

    @cached_property
    def claims_by_claimant(self) -> dict[int, list[ClaimRow]]:
        return _group(self.claims.values(), attrgetter("claimant_id"))


_PERSON_COLUMNS = (Person.id, Person.name, Person.slug, Person.kind, Person.description,
                   Person.merged_into_id, Person.uid, Person.wikidata)
_SOURCE_COLUMNS = (Source.id, Source.key, Source.title, Source.publisher, Source.author,
                   Source.url, Source.published, Source.kind, Source.language,
                   Source.text_sha256, Source.retrieved)
_CLAIM_COLUMNS = (Claim.id, Claim.statement, Claim.claimant_id, Claim.occurred, Claim.status,
                  Claim.retraction_reason)
_ROLE_COLUMNS = (ClaimPerson.id, ClaimPerson.claim_id, ClaimPerson.person_id, ClaimPerson.role)
_ATTRIBUTION_COLUMNS = (Attribution.id, Attribution.claim_id, Attribution.source_id,
                        Attribution.quote, Attribution.voice, Attribution.sourcing,
                        Attribution.quote_status)
_RESPONSE_COLUMNS = (Response.id, Response.claim_id, Response.respondent_id, Response.kind,
                     Response.date, Response.source_id, Response.quote, Response.summary)
_REPLY_COLUMNS = (ReplyRequest.id, ReplyRequest.claim_id, ReplyRequest.addressee_id,
                  ReplyRequest.sent, ReplyRequest.deadline, ReplyRequest.channel)


def load_overview(session: Session, *, people: Iterable[int] | None = None,
                  person_uids: Iterable[str] = (),
                  sources: Iterable[int] | None = None) -> Overview:
    """Read the head, every person, alias, source (without text) and link, and the events of
    sources changed since they were added: seven queries.

    With `people` (ids; `person_uids` adds people by uid) only those people and their aliases
    are read, and with `sources` only those sources and every source they rely on through
    links, directly or not (their origins), with their events: what one dossier shows
    (`load_dossier_overview`)."""
    sequence, head_hash = head(session)
    from ledger.models import Event

    connection = session.connection()
    head_at = connection.execute(select(Event.at).where(Event.seq == sequence)).scalar()
    person_filter = alias_filter = source_filter = None
    if people is not None and len(set(people)) + len(set(person_uids)) <= _MAX_LISTED:
        ids, uids = sorted(set(people)), sorted(set(person_uids))
        person_filter = or_(col(Person.id).in_(ids), col(Person.uid).in_(uids))
        alias_filter = col(PersonAlias.person_id).in_(ids)
    links = [LinkRow._make(row) for row in connection.execute(
        select(SourceLink.source_id, SourceLink.target_id, SourceLink.relation)
        .order_by(col(SourceLink.id)))]
    wanted = _relied_on(set(sources), links) if sources is not None else set()
    if sources is not None and len(wanted) <= _MAX_LISTED:
        source_filter = col(Source.id).in_(sorted(wanted))
    people_rows = {row[0]: PersonRow._make(row) for row in connection.execute(
        _where(select(*_PERSON_COLUMNS), person_filter).order_by(col(Person.id)))}
    aliases: dict[int, list[str]] = {}
    for person_id, name in connection.execute(
            _where(select(PersonAlias.person_id, PersonAlias.name), alias_filter)
            .order_by(col(PersonAlias.id))):
        aliases.setdefault(person_id, []).append(name)
    source_rows = {row[0]: SourceRow._make(row) for row in connection.execute(
        _where(select(*_SOURCE_COLUMNS), source_filter).order_by(col(Source.id)))}
    return Overview(sequence=sequence, head_hash=head_hash, head_at=head_at,
                    people=people_rows, aliases=aliases, sources=source_rows, links=links,
                    source_events=load_source_events(session, source_filter))


# Past this many ids the overview is read whole rather than by a list of ids (a statement
# holds at most 32,766 parameters on SQLite and 65,535 on PostgreSQL).
_MAX_LISTED = 10_000


def _where(query, condition):
    return query if condition is None else query.where(condition)


def _relied_on(sources: set[int], links: list[LinkRow]) -> set[int]:
    """`sources` and every source they rely on through links, directly or not."""
    targets: dict[int, list[int]] = {}
    for link in links:
        targets.setdefault(link.source_id, []).append(link.target_id)
    found, todo = set(sources), list(sources)
    while todo:
        for target in targets.get(todo.pop(), ()):
            if target not in found:
                found.add(target)
                todo.append(target)
    return found


def load_dossier_overview(session: Session, *, person_id: int, batch: Batch) -> Overview:
    """The overview one person's dossier needs, from the batch that holds their claims: the
    person, everyone the batch's claims name (in their roles, as claimant, respondent or
    addressee, and in the claims' earlier states), the sources the claims cite and those
    they rely on; not the whole ledger's people and sources."""
    people = {person_id}
    people.update(row.person_id for row in batch.roles)
    people.update(claim.claimant_id for claim in batch.claims.values()
                  if claim.claimant_id is not None)
    people.update(row.respondent_id for row in batch.responses)
    people.update(row.addressee_id for row in batch.replies)
    uids: set[str] = set()
    for event in batch.claim_events:
        state = json.loads(event.state)
        if state.get("claimant"):
            uids.add(state["claimant"])
        uids.update(pair[1] for pair in state.get("people") or () if len(pair) > 1)
    sources = {row.source_id for row in batch.attributions}
    sources.update(row.source_id for row in batch.responses if row.source_id is not None)
    return load_overview(session, people=people, person_uids=uids, sources=sources)


def on_or_before(column, day: str) -> ColumnElement[bool]:
    """SQL: the partial date in `column` is on or before `day` (YYYY-MM-DD), by its earliest
    day. A partial date's earliest day is on or before `day` exactly when the date is at most
    the same-length prefix of `day` (`2023-03` <= `2023-03` for 2023-03-15)."""
    prefix = func.substr(literal(day, String), 1, func.length(column))
    return and_(column.is_not(None), column <= prefix)


def _visible_sources(as_of: str):
    return select(Source.id).where(on_or_before(Source.published, as_of))


def _load(session: Session, claim_ids, *, as_of: str | None, attribution_filter=None,
          response_filter=None, with_replies: bool = True, drafts: bool = False) -> Batch:
    """The claims whose ids `claim_ids` (a subquery) selects, with their people,
    attributions, responses and reply requests: five queries, and three for their reviews.

    Only claims a reviewer approved (and nothing changed since) are kept, or with `drafts`
    every claim; a held claim never is. The others are named in `unapproved` and `held`.

    The statements run on the session's connection, as Core: the rows are plain columns, and
    the ORM's result processing cost more than the query on a large batch."""
    batch = Batch()
    connection = session.connection()
    claims = select(*_CLAIM_COLUMNS).where(col(Claim.id).in_(claim_ids)).order_by(col(Claim.id))
    batch.claims = {row[0]: ClaimRow._make(row) for row in connection.execute(claims).all()}
    roles = (select(*_ROLE_COLUMNS).where(col(ClaimPerson.claim_id).in_(claim_ids))
             .order_by(col(ClaimPerson.id)))
    batch.roles = [RoleRow._make(row) for row in connection.execute(roles).all()]

    attributions = select(*_ATTRIBUTION_COLUMNS).where(
        attribution_filter if attribution_filter is not None
        else col(Attribution.claim_id).in_(claim_ids))
    responses = select(*_RESPONSE_COLUMNS).where(
        response_filter if response_filter is not None
        else col(Response.claim_id).in_(claim_ids))
    replies = select(*_REPLY_COLUMNS).where(col(ReplyRequest.claim_id).in_(claim_ids))
    if as_of is not None:
        attributions = attributions.where(col(Attribution.source_id).in_(_visible_sources(as_of)))
        responses = responses.where(on_or_before(col(Response.date), as_of), or_(
            col(Response.source_id).is_(None),
            col(Response.source_id).in_(_visible_sources(as_of))))
        replies = replies.where(on_or_before(col(ReplyRequest.sent), as_of))
    batch.attributions = [AttributionRow._make(row) for row in
                          connection.execute(attributions.order_by(col(Attribution.id))).all()]
    batch.responses = [ResponseRow._make(row) for row in
                       connection.execute(responses.order_by(col(Response.id))).all()]
    if with_replies:
        batch.replies = [ReplyRow._make(row) for row in
                         connection.execute(replies.order_by(col(ReplyRequest.id))).all()]
    return _reviewed(session, batch, claim_ids, drafts=drafts)


def _left_out(info: ReviewInfo | None, *, drafts: bool) -> str | None:
    """Why a claim may not be published ("held", "unapproved"), or None when it may."""
    if info is None or info.held:
        return "held"
    if not info.approved and not drafts:
        return "unapproved"
    return None


def _reviewed(session: Session, batch: Batch, claim_ids, *, drafts: bool) -> Batch:
    """The batch without the claims that may not be published (see `_load`)."""
    batch.reviews = review_infos(session, claim_ids, exact_newest=False)
    for claim_id in batch.claims:
        why = _left_out(batch.reviews.get(claim_id), drafts=drafts)
        if why == "held":
            batch.held.add(claim_id)
        elif why == "unapproved":
            batch.unapproved.add(claim_id)
    out = batch.held | batch.unapproved
    if out:
        batch.claims = {k: v for k, v in batch.claims.items() if k not in out}
        batch.roles = [r for r in batch.roles if r.claim_id not in out]
        batch.attributions = [r for r in batch.attributions if r.claim_id not in out]
        batch.responses = [r for r in batch.responses if r.claim_id not in out]
        batch.replies = [r for r in batch.replies if r.claim_id not in out]
    return batch


def load_person_batch(session: Session, *, first_id: int, last_id: int,
                      as_of: str | None = None, drafts: bool = False) -> Batch:
    """Every claim that concerns, is alleged by or was answered by a person whose id is in
    first_id..last_id, with everything attached and the history behind it (its events and
    the events that added its responses and reply requests): seven queries, whatever the
    number of claims.
    """
    claim_ids = _person_claim_ids(first_id, last_id)
    batch = _load(session, claim_ids, as_of=as_of, drafts=drafts)
    batch.claim_events = load_claim_events(session, claim_ids)
    batch.additions = load_additions(session, claim_ids)
    return batch


def _person_claim_ids(first_id: int, last_id: int):
    """The ids of the claims that concern, are alleged by or were answered by a person whose
    id is in first_id..last_id (a subquery)."""
    return union(
        select(ClaimPerson.claim_id).where(col(ClaimPerson.person_id).between(first_id, last_id)),
        select(Claim.id).where(col(Claim.claimant_id).between(first_id, last_id)),
        select(Response.claim_id).where(col(Response.respondent_id).between(first_id, last_id)),
    )


def person_claim_counts(session: Session, *, first_id: int, last_id: int) -> dict[int, int]:
    """For each person whose id is in first_id..last_id, how many claim rows their dossier
    reads: their roles in claims, the claims they allege and the responses they gave (one
    query). A person with none is not in the result."""
    rows = union_all(
        select(ClaimPerson.person_id.label("person_id"))
        .where(col(ClaimPerson.person_id).between(first_id, last_id)),
        select(Claim.claimant_id).where(col(Claim.claimant_id).between(first_id, last_id)),
        select(Response.respondent_id)
        .where(col(Response.respondent_id).between(first_id, last_id)),
    ).subquery()
    query = select(rows.c.person_id, func.count()).group_by(rows.c.person_id)
    return {person_id: count for person_id, count in session.connection().execute(query)}


@dataclass
class PersonClaims:
    """The page index of one person's dossier read in claim batches: the claims they have a
    role in that may be published (`roles`: claim id -> their roles in it, in the order
    recorded; ids ascending), which of those are retracted, and the claims left out (not
    approved, or changed since; held)."""

    roles: dict[int, tuple[str, ...]] = field(default_factory=dict)
    retracted: set[int] = field(default_factory=set)
    unapproved: set[int] = field(default_factory=set)
    held: set[int] = field(default_factory=set)


def load_person_claims(session: Session, *, person_id: int, drafts: bool = False,
                       chunk: int = 5_000) -> PersonClaims:
    """The claims one person has a role in, with their roles, status and review (`PersonClaims`),
    but nothing attached to them: one query, then three per `chunk` claims for their reviews
    and status. `load_claim_batch` then reads them a batch at a time."""
    connection = session.connection()
    grouped: dict[int, list[str]] = {}
    for claim_id, role in connection.execute(
            select(ClaimPerson.claim_id, ClaimPerson.role)
            .where(ClaimPerson.person_id == person_id).order_by(col(ClaimPerson.id))):
        grouped.setdefault(claim_id, []).append(role)
    found = PersonClaims()
    ids = sorted(grouped)
    for start in range(0, len(ids), chunk):
        first, last = ids[start], ids[min(start + chunk, len(ids)) - 1]
        claim_ids = (select(ClaimPerson.claim_id)
                     .where(ClaimPerson.person_id == person_id,
                            col(ClaimPerson.claim_id).between(first, last)))
        infos = review_infos(session, claim_ids, exact_newest=False)
        statuses = dict(connection.execute(
            select(Claim.id, Claim.status).where(col(Claim.id).in_(claim_ids))).all())
        for claim_id in ids[start:start + chunk]:
            why = _left_out(infos.get(claim_id), drafts=drafts)
            if why == "held":
                found.held.add(claim_id)
            elif why == "unapproved":
                found.unapproved.add(claim_id)
            else:
                found.roles[claim_id] = tuple(dict.fromkeys(grouped[claim_id]))
                if statuses.get(claim_id) == "retracted":
                    found.retracted.add(claim_id)
    return found


def load_claim_batch(session: Session, *, claim_ids: list[int], drafts: bool = False) -> Batch:
    """The claims with these ids (a list: keep it to a few thousand), with everything
    attached and the history behind them, as `load_person_batch` reads them: ten queries."""
    return _claims_in_full(session, claim_ids, drafts=drafts)


def _claims_in_full(session: Session, claim_ids: list[int], *, drafts: bool) -> Batch:
    batch = _load(session, claim_ids, as_of=None, drafts=drafts)
    batch.claim_events = load_claim_events(session, claim_ids)
    batch.additions = load_additions(session, claim_ids)
    return batch


def load_claim_sources(session: Session, *, claim_ids: list[int]) -> Batch:
    """Only the attributions and responses of these claims (two queries): which sources a
    dossier cites for them, and in what order, before the claims are read in full."""
    connection = session.connection()
    batch = Batch()
    batch.attributions = [AttributionRow._make(row) for row in connection.execute(
        select(*_ATTRIBUTION_COLUMNS).where(col(Attribution.claim_id).in_(claim_ids))
        .order_by(col(Attribution.id))).all()]
    batch.responses = [ResponseRow._make(row) for row in connection.execute(
        select(*_RESPONSE_COLUMNS).where(col(Response.claim_id).in_(claim_ids))
        .order_by(col(Response.id))).all()]
    return batch


def load_person_statements(session: Session, *, person_id: int,
                           drafts: bool = False) -> Batch:
    """The claims one person alleges, and those they answered without a role in them, with
    their people and responses (no attributions, replies or history): what the first page
    of their dossier says they said, when their own claims are read in claim batches."""
    own = select(ClaimPerson.claim_id).where(ClaimPerson.person_id == person_id)
    claim_ids = union(
        select(Claim.id).where(Claim.claimant_id == person_id),
        select(Response.claim_id).where(Response.respondent_id == person_id,
                                        col(Response.claim_id).not_in(own)),
    )
    return _load(session, claim_ids, as_of=None, attribution_filter=false(),
                 with_replies=False, drafts=drafts)


def load_source_batch(session: Session, *, first_id: int, last_id: int,
                      drafts: bool = False) -> Batch:
    """What the sources with ids in first_id..last_id carry: their attributions and the
    responses published in them, with the claims those concern and the claims' people."""
    in_attribution = col(Attribution.source_id).between(first_id, last_id)
    in_response = col(Response.source_id).between(first_id, last_id)
    claim_ids = union(select(Attribution.claim_id).where(in_attribution),
                      select(Response.claim_id).where(in_response))
    return _load(session, claim_ids, as_of=None, attribution_filter=in_attribution,
                 response_filter=in_response, with_replies=False, drafts=drafts)


# --- each claim read once per publish ------------------------------------------------------


class ClaimParts(NamedTuple):
    """One claim as a batch reads it, with everything attached (`load_claim_batch`), or,
    when it may not be published, only why (`left_out`: "held", "unapproved") and its
    review."""

    claim_id: int
    claim: ClaimRow | None
    left_out: str | None
    review: ReviewInfo | None
    roles: tuple[RoleRow, ...] = ()
    attributions: tuple[AttributionRow, ...] = ()
    responses: tuple[ResponseRow, ...] = ()
    replies: tuple[ReplyRow, ...] = ()
    claim_events: tuple[ClaimEventRow, ...] = ()
    additions: tuple[AdditionRow, ...] = ()


class ClaimCache:
    """The claims one publish has read, by id, so each batch reads from the database only
    the claims no earlier batch read (a claim is on the dossier of each of its people, and on
    the page of each source carrying it: on the benchmark ledger the person batches read
    each claim 2.7 times). What a claim reads does not depend on the batch that reads it, so
    a batch built from the cache is the batch read whole, row for row.

    Bounded: at most `limit` claims are held, the least recently used dropped first. A
    claim's parts are its rows (about 2-3 KB on a real ledger, its events' states included),
    so the default bound holds a few tens of MB. One cache per process: a forked worker fills
    its own."""

    def __init__(self, limit: int = 20_000, *, drafts: bool = False) -> None:
        from collections import OrderedDict

        self.limit = limit
        self.drafts = drafts
        self._parts: OrderedDict[int, ClaimParts] = OrderedDict()
        self.read = 0  # claims read from the database

    def get(self, claim_id: int) -> ClaimParts | None:
        parts = self._parts.get(claim_id)
        if parts is not None:
            self._parts.move_to_end(claim_id)
        return parts

    def put(self, parts: ClaimParts) -> None:
        self._parts[parts.claim_id] = parts
        self._parts.move_to_end(parts.claim_id)
        while len(self._parts) > self.limit:
            self._parts.popitem(last=False)

    def __len__(self) -> int:
        return len(self._parts)


# Claim ids per read of the claims a cache lacks: its review read repeats the
# list in seven parts of one statement, within SQLite's 32,766 parameters.
_CACHE_READ = 2_000


def _claim_parts(session: Session, claim_ids: list[int], cache: ClaimCache
                 ) -> list[ClaimParts]:
    """The parts of these claims (ids ascending), from the cache, and the claims it lacks
    read in full (as `load_claim_batch` reads them) and kept in it."""
    found: dict[int, ClaimParts] = {}
    missing = []
    for claim_id in claim_ids:
        parts = cache.get(claim_id)
        if parts is None:
            missing.append(claim_id)
        else:
            found[claim_id] = parts
    for start in range(0, len(missing), _CACHE_READ):
        chunk = missing[start:start + _CACHE_READ]
        batch = _claims_in_full(session, chunk, drafts=cache.drafts)
        cache.read += len(chunk)
        events, additions = batch.claim_events_by_claim, batch.additions_by_claim
        for claim_id in chunk:
            claim = batch.claims.get(claim_id)
            review = batch.reviews.get(claim_id)
            if claim is not None:
                parts = ClaimParts(
                    claim_id, claim, None, review,
                    tuple(batch.roles_by_claim[claim_id]),
                    tuple(batch.attributions_by_claim[claim_id]),
                    tuple(batch.responses_by_claim[claim_id]),
                    tuple(batch.replies_by_claim[claim_id]),
                    tuple(events[claim_id]), tuple(additions[claim_id]))
            elif claim_id in batch.held:
                parts = ClaimParts(claim_id, None, "held", review)
            elif claim_id in batch.unapproved:
                parts = ClaimParts(claim_id, None, "unapproved", review)
            else:
                continue  # no such claim
            found[claim_id] = parts
            cache.put(parts)
    return [found[claim_id] for claim_id in claim_ids if claim_id in found]


def _assembled(parts: list[ClaimParts], *, source_range: tuple[int, int] | None = None
               ) -> Batch:
    """A batch from claims' parts (ids ascending), with its rows in the order `_load` reads
    them. With `source_range` (first, last source id), a source batch: only the attributions
    and responses in those sources, and no replies or history, as `load_source_batch`."""
    batch = Batch()
    by_claim: dict[str, Groups] = {name: Groups() for name in (
        "roles", "attributions", "responses", "replies", "claim_events", "additions")}
    for item in parts:
        batch.reviews[item.claim_id] = item.review
        if item.left_out == "held":
            batch.held.add(item.claim_id)
            continue
        if item.left_out == "unapproved":
            batch.unapproved.add(item.claim_id)
            continue
        batch.claims[item.claim_id] = item.claim
        attributions, responses = item.attributions, item.responses
        if source_range is not None:
            first, last = source_range
            attributions = tuple(r for r in attributions if first <= r.source_id <= last)
            responses = tuple(r for r in responses
                              if r.source_id is not None and first <= r.source_id <= last)
            rows = {"roles": item.roles, "attributions": attributions,
                    "responses": responses}
        else:
            rows = {"roles": item.roles, "attributions": attributions, "responses": responses,
                    "replies": item.replies, "claim_events": item.claim_events,
                    "additions": item.additions}
        for name, found in rows.items():
            if found:
                by_claim[name][item.claim_id] = list(found)
    for name, key in (("roles", "id"), ("attributions", "id"), ("responses", "id"),
                      ("replies", "id"), ("claim_events", "seq"), ("additions", "seq")):
        rows = [row for group in by_claim[name].values() for row in group]
        rows.sort(key=attrgetter(key))
        setattr(batch, name, rows)
        batch.__dict__[f"{name}_by_claim"] = by_claim[name]  # the cached_property, built
    return batch


def load_person_batch_cached(session: Session, *, first_id: int, last_id: int,
                             cache: ClaimCache) -> Batch:
    """`load_person_batch` (no `as_of`; `drafts` is the cache's) through a publish's claim
    cache: one query for the batch's claim ids, then only the claims the cache lacks."""
    rows = session.connection().execute(_person_claim_ids(first_id, last_id)).all()
    return _assembled(_claim_parts(session, sorted(row[0] for row in rows), cache))


def load_source_batch_cached(session: Session, *, first_id: int, last_id: int,
                             cache: ClaimCache) -> Batch:
    """`load_source_batch` through a publish's claim cache (see `load_person_batch_cached`)."""
    claim_ids = union(
        select(Attribution.claim_id).where(col(Attribution.source_id).between(first_id, last_id)),
        select(Response.claim_id).where(col(Response.source_id).between(first_id, last_id)))
    rows = session.connection().execute(claim_ids).all()
    return _assembled(_claim_parts(session, sorted(row[0] for row in rows), cache),
                      source_range=(first_id, last_id))
