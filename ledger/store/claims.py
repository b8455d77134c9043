"""Claims, their attributions, responses and reply requests."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from ledger import shapes, values
from ledger.db import require_editor
from ledger.errors import Conflict, InvalidValue, NotFound
from ledger.models import (
    Attribution,
    Claim,
    ClaimPerson,
    Person,
    ReplyRequest,
    Response,
    Source,
    new_uid,
)
from ledger.store.people import get_person
from ledger.store.replies import add_response, new_reply, new_response, request_reply
from ledger.store.resolve import attribution_key
from ledger.store.sources import verify_attribution
from ledger.store.states import (
    attributions_of,
    claim_state,
    people_of,
    record_claim_event,
    record_reply_event,
    record_response_event,
    reply_state,
    response_state,
)
from ledger.store.unit import Unit, writing

__all__ = ["add_claim", "add_response", "attribution_from", "attribution_record",
           "attributions_of", "cite", "claim_from", "claim_record", "claim_state", "edit_claim",
           "get_claim", "list_claims", "new_attribution", "new_claim", "new_reply",
           "new_response", "people_of", "record_claim_event", "record_reply_event",
           "record_response_event", "replies_for", "reply_record", "reply_state", "request_reply",
           "response_record", "response_state", "responses_to", "retract_claim",
           "verify_attribution"]

# The action of a typo-level claim edit: kept in the log, left out of reader pages' updates.
MINOR_EDIT = "minor-edit"
ROLE_FIELDS = {"subject": "about", "target": "targets", "mentioned": "mentioned"}


# --- records ------------------------------------------------------------------------------


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
    if with_id:
        record["quote_status"] = response.quote_status
    return record


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


# --- claims -------------------------------------------------------------------------------


def _resolve_people(session: Session, refs, field: str) -> list[Person]:
    people: list[Person] = []
    for ref in refs:
        person = get_person(session, ref, field=field)
        if person.id not in {p.id for p in people}:
            people.append(person)
    return people


def new_claim(unit: Unit, *, statement: str | None, about: list[str] | tuple[str, ...],
              targets: list[str] | tuple[str, ...] = (),
              mentioned: list[str] | tuple[str, ...] = (), claimant: str | None = None,
              occurred: str | None = None, status: str | None = None,
              allow_retracted: bool = False, retraction_reason: str | None = None,
              uid: str | None = None) -> int:
    """The rules for a new claim, in a unit of work; the new claim's id."""
    cleaned = shapes.clean_claim(statement=statement, occurred=occurred, status=status,
                                 allow_retracted=allow_retracted,
                                 retraction_reason=retraction_reason)
    return claim_from(unit, cleaned=cleaned, about=about, targets=targets, mentioned=mentioned,
                      claimant=claimant, uid=uid)


def claim_from(unit: Unit, *, cleaned: dict[str, Any], about: list[str] | tuple[str, ...],
               targets: list[str] | tuple[str, ...] = (),
               mentioned: list[str] | tuple[str, ...] = (), claimant: str | None = None,
               uid: str | None = None) -> int:
    """`new_claim` after its values were cleaned (`shapes.clean_claim`)."""
    if not about:
        raise InvalidValue("--about is required: who is the claim about?")
    resolver = unit.resolver
    roles: list[tuple[str, list[int]]] = []
    for role, refs, field in (("subject", about, "about"), ("target", targets, "target"),
                              ("mentioned", mentioned, "mentioned")):
        ids = [resolver.person(ref, field=field) for ref in refs]
        roles.append((role, list(dict.fromkeys(ids))))
    claimant_id = resolver.person(claimant, field="claimant") if claimant else None
    uid = uid or new_uid()
    cid = unit.add(Claim, {"uid": uid, **cleaned, "claimant_id": claimant_id})
    for role, ids in roles:
        for pid in ids:
            unit.add(ClaimPerson, {"claim_id": cid, "person_id": pid, "role": role})
    resolver.index_claim(cid=cid, uid=uid, status=cleaned["status"],
                         statement=cleaned["statement"], subjects=frozenset(roles[0][1]))
    people = resolver.people
    unit.event(action="add", entity="claim", uid=uid, state=shapes.claim_state(
        uid=uid, statement=cleaned["statement"],
        people=[[role, people[pid].uid] for role, ids in roles for pid in ids],
        claimant=people[claimant_id].uid if claimant_id else None,
        occurred=cleaned["occurred"], status=cleaned["status"],
        retraction_reason=cleaned["retraction_reason"]))
    return cid


def add_claim(session: Session, *, statement: str, about: list[str] | tuple[str, ...],
              targets: list[str] | tuple[str, ...] = (),
              mentioned: list[str] | tuple[str, ...] = (), claimant: str | None = None,
              occurred: str | None = None, status: str | None = None,
              allow_retracted: bool = False, retraction_reason: str | None = None,
              uid: str | None = None) -> Claim:
    """Record an allegation about one or more people."""
    with writing(session) as unit:
        cid = new_claim(unit, statement=statement, about=about, targets=targets,
                        mentioned=mentioned, claimant=claimant, occurred=occurred,
                        status=status, allow_retracted=allow_retracted,
                        retraction_reason=retraction_reason, uid=uid)
    return session.get(Claim, cid)


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
               remove_people: list[str] | tuple[str, ...] = (), minor: bool = False) -> Claim:
    """Change a claim; the new state is a new event and the old one stays in the log.

    `minor` marks a typo-level edit: its event's action is `minor-edit` (hashed like every
    field of the event), and reader pages leave it out of the claim's updates.
    """
    if claim.status == "retracted":
        raise Conflict(f"claim {claim.id} is retracted; record a new claim instead")
    before = claim_state(session, claim)
    if statement is not None:
        claim.statement = shapes.clean_statement(statement)
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
    record_claim_event(session, claim, MINOR_EDIT if minor else "edit")
    return claim


def retract_claim(session: Session, claim: Claim, *, reason: str) -> Claim:
    """Retract a claim: its status becomes retracted, with the reason; nothing is deleted."""
    require_editor(session, doing="retract claims")
    reason = values.text(reason, field="reason").strip()
    if claim.status == "retracted":
        raise Conflict(f"claim {claim.id} is already retracted ({claim.retraction_reason})")
    claim.status, claim.retraction_reason = "retracted", reason
    record_claim_event(session, claim, "retract")
    return claim


# --- attributions -------------------------------------------------------------------------


def new_attribution(unit: Unit, *, claim_id: int, source_id: int, quote: str | None = None,
                    voice: str | None = None, sourcing: str | None = None,
                    strict: bool = False, uid: str | None = None,
                    restoring: bool = False) -> int:
    """The rules for a new attribution, in a unit of work; its id.

    The quote is looked for in the source's stored text at once. With `strict`, a quote that
    is not found is refused; otherwise it is recorded as not found, with a warning. A
    retracted claim takes no new sources, except when an import is `restoring` the
    attributions it had. The same quote from the same source twice is a conflict.
    """
    claim = unit.resolver.claim(claim_id)
    if claim.status == "retracted" and not restoring:
        raise Conflict(f"claim {claim_id} is retracted; cite a live claim")
    cleaned = shapes.clean_attribution(quote=quote, voice=voice, sourcing=sourcing)
    return attribution_from(unit, claim_id=claim_id, source_id=source_id, cleaned=cleaned,
                            strict=strict, uid=uid)


def attribution_from(unit: Unit, *, claim_id: int, source_id: int, cleaned: dict[str, Any],
                     strict: bool = False, uid: str | None = None) -> int:
    """`new_attribution` after its values were cleaned (`shapes.clean_attribution`) and the
    claim was found open to it."""
    resolver = unit.resolver
    claim = resolver.claim(claim_id)
    quote = cleaned["quote"]
    resolver.sources_by_id([source_id])
    source = resolver.sources[source_id]
    natural = attribution_key(source_id, quote, cleaned["voice"])
    if quote is not None and natural in resolver.contents_of(claim_id):
        unit.flush()
        other = unit.session.exec(select(Attribution).where(
            Attribution.claim_id == claim_id, Attribution.source_id == source_id,
            Attribution.quote == quote)).first()
        shown = f" (attribution {other.id}: “{other.quote}”)" if other else ""
        raise Conflict(f"claim {claim_id} already cites {source.key!r} with that quote"
                       f"{shown}; nothing was added")
    anchor = resolver.quote_anchor(source_id, quote)
    status = anchor["quote_status"]
    if strict and status == "not-found":
        raise Conflict(f"the quote is not in the stored text of {source.key!r} "
                       "(--strict refuses it); `ledger audit` shows the closest passage")
    uid = uid or new_uid()
    aid = unit.add(Attribution, {
        "uid": uid, "claim_id": claim_id, "source_id": source_id, **cleaned, **anchor})
    resolver.index_part("attribution", cid=claim_id, uid=uid, row_id=aid, natural=natural,
                        fields=(cleaned["voice"], cleaned["sourcing"]))
    if status == "not-found":
        unit.warn(f"claim {claim_id}: the quote is not in the stored text of {source.key!r}")
    unit.event(action="add", entity="attribution", uid=uid, state=shapes.attribution_state(
        uid=uid, claim=claim.uid, source=source.uid, **cleaned))
    return aid


def cite(session: Session, *, claim: Claim, source: Source, quote: str | None = None,
         voice: str | None = None, sourcing: str | None = None, strict: bool = False,
         uid: str | None = None, restoring: bool = False) -> Attribution:
    """Record that `source` carries `claim`, with the exact quote and who speaks in it.

    See `new_attribution` for the rules; the caller warns about a quote not found.
    """
    with writing(session) as unit:
        aid = new_attribution(unit, claim_id=claim.id, source_id=source.id, quote=quote,
                              voice=voice, sourcing=sourcing, strict=strict, uid=uid,
                              restoring=restoring)
    return session.get(Attribution, aid)


def responses_to(session: Session, claim: Claim) -> list[Response]:
    """A claim's responses, by date then order recorded."""
    return list(session.exec(select(Response).where(Response.claim_id == claim.id)
                             .order_by(col(Response.date), col(Response.id))))


def replies_for(session: Session, claim: Claim) -> list[ReplyRequest]:
    """A claim's reply requests, by date sent."""
    return list(session.exec(select(ReplyRequest).where(ReplyRequest.claim_id == claim.id)
                             .order_by(col(ReplyRequest.sent), col(ReplyRequest.id))))
