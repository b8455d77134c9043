"""Responses to claims and reply requests: the rules for new ones, in a unit of work."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from ledger import shapes
from ledger.errors import Conflict
from ledger.models import Claim, ReplyRequest, Response, new_uid
from ledger.store.unit import Unit, writing

__all__ = [
    "add_response",
    "new_reply",
    "new_response",
    "reply_from",
    "request_reply",
    "response_from",
]


def response_key(*, respondent_id: int, kind: str, date: str | None, quote: str | None) -> tuple:
    """A response's natural key: who answered, how, when and in which words."""
    return ("response", respondent_id, kind, date, quote)


def reply_key(*, addressee_id: int, sent: str) -> tuple:
    """A reply request's natural key: who was asked, and when."""
    return ("reply", addressee_id, sent)


def new_response(
    unit: Unit,
    *,
    claim_id: int,
    by: str | None,
    kind: str | None,
    date: str | None = None,
    source: str | None = None,
    quote: str | None = None,
    summary: str | None = None,
    voice: str | None = None,
    uid: str | None = None,
    strict: bool = False,
) -> int:
    """The rules for a new response to a claim; its id. `voice` is who spoke for the
    respondent.

    Its quote is looked for in the source's stored text, as an attribution's is: with
    `strict`, a quote that is not found is refused; otherwise it is recorded as not found,
    with a warning.
    """
    cleaned = shapes.clean_response(
        kind=kind, date=date, quote=quote, summary=summary, has_source=bool(source), voice=voice
    )
    resolver = unit.resolver
    resolver.claim(claim_id)
    respondent_id = resolver.person(by, field="by")
    source_id = resolver.source(source) if source else None
    return response_from(
        unit,
        claim_id=claim_id,
        respondent_id=respondent_id,
        source_id=source_id,
        cleaned=cleaned,
        uid=uid,
        strict=strict,
    )


def response_from(
    unit: Unit,
    *,
    claim_id: int,
    respondent_id: int,
    source_id: int | None,
    cleaned: dict[str, Any],
    uid: str | None = None,
    strict: bool = False,
) -> int:
    """`new_response` after its values were cleaned and its people and source resolved."""
    resolver = unit.resolver
    claim = resolver.claim(claim_id)
    anchor = resolver.quote_anchor(source_id, cleaned["quote"])
    if anchor["quote_status"] == "not-found":
        key = resolver.sources[source_id].key
        if strict:
            raise Conflict(
                f"the response's quote is not in the stored text of {key!r} (--strict "
                "refuses it); `ledger audit` shows the closest passage"
            )
        unit.warn(f"claim {claim_id}: the response's quote is not in the stored text of {key!r}")
    uid = uid or new_uid()
    rid = unit.add(
        Response,
        {
            "uid": uid,
            "claim_id": claim_id,
            "respondent_id": respondent_id,
            "source_id": source_id,
            **cleaned,
            **anchor,
        },
    )
    resolver.index_part(
        "response",
        cid=claim_id,
        uid=uid,
        row_id=rid,
        natural=response_key(
            respondent_id=respondent_id,
            kind=cleaned["kind"],
            date=cleaned["date"],
            quote=cleaned["quote"],
        ),
        fields=(source_id, cleaned["summary"]),
    )
    unit.event(
        action="add",
        entity="response",
        uid=uid,
        state=shapes.response_state(
            uid=uid,
            claim=claim.uid,
            respondent=resolver.people[respondent_id].uid,
            source=resolver.sources[source_id].uid if source_id else None,
            **cleaned,
        ),
    )
    return rid


def new_reply(
    unit: Unit,
    *,
    claim_id: int,
    to: str | None,
    sent: str | None,
    deadline: str | None = None,
    channel: str | None = None,
    uid: str | None = None,
) -> int:
    """The rules for a new reply request (the right of reply); its id."""
    cleaned = shapes.clean_reply(sent=sent, deadline=deadline, channel=channel)
    resolver = unit.resolver
    resolver.claim(claim_id)
    addressee_id = resolver.person(to, field="to")
    return reply_from(unit, claim_id=claim_id, addressee_id=addressee_id, cleaned=cleaned, uid=uid)


def reply_from(
    unit: Unit, *, claim_id: int, addressee_id: int, cleaned: dict[str, Any], uid: str | None = None
) -> int:
    """`new_reply` after its values were cleaned and its addressee resolved."""
    resolver = unit.resolver
    claim = resolver.claim(claim_id)
    uid = uid or new_uid()
    rid = unit.add(
        ReplyRequest, {"uid": uid, "claim_id": claim_id, "addressee_id": addressee_id, **cleaned}
    )
    resolver.index_part(
        "reply",
        cid=claim_id,
        uid=uid,
        row_id=rid,
        natural=reply_key(addressee_id=addressee_id, sent=cleaned["sent"]),
        fields=(cleaned["deadline"], cleaned["channel"]),
    )
    unit.event(
        action="add",
        entity="reply",
        uid=uid,
        state=shapes.reply_state(
            uid=uid, claim=claim.uid, addressee=resolver.people[addressee_id].uid, **cleaned
        ),
    )
    return rid


def add_response(
    session: Session,
    *,
    claim: Claim,
    by: str,
    kind: str,
    date: str | None = None,
    source: str | None = None,
    quote: str | None = None,
    summary: str | None = None,
    voice: str | None = None,
    uid: str | None = None,
    strict: bool = False,
) -> Response:
    """Record an answer to a claim (its quote checked as in `new_response`); `voice` says
    who spoke for the respondent."""
    with writing(session) as unit:
        rid = new_response(
            unit,
            claim_id=claim.id,
            by=by,
            kind=kind,
            date=date,
            source=source,
            quote=quote,
            summary=summary,
            voice=voice,
            uid=uid,
            strict=strict,
        )
    return session.get(Response, rid)


def request_reply(
    session: Session,
    *,
    claim: Claim,
    to: str,
    sent: str,
    deadline: str | None = None,
    channel: str | None = None,
    uid: str | None = None,
) -> ReplyRequest:
    """Record that `to` was asked to answer `claim` (the right of reply)."""
    with writing(session) as unit:
        rid = new_reply(
            unit, claim_id=claim.id, to=to, sent=sent, deadline=deadline, channel=channel, uid=uid
        )
    return session.get(ReplyRequest, rid)
