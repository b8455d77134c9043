"""The shape of each record: the cleaned values a new record gets, and the state the event log
records for it.

Both the store (one record at a time) and the bundle importer (in bulk) build records with
these pure functions, so a record is validated and logged the same way whichever path wrote it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from ledger import values
from ledger.errors import InvalidValue


def next_free(base: str, taken: set[str] | frozenset[str]) -> str:
    """`base`, or `base-2`, `base-3` ... whichever is not taken."""
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def link_uid(source_uid: str, target_uid: str) -> str:
    """A source link's uid, derived from its two sources' (a bundle gives links no uid)."""
    return hashlib.md5(f"{source_uid}:{target_uid}".encode(), usedforsecurity=False).hexdigest()


def review_uid(claim_uid: str) -> str:
    """A claim's review record's uid, derived from the claim's (one review record per claim,
    so the same history gives the same events, as the demo's byte-for-byte output needs)."""
    return hashlib.md5(f"review:{claim_uid}".encode(), usedforsecurity=False).hexdigest()


def text_digest(text: str | None) -> str | None:
    """The SHA-256 of a stored text snapshot."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text else None


def quote_anchor(*, text: str | None, digest: str | None, quote: str | None,
                 check: Any = None, found_in: str | None = None) -> dict[str, Any]:
    """Where a quote stands in a source's stored text, as the anchor columns hold it.

    `check` is a `ledger.quotes.QuoteCheck` already made (for a prepared text); without one
    the quote is looked for here. `anchor_sha256` names the capture it was last found in:
    this one (`digest`) when it is found, else `found_in`, the one it was found in before.
    """
    if not quote:
        return {"quote_status": "no-quote", "anchor_start": None, "anchor_end": None,
                "anchor_prefix": None, "anchor_suffix": None, "anchor_sha256": None}
    if check is None:
        from ledger.quotes import check_quote

        check = check_quote(text=text, quote=quote, hint=False)
    return {"quote_status": check.status, "anchor_start": check.start,
            "anchor_end": check.end, "anchor_prefix": check.prefix,
            "anchor_suffix": check.suffix,
            "anchor_sha256": digest if check.status == "verified" else found_in}


# --- cleaning: validate what the user gave, in the form the tables hold -------------------


def clean_person(*, name: str | None, kind: str | None, description: str | None,
                 aliases: Iterable[str] = (), wikidata: str | None = None) -> dict[str, Any]:
    """A new person's values; aliases de-duplicated as written, the name itself left out."""
    name = values.line(name, field="name")
    # A dict keeps the order and makes the repeat test O(1): 100,000 aliases took 207 s.
    cleaned_aliases: dict[str, None] = {}
    for alias in aliases:
        alias = values.line(alias, field="alias")
        if alias != name:
            cleaned_aliases[alias] = None
    return {
        "name": name, "name_key": values.fold(name),
        "kind": values.choice(kind or "person", field="kind", allowed=values.PERSON_KINDS),
        "description": values.text(description, field="description", required=False),
        "aliases": list(cleaned_aliases),
        "wikidata": values.wikidata(wikidata),
    }


def clean_source(*, title: str | None, key: str | None, publisher: str | None,
                 author: str | None, url: str | None, published: str | None,
                 kind: str | None, language: str | None, text: str | None,
                 file_sha256: str | None = None,
                 media_type: str | None = None) -> dict[str, Any]:
    """A new source's values (`key` None when it is to be derived)."""
    checked_url = values.url(url)
    stored = values.text(text, field="text", required=False)
    file_sha256, media_type = clean_capture(file_sha256=file_sha256, media_type=media_type,
                                            has_text=stored is not None)
    return {
        "title": values.line(title, field="title"),
        "key": values.key(key) if key is not None else None,
        "publisher": values.line(publisher, field="publisher", required=False),
        "author": values.line(author, field="author", required=False),
        "url": checked_url[0] if checked_url else None,
        "url_normalized": checked_url[1] if checked_url else None,
        "published": values.partial_date(published, field="published"),
        "kind": values.choice(kind or "article", field="kind", allowed=values.SOURCE_KINDS),
        "language": values.line(language, field="language", required=False),
        "text": stored, "text_sha256": text_digest(stored),
        "file_sha256": file_sha256, "media_type": media_type,
    }


_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def clean_capture(*, file_sha256: str | None, media_type: str | None,
                  has_text: bool) -> tuple[str | None, str | None]:
    """The saved file behind a stored text: its SHA-256 (64 hex) and media type."""
    if file_sha256 is not None and not _SHA256_RE.match(file_sha256):
        raise InvalidValue(f"file_sha256 {file_sha256!r} must be 64 lowercase hex characters")
    media_type = values.line(media_type, field="media_type", required=False)
    if (file_sha256 or media_type) and not has_text:
        raise InvalidValue("file_sha256 and media_type describe a stored text; give the text")
    return file_sha256, media_type


def derived_key(*, publisher: str | None, title: str, published: str | None) -> str:
    """The base of a key derived from a source's publisher (or title) and date."""
    base = values.slugify(" ".join(filter(None, [publisher or title, published])))
    return base[:48].rstrip("-") or "source"


def clean_status(value: str | None, *, allow_retracted: bool = False) -> str:
    """A claim status; retracted only where allowed (it has its own command)."""
    status = values.choice(value or "unverified", field="status",
                           allowed=values.CLAIM_STATUSES)
    if status == "retracted" and not allow_retracted:
        raise InvalidValue("--status retracted is set by `ledger claim retract ID --reason R`")
    return status


def clean_statement(value: str | None) -> str:
    """A claim's statement: runs of white space (newlines too) collapsed to one space."""
    return values.collapse_spaces(values.text(value, field="statement", one_line=True))


def clean_quote(value: str | None) -> str | None:
    """A quote as pasted, without the quotation marks around it and with runs of white
    space collapsed; marks inside it stay."""
    checked = values.text(value, field="quote", required=False)
    if checked is None:
        return None
    cleaned = values.collapse_spaces(values.strip_quote_marks(checked))
    if not cleaned:
        raise InvalidValue("--quote must not be empty (nothing is left without its quotation "
                           "marks)")
    return cleaned


def clean_sourcing(sourcing: str | None, *, voice: str | None) -> str:
    """The sourcing as given; without one, `named` when a voice is named, else `unknown`."""
    if sourcing is None:
        return "named" if voice else "unknown"
    return values.choice(sourcing, field="sourcing", allowed=values.SOURCINGS)


def clean_claim(*, statement: str | None, occurred: str | None, status: str | None,
                allow_retracted: bool = False,
                retraction_reason: str | None = None) -> dict[str, Any]:
    """A new claim's values."""
    return {
        "statement": clean_statement(statement),
        "status": clean_status(status, allow_retracted=allow_retracted),
        "occurred": values.partial_date(occurred, field="occurred"),
        "retraction_reason": values.text(retraction_reason, field="reason", required=False),
    }


def clean_attribution(*, quote: str | None, voice: str | None,
                      sourcing: str | None) -> dict[str, Any]:
    """A new attribution's values."""
    voice = values.line(voice, field="voice", required=False)
    return {"quote": clean_quote(quote), "voice": voice,
            "sourcing": clean_sourcing(sourcing, voice=voice)}


def clean_response(*, kind: str | None, date: str | None, quote: str | None,
                   summary: str | None, has_source: bool,
                   voice: str | None = None) -> dict[str, Any]:
    """A new response's values; `voice` is who spoke for the respondent, if someone did."""
    cleaned = {
        "kind": values.choice(kind, field="kind", allowed=values.RESPONSE_KINDS),
        "date": values.partial_date(date, field="date"),
        "quote": clean_quote(quote),
        "summary": values.text(summary, field="summary", required=False),
        "voice": values.line(voice, field="voice", required=False),
    }
    if cleaned["quote"] and not has_source:
        raise InvalidValue("--quote needs --source: which document carries these words?")
    return cleaned


def clean_reply(*, sent: str | None, deadline: str | None,
                channel: str | None) -> dict[str, Any]:
    """A new reply request's values."""
    sent = values.partial_date(sent, field="sent")
    if sent is None:
        raise InvalidValue("--sent is required: when was the request sent?")
    deadline = values.partial_date(deadline, field="deadline")
    if deadline and deadline < sent[: len(deadline)]:
        raise InvalidValue(f"--deadline {deadline} is before --sent {sent}")
    return {"sent": sent, "deadline": deadline,
            "channel": values.line(channel, field="channel", required=False)}


# --- states: what the event log records ---------------------------------------------------


def person_state(*, uid: str, name: str, kind: str, description: str | None, slug: str,
                 aliases: list[str], merged_into: str | None,
                 wikidata: str | None = None) -> dict[str, Any]:
    state = {"uid": uid, "name": name, "kind": kind, "description": description, "slug": slug,
             "aliases": list(aliases), "merged_into": merged_into}
    # Only when set, as a response's voice: people recorded before the field existed, and
    # those without an item, keep their states and hashes.
    if wikidata is not None:
        state["wikidata"] = wikidata
    return state


def source_state(*, uid: str, key: str, title: str, publisher: str | None,
                 author: str | None, url: str | None, published: str | None, kind: str,
                 language: str | None, text: str | None, text_sha256: str | None,
                 retrieved: str | None, file_sha256: str | None = None,
                 media_type: str | None = None) -> dict[str, Any]:
    # The text is in the state: an edit that replaces it must not lose the old one. An older
    # event without file_sha256 and media_type means None for both.
    return {"uid": uid, "key": key, "title": title, "publisher": publisher, "author": author,
            "url": url, "published": published, "kind": kind, "language": language,
            "text": text, "text_sha256": text_sha256, "retrieved": retrieved,
            "file_sha256": file_sha256, "media_type": media_type}


def link_state(*, uid: str, source: str, target: str, relation: str) -> dict[str, Any]:
    return {"uid": uid, "source": source, "target": target, "relation": relation}


def claim_state(*, uid: str, statement: str, people: list[list[str]], claimant: str | None,
                occurred: str | None, status: str,
                retraction_reason: str | None) -> dict[str, Any]:
    return {"uid": uid, "statement": statement, "people": people, "claimant": claimant,
            "occurred": occurred, "status": status, "retraction_reason": retraction_reason}


def attribution_state(*, uid: str, claim: str, source: str, quote: str | None,
                      voice: str | None, sourcing: str) -> dict[str, Any]:
    return {"uid": uid, "claim": claim, "source": source, "quote": quote, "voice": voice,
            "sourcing": sourcing}


def response_state(*, uid: str, claim: str, respondent: str, kind: str, date: str | None,
                   source: str | None, quote: str | None, summary: str | None,
                   voice: str | None = None) -> dict[str, Any]:
    state = {"uid": uid, "claim": claim, "respondent": respondent, "kind": kind, "date": date,
             "source": source, "quote": quote, "summary": summary}
    # Only when set: an event without the key means no voice, so the states (and hashes) of
    # responses recorded before the field existed, and of those without one, are unchanged.
    if voice is not None:
        state["voice"] = voice
    return state


def reply_state(*, uid: str, claim: str, addressee: str, sent: str, deadline: str | None,
                channel: str | None) -> dict[str, Any]:
    return {"uid": uid, "claim": claim, "addressee": addressee, "sent": sent,
            "deadline": deadline, "channel": channel}


def review_state(*, uid: str, claim: str, decision: str | None, approved_seq: int | None,
                 approved_hash: str | None, note: str | None, reason: str | None,
                 override: str | None, held: bool, hold_reason: str | None) -> dict[str, Any]:
    # The reviewer and the time are the event's actor and time, never copied into the state.
    return {"uid": uid, "claim": claim, "decision": decision, "approved_seq": approved_seq,
            "approved_hash": approved_hash, "note": note, "reason": reason,
            "override": override, "held": held, "hold_reason": hold_reason}
