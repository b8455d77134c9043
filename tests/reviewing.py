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
    given = engine
    if engine.dialect.name == "postgresql":
        # The database names the actor: approve as the reviewer's own login (a test login,
        # see conftest.TEST_LOGINS), so the events are the same as on SQLite.
        from ledger.db import make_engine

        from conftest import TEST_LOGINS

        if actor in TEST_LOGINS:
            url = engine.url.set(username=actor).render_as_string(hide_password=False)
            engine = make_engine(url.replace("postgresql+psycopg://", "postgresql://"))
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
        if engine is not given:
            engine.dispose()
        if isinstance(target, str):
            given.dispose()
    return approved
