"""Every query and every write. Commands and renderers call these; nothing else touches SQL.

Functions are keyword-only and typed, named after the commands; `get_*` raises a named error
instead of returning None; the caller owns the transaction (see `ledger.db.transaction`).

One write path: every new record goes through its rules (`people.new_person`,
`sources.new_source` and `new_link`, `claims.new_claim` and `new_attribution`,
`replies.new_response` and `new_reply`) on a unit of work (`unit.py`: one resolver of people
and sources, `resolve.py`; one event appender, `events.py`; one row sink, `sink.py`). A
command writes one record in a single-write unit; `ledger import` writes many in bulk mode
(`bulk.py`), which adds matching records already in the ledger. Edits and merges change rows
in the session and log the new state with `states.record_event`.
"""

from ledger.store.claims import (
    add_claim,
    add_response,
    cite,
    claim_record,
    edit_claim,
    get_claim,
    list_claims,
    replies_for,
    reply_record,
    request_reply,
    response_record,
    responses_to,
    retract_claim,
)
from ledger.store.events import count_events, head, list_events, parse_anchor, verify
from ledger.store.people import (
    add_person,
    edit_person,
    get_person,
    list_people,
    merge_people,
    person_record,
)
from ledger.store.sources import (
    add_source,
    edit_source,
    get_source,
    link_sources,
    list_sources,
    source_record,
)

__all__ = [
    "add_claim", "add_person", "add_response", "add_source", "cite", "claim_record",
    "count_events", "edit_claim", "edit_person", "edit_source", "get_claim", "get_person",
    "get_source", "head", "link_sources", "list_claims", "list_events", "list_people",
    "list_sources", "merge_people", "parse_anchor", "person_record", "replies_for",
    "reply_record", "request_reply", "response_record", "responses_to", "retract_claim",
    "source_record", "verify",
]
