"""Who did it, checked by the database: `event.on_behalf`, and PostgreSQL's guards.

Every backend gains `event.on_behalf` (nullable; old events keep it empty and hash as before).
On PostgreSQL two trigger functions are installed (SQLite gets only the column):

- `ledger_event_check`, BEFORE INSERT on `event`: sets the actor to `session_user`, checks the
  event follows the head (sequence number head + 1, `prev_hash` the head's hash), rebuilds the
  hashed body from the row exactly as `ledger.chain.event_hash` does and compares its SHA-256,
  and refuses a merge or retract event from a login that is not an editor once the ledger's
  roles are set up (`ledger db roles`: the event table is owned by `ledger_owner`).
- `ledger_change_has_event`, a deferred constraint trigger on each record table: at commit,
  the record's newest event must have been appended by the same transaction (for a change
  to where a quote was found alone, the source's: a new capture re-checks its quotes). The
  table's owner (migrations) and superusers are exempt: they could drop the trigger anyway.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The record tables and the entity whose events record their changes. A person's aliases
# and a claim's people are part of the person's and the claim's state.
RECORD_TABLES = {
    "person": "person",
    "person_alias": "person",
    "source": "source",
    "source_link": "link",
    "claim": "claim",
    "claim_person": "claim",
    "attribution": "attribution",
    "response": "response",
    "reply_request": "reply",
}

# The same body as ledger.chain.event_hash: keys sorted, "on_behalf" only when set.
EVENT_CHECK = r"""
CREATE FUNCTION ledger_event_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash text;
    body text;
BEGIN
    -- The ledger's writers hold this lock already; a client that bypasses them queues too.
    PERFORM pg_advisory_xact_lock(2021093);
    NEW.actor := session_user;
    SELECT seq, hash INTO head_seq, head_hash FROM event ORDER BY seq DESC LIMIT 1;
    IF head_seq IS NULL THEN
        head_seq := 0;
        head_hash := repeat('0', 64);
    END IF;
    IF NEW.seq IS DISTINCT FROM head_seq + 1 THEN
        RAISE EXCEPTION 'event % is out of order: the log''s head is event %', NEW.seq, head_seq
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.prev_hash IS DISTINCT FROM head_hash THEN
        RAISE EXCEPTION 'event % does not follow the head: its previous hash is not event %''s hash',
            NEW.seq, head_seq USING ERRCODE = 'check_violation';
    END IF;
    body := '{"action":' || to_json(NEW.action)::text
        || ',"actor":' || to_json(NEW.actor)::text
        || ',"at":' || to_json(NEW.at)::text
        || ',"entity":' || to_json(NEW.entity)::text
        || CASE WHEN NEW.on_behalf IS NULL THEN ''
                ELSE ',"on_behalf":' || to_json(NEW.on_behalf)::text END
        || ',"prev":' || to_json(NEW.prev_hash)::text
        || ',"seq":' || NEW.seq::text
        || ',"state":' || NEW.state
        || ',"uid":' || to_json(NEW.uid)::text || '}';
    IF encode(sha256(convert_to(body, 'UTF8')), 'hex') IS DISTINCT FROM NEW.hash THEN
        RAISE EXCEPTION 'event % does not match its hash (an event''s actor is the login role, %)',
            NEW.seq, session_user USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.action IN ('merge', 'retract')
       AND to_regrole('ledger_editor') IS NOT NULL
       AND (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) = 'ledger_owner'
       AND NOT pg_has_role(session_user, 'ledger_editor', 'MEMBER') THEN
        RAISE EXCEPTION 'role % may not % (only editors may)', session_user,
            CASE NEW.action WHEN 'merge' THEN 'merge people' ELSE 'retract claims' END
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$
"""

CHANGE_HAS_EVENT = r"""
CREATE FUNCTION ledger_change_has_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed record;
    record_entity text := TG_ARGV[0];
    record_uid text;
    newest xid;
    derived text[] := ARRAY['quote_status', 'anchor_start', 'anchor_end', 'anchor_prefix',
                            'anchor_suffix', 'anchor_sha256'];
BEGIN
    IF current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID)
       OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RETURN NULL;  -- the owner and superusers could drop the trigger anyway
    END IF;
    IF TG_OP = 'DELETE' THEN
        changed := OLD;
    ELSE
        changed := NEW;
    END IF;
    IF TG_TABLE_NAME = 'person_alias' THEN
        SELECT uid INTO record_uid FROM person WHERE id = changed.person_id;
    ELSIF TG_TABLE_NAME = 'claim_person' THEN
        SELECT uid INTO record_uid FROM claim WHERE id = changed.claim_id;
    ELSE
        record_uid := changed.uid;
    END IF;
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME IN ('attribution', 'response')
       AND to_jsonb(OLD) - derived = to_jsonb(NEW) - derived THEN
        -- Only where the quote was found changed: a new capture of the source re-checked it,
        -- so the source's event is the one this transaction must have appended.
        record_entity := 'source';
        SELECT uid INTO record_uid FROM source WHERE id = NEW.source_id;
    END IF;
    SELECT event.xmin INTO newest FROM event
        WHERE event.entity = record_entity AND event.uid = record_uid
        ORDER BY event.seq DESC LIMIT 1;
    IF newest IS NULL OR newest <> pg_current_xact_id()::xid THEN
        RAISE EXCEPTION 'a change to % (% %) has no event in the same transaction; the ledger '
            'records every change in its log', TG_TABLE_NAME, record_entity, record_uid
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("on_behalf", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(EVENT_CHECK)
    op.execute(
        "CREATE TRIGGER ledger_event_check BEFORE INSERT ON event "
        "FOR EACH ROW EXECUTE FUNCTION ledger_event_check()"
    )
    op.execute(CHANGE_HAS_EVENT)
    for table, entity in RECORD_TABLES.items():
        op.execute(
            f"CREATE CONSTRAINT TRIGGER ledger_change_has_event AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            f"EXECUTE FUNCTION ledger_change_has_event('{entity}')"
        )


def downgrade() -> None:
    connection = op.get_bind()
    signed = connection.execute(
        sa.text("SELECT count(*) FROM event WHERE on_behalf IS NOT NULL")
    ).scalar()
    if signed:
        # Their hashes cover on_behalf: without it they would no longer verify.
        raise RuntimeError(
            f"{signed} event(s) record who they were made on behalf of; "
            "schema 0006 cannot hold that, so the ledger cannot go below 0009"
        )
    if connection.dialect.name == "postgresql":
        for table in RECORD_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS ledger_change_has_event ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ledger_change_has_event()")
        op.execute("DROP TRIGGER IF EXISTS ledger_event_check ON event")
        op.execute("DROP FUNCTION IF EXISTS ledger_event_check()")
        op.drop_column("event", "on_behalf")
    else:
        # Not batch mode: copying the table would drop its append-only triggers.
        op.execute("ALTER TABLE event DROP COLUMN on_behalf")
