"""A stored record's logged state, read back from its rows, and the event that records it.

Edits and merges change rows through the session and then log the record's new state with
these functions. They depend only on the models and the event log, so people.py, sources.py,
claims.py and replies.py can all use them without importing one another.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from ledger import shapes
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
from ledger.store.events import append_event


def aliases_of(session: Session, person: Person) -> list[str]:
    """A person's aliases, in the order they were recorded."""
    rows = session.exec(
        select(PersonAlias.name)
        .where(PersonAlias.person_id == person.id)
        .order_by(col(PersonAlias.id))
    )
    return list(rows)


def people_of(session: Session, claim: Claim) -> list[tuple[str, Person]]:
    """The people a claim concerns, with their roles, in the order recorded."""
    rows = session.exec(
        select(ClaimPerson.role, Person)
        .join(Person, col(Person.id) == ClaimPerson.person_id)
        .where(ClaimPerson.claim_id == claim.id)
        .order_by(col(ClaimPerson.id))
    )
    return list(rows)


def attributions_of(session: Session, claim: Claim) -> list[Attribution]:
    """A claim's attributions, in the order recorded."""
    return list(
        session.exec(
            select(Attribution)
            .where(Attribution.claim_id == claim.id)
            .order_by(col(Attribution.id))
        )
    )


def links_of(session: Session, source: Source) -> list[tuple[str, Source]]:
    """The sources this one relies on, with the relation, in the order recorded."""
    rows = session.exec(
        select(SourceLink.relation, Source)
        .join(Source, col(Source.id) == SourceLink.target_id)
        .where(SourceLink.source_id == source.id)
        .order_by(col(SourceLink.id))
    )
    return [(relation, target) for relation, target in rows]


def _uid_of(session: Session, model, row_id: int | None) -> str | None:
    return session.get(model, row_id).uid if row_id is not None else None


def person_state(session: Session, person: Person) -> dict[str, Any]:
    """The person as the event log records it."""
    return shapes.person_state(
        uid=person.uid,
        name=person.name,
        kind=person.kind,
        description=person.description,
        slug=person.slug,
        aliases=aliases_of(session, person),
        merged_into=_uid_of(session, Person, person.merged_into_id),
        wikidata=person.wikidata,
    )


def source_state(session: Session, source: Source) -> dict[str, Any]:
    """The source as the event log records it (its text included: nothing is lost)."""
    return shapes.source_state(
        uid=source.uid,
        key=source.key,
        title=source.title,
        publisher=source.publisher,
        author=source.author,
        url=source.url,
        published=source.published,
        kind=source.kind,
        language=source.language,
        text=source.text,
        text_sha256=source.text_sha256,
        retrieved=source.retrieved,
        file_sha256=source.file_sha256,
        media_type=source.media_type,
    )


def claim_state(session: Session, claim: Claim) -> dict[str, Any]:
    """The claim as the event log records it."""
    return shapes.claim_state(
        uid=claim.uid,
        statement=claim.statement,
        people=[[role, person.uid] for role, person in people_of(session, claim)],
        claimant=_uid_of(session, Person, claim.claimant_id),
        occurred=claim.occurred,
        status=claim.status,
        retraction_reason=claim.retraction_reason,
    )


def response_state(session: Session, response: Response) -> dict[str, Any]:
    """The response as the event log records it."""
    return shapes.response_state(
        uid=response.uid,
        claim=_uid_of(session, Claim, response.claim_id),
        respondent=_uid_of(session, Person, response.respondent_id),
        kind=response.kind,
        date=response.date,
        source=_uid_of(session, Source, response.source_id),
        quote=response.quote,
        summary=response.summary,
        voice=response.voice,
    )


def reply_state(session: Session, reply: ReplyRequest) -> dict[str, Any]:
    """The reply request as the event log records it."""
    return shapes.reply_state(
        uid=reply.uid,
        claim=_uid_of(session, Claim, reply.claim_id),
        addressee=_uid_of(session, Person, reply.addressee_id),
        sent=reply.sent,
        deadline=reply.deadline,
        channel=reply.channel,
    )


_STATES = {
    Person: ("person", person_state),
    Source: ("source", source_state),
    Claim: ("claim", claim_state),
    Response: ("response", response_state),
    ReplyRequest: ("reply", reply_state),
}


def record_event(session: Session, record, action: str) -> None:
    """Append a stored record's current state (after an edit or a merge) to the log."""
    session.flush()
    entity, state = _STATES[type(record)]
    append_event(
        session, action=action, entity=entity, uid=record.uid, state=state(session, record)
    )


def record_claim_event(session: Session, claim: Claim, action: str) -> None:
    """Append the claim's current state to the log."""
    record_event(session, claim, action)


def record_response_event(session: Session, response: Response, action: str) -> None:
    """Append the response's current state to the log."""
    record_event(session, response, action)


def record_reply_event(session: Session, reply: ReplyRequest, action: str) -> None:
    """Append the reply request's current state to the log."""
    record_event(session, reply, action)
