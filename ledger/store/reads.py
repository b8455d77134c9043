"""Set-based reads for export, `claim list` and ClaimReview: records in batches.

Like publish (`ledger.store.reports`), each batch of records is read with a fixed handful of
queries: the batch's rows, then their link rows and references for the whole batch at once.
The queries grow with the number of batches, never with the number of records, and memory
stays bounded by one batch (plus source metadata, without texts, where a format needs it).

The records are the same dictionaries, field for field and in the same order, as the
single-record functions give (`claim_record`, `person_record`, ...), so `--json` and the
bundle read the same whichever path built them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from sqlalchemy import Table, select
from sqlmodel import Session

from ledger import values
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
from ledger.store.people import get_person

BATCH = 2_000
SOURCE_BATCH = 50  # a bundle's sources carry their stored text

ROLE_FIELDS = {"subject": "about", "target": "targets", "mentioned": "mentioned"}
_PERSON, _ALIAS = Person.__table__, PersonAlias.__table__
_SOURCE, _LINK = Source.__table__, SourceLink.__table__
_CLAIM, _ROLE, _ATTRIBUTION = Claim.__table__, ClaimPerson.__table__, Attribution.__table__
_RESPONSE, _REPLY = Response.__table__, ReplyRequest.__table__


class SourceInfo(NamedTuple):
    """A source's metadata, without its stored text."""

    id: int
    key: str
    title: str
    publisher: str | None
    author: str | None
    url: str | None
    published: str | None
    kind: str


class ClaimPersonRef(NamedTuple):
    """A person a claim concerns, or its claimant."""

    role: str
    name: str
    slug: str
    kind: str


class ClaimView(NamedTuple):
    """A claim with everything its record and its ClaimReview need."""

    record: dict[str, Any]
    people: list[ClaimPersonRef]
    claimant: ClaimPersonRef | None
    source_ids: list[int]  # of its attributions, in order


def _pages(
    session: Session,
    query,
    table: Table,
    *,
    size: int = BATCH,
    limit: int | None = None,
    offset: int = 0,
) -> Iterator[list[Any]]:
    """The rows of `query` in id order, a batch at a time (keyset paging after the first
    batch, so a late batch costs what an early one does); `limit` and `offset` as in SQL."""
    last, remaining, first = None, limit, True
    while remaining is None or remaining > 0:
        page = query if last is None else query.where(table.c.id > last)
        step = size if remaining is None else min(size, remaining)
        page = page.order_by(table.c.id).limit(step)
        if first and offset:
            page = page.offset(offset)
        first = False
        rows = session.execute(page).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id
        if remaining is not None:
            remaining -= len(rows)


def _grouped(rows, key: str) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in rows.all():
        grouped.setdefault(row._mapping[key], []).append(row)
    return grouped


# --- people and sources ------------------------------------------------------------------------


def person_records(session: Session, *, with_id: bool = True) -> Iterator[dict[str, Any]]:
    """Every live person (merged duplicates left out) in id order, as `person_record` gives
    them."""
    query = select(_PERSON).where(_PERSON.c.merged_into_id.is_(None))
    for rows in _pages(session, query, _PERSON):
        aliases = _grouped(
            session.execute(
                select(_ALIAS.c.person_id, _ALIAS.c.name)
                .where(_ALIAS.c.person_id.between(rows[0].id, rows[-1].id))
                .order_by(_ALIAS.c.id)
            ),
            "person_id",
        )
        for row in rows:
            record: dict[str, Any] = {"type": "person"}
            if with_id:
                record["id"] = row.id
            record.update(
                uid=row.uid,
                name=row.name,
                aliases=[a.name for a in aliases.get(row.id, [])],
                kind=row.kind,
                description=row.description,
                slug=row.slug,
            )
            if row.wikidata is not None:
                record["wikidata"] = row.wikidata
            yield record


def source_records(
    session: Session, *, with_id: bool = True, with_text: bool = False
) -> Iterator[dict[str, Any]]:
    """Every source in id order, as `source_record` gives them."""
    target = _SOURCE.alias("target")
    for rows in _pages(session, select(_SOURCE), _SOURCE, size=SOURCE_BATCH):
        links = _grouped(
            session.execute(
                select(_LINK.c.source_id, _LINK.c.relation, target.c.key)
                .join(target, target.c.id == _LINK.c.target_id)
                .where(_LINK.c.source_id.between(rows[0].id, rows[-1].id))
                .order_by(_LINK.c.id)
            ),
            "source_id",
        )
        for row in rows:
            record: dict[str, Any] = {"type": "source"}
            if with_id:
                record["id"] = row.id
            record.update(
                uid=row.uid,
                key=row.key,
                title=row.title,
                publisher=row.publisher,
                author=row.author,
                url=row.url,
                published=row.published,
                kind=row.kind,
                language=row.language,
            )
            if with_text:
                record["text"] = row.text
            else:
                record["text_sha256"] = row.text_sha256
                record["text_length"] = len(row.text) if row.text is not None else None
            record["retrieved"] = row.retrieved
            record["file_sha256"] = row.file_sha256
            record["media_type"] = row.media_type
            own = links.get(row.id, [])
            for relation in values.LINK_RELATIONS:
                record[relation] = [link.key for link in own if link.relation == relation]
            yield record


def source_infos(session: Session) -> dict[int, SourceInfo]:
    """Every source's metadata by id (no texts): one query."""
    columns = [_SOURCE.c[name] for name in SourceInfo._fields]
    return {row.id: SourceInfo(*row) for row in session.execute(select(*columns))}


# --- claims ------------------------------------------------------------------------------------


def claim_views(
    session: Session,
    *,
    about_id: int | None = None,
    status: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    with_id: bool = True,
    refs: bool = False,
) -> Iterator[ClaimView]:
    """Claims in id order, optionally about one person (any role) or with one status, each
    with its record as `claim_record` gives it. With `refs`, records carry `ref` c1, c2 ...
    (counted over the claims read, as the bundle numbers them)."""
    claimant = _PERSON.alias("claimant")
    query = select(
        _CLAIM,
        claimant.c.name.label("claimant_name"),
        claimant.c.slug.label("claimant_slug"),
        claimant.c.kind.label("claimant_kind"),
    ).outerjoin(claimant, claimant.c.id == _CLAIM.c.claimant_id)
    if about_id is not None:
        query = query.where(
            _CLAIM.c.id.in_(select(_ROLE.c.claim_id).where(_ROLE.c.person_id == about_id))
        )
    if status is not None:
        query = query.where(_CLAIM.c.status == status)
    n = offset
    for rows in _pages(session, query, _CLAIM, limit=limit, offset=offset):
        ids = [row.id for row in rows]
        people = _grouped(
            session.execute(
                select(
                    _ROLE.c.claim_id, _ROLE.c.role, _PERSON.c.name, _PERSON.c.slug, _PERSON.c.kind
                )
                .join(_PERSON, _PERSON.c.id == _ROLE.c.person_id)
                .where(_ROLE.c.claim_id.in_(ids))
                .order_by(_ROLE.c.id)
            ),
            "claim_id",
        )
        attributions = _grouped(
            session.execute(
                select(_ATTRIBUTION, _SOURCE.c.key.label("source_key"))
                .join(_SOURCE, _SOURCE.c.id == _ATTRIBUTION.c.source_id)
                .where(_ATTRIBUTION.c.claim_id.in_(ids))
                .order_by(_ATTRIBUTION.c.id)
            ),
            "claim_id",
        )
        for row in rows:
            n += 1
            own = [ClaimPersonRef(p.role, p.name, p.slug, p.kind) for p in people.get(row.id, [])]
            record: dict[str, Any] = {"type": "claim"}
            if with_id:
                record["id"] = row.id
            record["uid"] = row.uid
            if refs:
                record["ref"] = f"c{n}"
            record["statement"] = row.statement
            grouped: dict[str, list[str]] = {field: [] for field in ROLE_FIELDS.values()}
            for person in own:
                grouped[ROLE_FIELDS[person.role]].append(person.name)
            record.update(grouped)
            record.update(claimant=row.claimant_name, occurred=row.occurred, status=row.status)
            if row.retraction_reason is not None:
                record["retraction_reason"] = row.retraction_reason
            cited = attributions.get(row.id, [])
            record["attributions"] = [_attribution(a, with_status=with_id) for a in cited]
            yield ClaimView(
                record=record,
                people=own,
                claimant=(
                    ClaimPersonRef(
                        "claimant", row.claimant_name, row.claimant_slug, row.claimant_kind
                    )
                    if row.claimant_id is not None
                    else None
                ),
                source_ids=[a.source_id for a in cited],
            )


def _attribution(row: Any, *, with_status: bool) -> dict[str, Any]:
    record = {
        "uid": row.uid,
        "source": row.source_key,
        "quote": row.quote,
        "voice": row.voice,
        "sourcing": row.sourcing,
    }
    if with_status:
        record["quote_status"] = row.quote_status
    return record


def claim_records(session: Session, **filters: Any) -> Iterator[dict[str, Any]]:
    """The records of `claim_views` (same arguments)."""
    for view in claim_views(session, **filters):
        yield view.record


def list_claim_records(
    session: Session,
    *,
    about: str | None = None,
    status: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """`ledger claim list`: claim records oldest first, optionally about one person (any
    role) or with one status, `limit` of them after skipping `offset`."""
    about_id = get_person(session, about, field="about").id if about else None
    checked = (
        values.choice(status, field="status", allowed=values.CLAIM_STATUSES) if status else None
    )
    return list(
        claim_records(session, about_id=about_id, status=checked, limit=limit, offset=offset)
    )


class ClaimRefs:
    """The bundle ref of each claim (c1, c2 ... in id order), from a sorted array of ids:
    8 bytes a claim, where a dict of refs would take well over 100."""

    def __init__(self, session: Session) -> None:
        from array import array

        self.ids = array("q", session.execute(select(_CLAIM.c.id).order_by(_CLAIM.c.id)).scalars())

    def __getitem__(self, claim_id: int) -> str:
        from bisect import bisect_left

        position = bisect_left(self.ids, claim_id)
        if position == len(self.ids) or self.ids[position] != claim_id:
            raise KeyError(claim_id)
        return f"c{position + 1}"


# --- responses and reply requests ----------------------------------------------------------------


def response_records(
    session: Session, *, claim_refs: ClaimRefs | None = None, with_id: bool = True
) -> Iterator[dict[str, Any]]:
    """Every response in id order, as `response_record` gives them (`claim` the claim's ref
    from `claim_refs`, else its id)."""
    query = (
        select(_RESPONSE, _PERSON.c.name.label("by"), _SOURCE.c.key.label("source_key"))
        .join(_PERSON, _PERSON.c.id == _RESPONSE.c.respondent_id)
        .outerjoin(_SOURCE, _SOURCE.c.id == _RESPONSE.c.source_id)
    )
    for rows in _pages(session, query, _RESPONSE):
        for row in rows:
            record: dict[str, Any] = {"type": "response"}
            if with_id:
                record["id"] = row.id
            record.update(
                uid=row.uid,
                claim=claim_refs[row.claim_id] if claim_refs is not None else row.claim_id,
                by=row.by,
                kind=row.kind,
                date=row.date,
                source=row.source_key,
                quote=row.quote,
                voice=row.voice,
                summary=row.summary,
            )
            if with_id:
                record["quote_status"] = row.quote_status
            yield record


def reply_records(
    session: Session, *, claim_refs: ClaimRefs | None = None, with_id: bool = True
) -> Iterator[dict[str, Any]]:
    """Every reply request in id order, as `reply_record` gives them."""
    query = select(_REPLY, _PERSON.c.name.label("to")).join(
        _PERSON, _PERSON.c.id == _REPLY.c.addressee_id
    )
    for rows in _pages(session, query, _REPLY):
        for row in rows:
            record: dict[str, Any] = {"type": "reply"}
            if with_id:
                record["id"] = row.id
            record.update(
                uid=row.uid,
                claim=claim_refs[row.claim_id] if claim_refs is not None else row.claim_id,
                to=row.to,
                sent=row.sent,
                deadline=row.deadline,
                channel=row.channel,
            )
            yield record
