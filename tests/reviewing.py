"""Approve a test ledger's claims as a reviewer would, so its pages publish them.

Since issue 18 only approved claims are published; tests about what a published page shows
approve the ledger's claims first, as a second actor (the writers are "tester").
"""

from __future__ import annotations

REVIEWER = "reviewer"


def approve_all(target, *, actor: str = REVIEWER, clock=None) -> int:
    """Approve every claim not approved yet (with an override where the audit finds errors);
    `target` is an engine or a --db value; `clock` fixes the events' time. Returns how many
    were approved."""
    from ledger.db import open_ledger, transaction
    from ledger.store.reviews import approve_claim, audit_errors, list_reviews

    engine = open_ledger(target) if isinstance(target, str) else target
    approved = 0
    try:
        options = {"clock": clock} if clock is not None else {}
        with transaction(engine, actor=actor, **options) as session:
            for claim, info in list_reviews(session):
                if info.approved or info.held:
                    continue
                errors = audit_errors(session, claim)
                approve_claim(
                    session, claim=claim, override="approved by the test suite" if errors else None
                )
                approved += 1
    finally:
        if isinstance(target, str):
            engine.dispose()
    return approved
