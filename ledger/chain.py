"""The event chain: canonical JSON and the hash that links each event to the one before.

hash = SHA-256 over the UTF-8 bytes of the canonical JSON of
    {"seq", "at", "actor", "action", "entity", "uid", "state", "prev"} (+ "on_behalf")
where `state` is the record's state (an object, not its JSON text), `prev` is the previous
event's hash (64 zeros for the first) and "on_behalf" (who the actor recorded for, on
PostgreSQL) is in the body only when the event has one, so events without it hash as before.
Canonical JSON: keys sorted, no spaces, non-ASCII kept as UTF-8, integers as integers.
Golden vectors in the tests pin this, so an upgrade cannot change it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

GENESIS = "0" * 64


# One encoder each, made once: json.dumps with options builds a new encoder on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False).encode
# A JSON string with non-ASCII kept (the C function JSONEncoder(ensure_ascii=False) calls).
_STRING = json.encoder.encode_basestring


# Sorted keys, spelled as labels, for each set of keys a state has had (a few per kind).
_LABELS: dict[tuple[str, ...], list[tuple[str, str]]] = {}


def canonical_json(value: Any) -> str:
    """The one JSON spelling of `value` that the chain hashes.

    A state is an object of the same few keys for every record of a kind: their sorted
    order and their labels are worked out once per set of keys, and text and null values
    are spelled here with the function the encoder itself calls, so the encoder sorts and
    walks only the rest (lists, numbers). The bytes are the encoder's; a test compares them.
    """
    if type(value) is not dict:
        return _CANONICAL(value)
    keys = tuple(value)
    labels = _LABELS.get(keys)
    if labels is None:
        if len(_LABELS) >= 64 or not all(type(key) is str for key in keys):
            return _CANONICAL(value)
        labels = _LABELS[keys] = [(key, f"{_STRING(key)}:") for key in sorted(keys)]
    text = _STRING
    parts = []
    for key, label in labels:
        item = value[key]
        if type(item) is str:
            parts.append(label + text(item))
        elif item is None:
            parts.append(label + "null")
        else:
            parts.append(label + _CANONICAL(item))
    return "{" + ",".join(parts) + "}"


def event_hash(*, seq: int, at: str, actor: str, action: str, entity: str, uid: str,
               state: str, prev: str, on_behalf: str | None = None) -> str:
    """The hash of one event, given its fields and the canonical JSON of its state.

    The body is the canonical JSON of the event with the state embedded as an object. `state`
    is canonical JSON already, so the body is assembled around it (keys in sorted order)
    rather than parsed and written again: the same bytes, without the work. PostgreSQL's
    trigger `ledger_event_check` (migration 0009) builds the same body with `to_json(text)`,
    which escapes exactly the characters `encode_basestring` does (a test pins it).
    """
    text = _STRING
    body = (f'{_leading(action, actor, at, entity, on_behalf)}"prev":{text(prev)},'
            f'"seq":{int(seq)},"state":{state},"uid":{text(uid)}}}')
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@lru_cache(maxsize=256)
def _leading(action: str, actor: str, at: str, entity: str, on_behalf: str | None) -> str:
    """The body's first fields, spelled once for the many events of a bulk import that
    share them (one actor, one time, a few actions and entities)."""
    text = _STRING
    behalf = "" if on_behalf is None else f'"on_behalf":{text(on_behalf)},'
    return (f'{{"action":{text(action)},"actor":{text(actor)},"at":{text(at)},'
            f'"entity":{text(entity)},{behalf}')


@dataclass(frozen=True)
class ChainReport:
    """What verifying the chain found: the first bad sequence number, or none."""

    events: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify_rows(rows: Iterable[Any], *, anchor: tuple[int, str] | None = None,
                validate: Callable[[Any, Any], str | None] | None = None) -> ChainReport:
    """Recompute the chain over event rows in sequence order.

    Each row needs seq, at, actor, action, entity, uid, state, prev_hash and hash (and
    on_behalf, read as None when the row has no such field). The
    sequence must run 1, 2, 3 ... without gaps, each state must be stored as its canonical
    JSON, each prev_hash must be the previous hash and each hash must recompute. With
    `anchor` (seq, hash), that event must be in the log with exactly that hash: this catches
    a truncated tail or a wholesale rewrite, which a plain verify cannot see. `validate`, if
    given, is called with each row whose hash recomputes and its parsed state, and returns
    what is wrong with the event, or None.
    """
    prev, expected_seq, count, anchor_seen = GENESIS, 1, 0, False

    def bad(seq: int, problem: str) -> ChainReport:
        return ChainReport(count, expected_seq - 1, prev, first_bad_seq=seq, problem=problem)

    for row in rows:
        if row.seq != expected_seq:
            return bad(expected_seq if row.seq > expected_seq else row.seq,
                       f"expected sequence number {expected_seq}, found {row.seq}")
        if row.prev_hash != prev:
            return bad(row.seq, "its previous-hash does not match the event before it")
        try:
            parsed = json.loads(row.state)
            canonical = canonical_json(parsed)
        except (ValueError, TypeError):
            return bad(row.seq, "its state is not valid JSON")
        # The hash covers the parsed state, so the stored text must be exactly its canonical
        # spelling; otherwise bytes could change (spaces, escapes, key order) and still verify.
        if canonical != row.state:
            return bad(row.seq, "its stored state is not the canonical JSON that was hashed")
        recomputed = event_hash(seq=row.seq, at=row.at, actor=row.actor, action=row.action,
                                entity=row.entity, uid=row.uid, state=canonical, prev=prev,
                                on_behalf=getattr(row, "on_behalf", None))
        if recomputed != row.hash:
            return bad(row.seq, "its content does not match its hash")
        problem = validate(row, parsed) if validate is not None else None
        if problem is not None:
            return bad(row.seq, problem)
        if anchor and row.seq == anchor[0]:
            if row.hash != anchor[1]:
                return bad(row.seq, f"the anchor says {anchor[1][:12]}…, the log {row.hash[:12]}…")
            anchor_seen = True
        prev, expected_seq, count = row.hash, expected_seq + 1, count + 1
    if anchor and not anchor_seen:
        return ChainReport(count, expected_seq - 1, prev, first_bad_seq=anchor[0],
                           problem=f"the log ends at {expected_seq - 1}, before the anchor")
    return ChainReport(count, expected_seq - 1, prev)
