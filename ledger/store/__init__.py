"""Every query and every write. Commands and renderers call these; nothing else touches SQL.

Functions are keyword-only and typed, named after the commands; `get_*` raises a named error
instead of returning None; the caller owns the transaction (see `ledger.db.transaction`).
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
    recapture_source,
    source_record,
)

__all__ = [
    "add_claim", "add_person", "add_response", "add_source", "cite", "claim_record",
    "count_events", "edit_claim", "edit_person", "edit_source", "get_claim", "get_person",
    "get_source", "head", "link_sources", "list_claims", "list_events", "list_people",
    "list_sources", "merge_people", "parse_anchor", "person_record", "recapture_source",
    "replies_for", "reply_record", "request_reply", "response_record", "responses_to",
    "retract_claim", "source_record", "verify",
]
