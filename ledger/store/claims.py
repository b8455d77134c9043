"""Claims, their attributions, responses and reply requests."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from ledger import shapes, values
from ledger.errors import Conflict, InvalidValue, NotFound
from ledger.models import (
    Attribution,
    Claim,
    ClaimPerson,
    Person,
    ReplyRequest,
    Response,
    Source,
)
from ledger.store.events import append_event
from ledger.store.people import get_person
from ledger.store.sources import get_source

ROLE_FIELDS = {"subject": "about", "target": "targets", "mentioned": "mentioned"}


# --- states and records -------------------------------------------------------------------


def people_of(session: Session, claim: Claim) -> list[tuple[str, Person]]:
    """The people a claim concerns, with their roles, in the order recorded."""
    rows = session.exec(select(ClaimPerson.role, Person)
                        .join(Person, col(Person.id) == ClaimPerson.person_id)
                        .where(ClaimPerson.claim_id == claim.id).order_by(col(ClaimPerson.id)))
    return list(rows)


def attributions_of(session: Session, claim: Claim) -> list[Attribution]:
    """A claim's attributions, in the order recorded."""
    return list(session.exec(select(Attribution).where(Attribution.claim_id == claim.id)
                             .order_by(col(Attribution.id))))


def _uid_of(session: Session, model, row_id: int | None) -> str | None:
    return session.get(model, row_id).uid if row_id is not None else None


def claim_state(session: Session, claim: Claim) -> dict[str, Any]:
    """The claim as the event log records it."""
    return shapes.claim_state(
        uid=claim.uid, statement=claim.statement,
        people=[[role, person.uid] for role, person in people_of(session, claim)],
        claimant=_uid_of(session, Person, claim.claimant_id), occurred=claim.occurred,
        status=claim.status, retraction_reason=claim.retraction_reason)


def claim_record(session: Session, claim: Claim, *, with_id: bool = True,
                 ref: str | None = None) -> dict[str, Any]:
    """The claim, with its attributions, as `--json` and the bundle show it."""
    record: dict[str, Any] = {"type": "claim"}
    if with_id:
        record["id"] = claim.id
    record["uid"] = claim.uid
    if ref is not None:
        record["ref"] = ref
    record["statement"] = claim.statement
    grouped: dict[str, list[str]] = {field: [] for field in ROLE_FIELDS.values()}
    for role, person in people_of(session, claim):
        grouped[ROLE_FIELDS[role]].append(person.name)
    record.update(grouped)
    claimant = session.get(Person, claim.claimant_id) if claim.claimant_id else None
    record.update(claimant=claimant.name if claimant else None, occurred=claim.occurred,
                  status=claim.status)
    if claim.retraction_reason is not None:
        record["retraction_reason"] = claim.retraction_reason
    record["attributions"] = [attribution_record(session, a, with_status=with_id)
                              for a in attributions_of(session, claim)]
    return record


def attribution_record(session: Session, attribution: Attribution, *,
                       with_status: bool = True) -> dict[str, Any]:
    """One attribution as it appears inside a claim record."""
    record = {"uid": attribution.uid,
              "source": session.get(Source, attribution.source_id).key,
              "quote": attribution.quote, "voice": attribution.voice,
              "sourcing": attribution.sourcing}
    if with_status:
        record["quote_status"] = attribution.quote_status
    return record


def response_state(session: Session, response: Response) -> dict[str, Any]:
    """The response as the event log records it."""
    return shapes.response_state(
        uid=response.uid, claim=_uid_of(session, Claim, response.claim_id),
        respondent=_uid_of(session, Person, response.respondent_id), kind=response.kind,
        date=response.date, source=_uid_of(session, Source, response.source_id),
        quote=response.quote, summary=response.summary, voice=response.voice)


def response_record(session: Session, response: Response, *, with_id: bool = True,
                    claim_ref: str | int | None = None) -> dict[str, Any]:
    """The response as `--json` and the bundle show it."""
    record: dict[str, Any] = {"type": "response"}
    if with_id:
        record["id"] = response.id
    source = session.get(Source, response.source_id) if response.source_id else None
    record.update(uid=response.uid,
                  claim=claim_ref if claim_ref is not None else response.claim_id,
                  by=session.get(Person, response.respondent_id).name, kind=response.kind,
                  date=response.date, source=source.key if source else None,
                  quote=response.quote, voice=response.voice, summary=response.summary)
    return record


def reply_state(session: Session, reply: ReplyRequest) -> dict[str, Any]:
    """The reply request as the event log records it."""
    return shapes.reply_state(
        uid=reply.uid, claim=_uid_of(session, Claim, reply.claim_id),
        addressee=_uid_of(session, Person, reply.addressee_id), sent=reply.sent,
        deadline=reply.deadline, channel=reply.channel)


def reply_record(session: Session, reply: ReplyRequest, *, with_id: bool = True,
                 claim_ref: str | int | None = None) -> dict[str, Any]:
    """The reply request as `--json` and the bundle show it."""
    record: dict[str, Any] = {"type": "reply"}
    if with_id:
        record["id"] = reply.id
    record.update(uid=reply.uid, claim=claim_ref if claim_ref is not None else reply.claim_id,
                  to=session.get(Person, reply.addressee_id).name, sent=reply.sent,
                  deadline=reply.deadline, channel=reply.channel)
    return record


def record_claim_event(session: Session, claim: Claim, action: str) -> None:
    """Append the claim's current state to the log."""
    session.flush()
    append_event(session, action=action, entity="claim", uid=claim.uid,
                 state=claim_state(session, claim))


def record_response_event(session: Session, response: Response, action: str) -> None:
    """Append the response's current state to the log."""
    session.flush()
    append_event(session, action=action, entity="response", uid=response.uid,
                 state=response_state(session, response))


def record_reply_event(session: Session, reply: ReplyRequest, action: str) -> None:
    """Append the reply request's current state to the log."""
    session.flush()
    append_event(session, action=action, entity="reply", uid=reply.uid,
                 state=reply_state(session, reply))


# --- claims -------------------------------------------------------------------------------


def _resolve_people(session: Session, refs, field: str) -> list[Person]:
    people: list[Person] = []
    for ref in refs:
        person = get_person(session, ref, field=field)
        if person.id not in {p.id for p in people}:
            people.append(person)
    return people


def add_claim(session: Session, *, statement: str, about: list[str] | tuple[str, ...],
              targets: list[str] | tuple[str, ...] = (),
              mentioned: list[str] | tuple[str, ...] = (), claimant: str | None = None,
              occurred: str | None = None, status: str | None = None,
              allow_retracted: bool = False, retraction_reason: str | None = None,
              uid: str | None = None) -> Claim:
    """Record an allegation about one or more people."""
    cleaned = shapes.clean_claim(statement=statement, occurred=occurred, status=status,
                                 allow_retracted=allow_retracted,
                                 retraction_reason=retraction_reason)
    if not about:
        raise InvalidValue("--about is required: who is the claim about?")
    roles = [("subject", _resolve_people(session, about, "about")),
             ("target", _resolve_people(session, targets, "target")),
             ("mentioned", _resolve_people(session, mentioned, "mentioned"))]
    claimant_person = get_person(session, claimant, field="claimant") if claimant else None
    claim = Claim(**cleaned, claimant_id=claimant_person.id if claimant_person else None)
    if uid:
        claim.uid = uid
    session.add(claim)
    session.flush()
    for role, people in roles:
        for person in people:
            session.add(ClaimPerson(claim_id=claim.id, person_id=person.id, role=role))
    record_claim_event(session, claim, "add")
    return claim


def get_claim(session: Session, ref: str | int, *, field: str = "claim") -> Claim:
    """Resolve a claim by id (or uid)."""
    raw = str(ref).strip()
    claim = None
    if raw.isdigit():
        claim = session.get(Claim, int(raw))
    elif len(raw) == 32:
        claim = session.exec(select(Claim).where(Claim.uid == raw)).first()
    else:
        raise InvalidValue(f"{field} {raw!r} is not a claim id (a number, as `ledger claim "
                           "list` shows)")
    if claim is None:
        raise NotFound(f"no claim {raw}; `ledger claim list` shows the ids")
    return claim


def list_claims(session: Session, *, about: str | None = None,
                status: str | None = None) -> list[Claim]:
    """Claims, oldest first, optionally about one person (any role) or with one status."""
    query = select(Claim)
    if about:
        person = get_person(session, about, field="about")
        query = query.where(col(Claim.id).in_(
            select(ClaimPerson.claim_id).where(ClaimPerson.person_id == person.id)))
    if status:
        query = query.where(Claim.status == values.choice(status, field="status",
                                                          allowed=values.CLAIM_STATUSES))
    return list(session.exec(query.order_by(col(Claim.id))))


def edit_claim(session: Session, claim: Claim, *, statement: str | None = None,
               occurred: str | None = None, status: str | None = None,
               claimant: str | None = None, add_about: list[str] | tuple[str, ...] = (),
               add_targets: list[str] | tuple[str, ...] = (),
               add_mentioned: list[str] | tuple[str, ...] = (),
               remove_people: list[str] | tuple[str, ...] = ()) -> Claim:
    """Change a claim; the new state is a new event and the old one stays in the log."""
    if claim.status == "retracted":
        raise Conflict(f"claim {claim.id} is retracted; record a new claim instead")
    before = claim_state(session, claim)
    if statement is not None:
        claim.statement = values.text(statement, field="statement").strip()
    if occurred is not None:
        claim.occurred = values.partial_date(occurred, field="occurred")
    if status is not None:
        claim.status = shapes.clean_status(status)
    if claimant is not None:
        claim.claimant_id = get_person(session, claimant, field="claimant").id
    existing = {(role, person.id) for role, person in people_of(session, claim)}
    for role, refs, field in (("subject", add_about, "about"), ("target", add_targets, "target"),
                              ("mentioned", add_mentioned, "mentioned")):
        for person in _resolve_people(session, refs, field):
            if (role, person.id) not in existing:
                session.add(ClaimPerson(claim_id=claim.id, person_id=person.id, role=role))
                existing.add((role, person.id))
    for ref in remove_people:
        person = get_person(session, ref, field="remove")
        rows = list(session.exec(select(ClaimPerson).where(ClaimPerson.claim_id == claim.id,
                                                           ClaimPerson.person_id == person.id)))
        if not rows:
            raise NotFound(f"claim {claim.id} does not concern {person.name!r}")
        for row in rows:
            session.delete(row)
    session.flush()
    if not any(role == "subject" for role, _ in people_of(session, claim)):
        raise InvalidValue("a claim must stay about at least one person (--about)")
    if claim_state(session, claim) == before:
        raise InvalidValue("nothing to change: give at least one new value")
    record_claim_event(session, claim, "edit")
    return claim


def retract_claim(session: Session, claim: Claim, *, reason: str) -> Claim:
    """Retract a claim: its status becomes retracted, with the reason; nothing is deleted."""
    reason = values.text(reason, field="reason").strip()
    if claim.status == "retracted":
        raise Conflict(f"claim {claim.id} is already retracted ({claim.retraction_reason})")
    claim.status, claim.retraction_reason = "retracted", reason
    record_claim_event(session, claim, "retract")
    return claim


# --- attributions -------------------------------------------------------------------------


def verify_attribution(session: Session, attribution: Attribution, source: Source) -> str:
    """Look for the quote in the source's stored text and store the result and anchor."""
    from ledger.quotes import check_quote

    if not attribution.quote:
        attribution.quote_status = "no-quote"
        attribution.anchor_start = attribution.anchor_end = None
        attribution.anchor_prefix = attribution.anchor_suffix = None
        return attribution.quote_status
    result = check_quote(text=source.text, quote=attribution.quote)
    attribution.quote_status = result.status
    attribution.anchor_start, attribution.anchor_end = result.start, result.end
    attribution.anchor_prefix, attribution.anchor_suffix = result.prefix, result.suffix
    session.flush()
    return result.status


def cite(session: Session, *, claim: Claim, source: Source, quote: str | None = None,
         voice: str | None = None, sourcing: str | None = None, strict: bool = False,
         uid: str | None = None, restoring: bool = False) -> Attribution:
    """Record that `source` carries `claim`, with the exact quote and who speaks in it.

    The quote is looked for in the source's stored text at once. With `strict`, a quote that
    is not found is refused; otherwise it is recorded as not found (the caller warns).
    A retracted claim takes no new sources, except when an import is `restoring` the
    attributions it had.
    """
    if claim.status == "retracted" and not restoring:
        raise Conflict(f"claim {claim.id} is retracted; cite a live claim")
    cleaned = shapes.clean_attribution(quote=quote, voice=voice, sourcing=sourcing)
    quote, voice, sourcing = cleaned["quote"], cleaned["voice"], cleaned["sourcing"]
    if quote is not None:
        duplicate = session.exec(select(Attribution).where(
            Attribution.claim_id == claim.id, Attribution.source_id == source.id,
            Attribution.quote == quote)).first()
        if duplicate:
            raise Conflict(f"claim {claim.id} already cites {source.key!r} with that quote")
    attribution = Attribution(claim_id=claim.id, source_id=source.id, quote=quote, voice=voice,
                              sourcing=sourcing)
    if uid:
        attribution.uid = uid
    session.add(attribution)
    session.flush()
    status = verify_attribution(session, attribution, source)
    if strict and status == "not-found":
        raise Conflict(f"the quote is not in the stored text of {source.key!r} "
                       "(--strict refuses it); `ledger audit` shows the closest passage")
    append_event(session, action="add", entity="attribution", uid=attribution.uid,
                 state=shapes.attribution_state(uid=attribution.uid, claim=claim.uid,
                                                source=source.uid, quote=quote, voice=voice,
                                                sourcing=sourcing))
    return attribution


# --- responses and reply requests -----------------------------------------------------------


def add_response(session: Session, *, claim: Claim, by: str, kind: str,
                 date: str | None = None, source: str | None = None,
                 quote: str | None = None, summary: str | None = None,
                 voice: str | None = None, uid: str | None = None) -> Response:
    """Record an answer to a claim; `voice` says who spoke for the respondent."""
    cleaned = shapes.clean_response(kind=kind, date=date, quote=quote, summary=summary,
                                    has_source=bool(source), voice=voice)
    respondent = get_person(session, by, field="by")
    source_row = get_source(session, source) if source else None
    response = Response(**cleaned, claim_id=claim.id, respondent_id=respondent.id,
                        source_id=source_row.id if source_row else None)
    if uid:
        response.uid = uid
    session.add(response)
    record_response_event(session, response, "add")
    return response


def responses_to(session: Session, claim: Claim) -> list[Response]:
    """A claim's responses, by date then order recorded."""
    return list(session.exec(select(Response).where(Response.claim_id == claim.id)
                             .order_by(col(Response.date), col(Response.id))))


def request_reply(session: Session, *, claim: Claim, to: str, sent: str,
                  deadline: str | None = None, channel: str | None = None,
                  uid: str | None = None) -> ReplyRequest:
    """Record that `to` was asked to answer `claim` (the right of reply)."""
    cleaned = shapes.clean_reply(sent=sent, deadline=deadline, channel=channel)
    addressee = get_person(session, to, field="to")
    reply = ReplyRequest(**cleaned, claim_id=claim.id, addressee_id=addressee.id)
    if uid:
        reply.uid = uid
    session.add(reply)
    record_reply_event(session, reply, "add")
    return reply


def replies_for(session: Session, claim: Claim) -> list[ReplyRequest]:
    """A claim's reply requests, by date sent."""
    return list(session.exec(select(ReplyRequest).where(ReplyRequest.claim_id == claim.id)
                             .order_by(col(ReplyRequest.sent), col(ReplyRequest.id))))
