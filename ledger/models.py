"""The ledger's tables (SQLModel). Migrations in `migrations/` are the only way they are made.

Tables hold the current state; the `event` table holds every state, hash-chained. Every record
has a `uid` (32 hex characters) that stays the same across export and import.
"""

import os

from pydantic import ConfigDict
from sqlalchemy import CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# Stable constraint names on SQLite and PostgreSQL alike, so migrations can name them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Where uid randomness comes from, looked up at each call so tests can number uids.
entropy = os.urandom


def new_uid() -> str:
    """A fresh record uid: a random (version 4) UUID's hex, as `uuid.uuid4().hex` spells it,
    without the UUID object (a bulk import makes one per record)."""
    raw = bytearray(entropy(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # the RFC 4122 variant
    return raw.hex()


def _uid() -> str:
    return Field(default_factory=new_uid, max_length=32, unique=True, nullable=False)


def _text(*, nullable: bool = True) -> str:
    return Field(default=None, sa_column=Column(Text, nullable=nullable))


class _Table(SQLModel):
    """What every table shares: pydantic builds a table's validator on first use, not at
    import (table models are not validated on construction, and building all twelve is a
    third of what the models cost a `ledger claim add` to import)."""

    model_config = ConfigDict(defer_build=True)


class Person(_Table, table=True):
    """A person or organization that claims are about, or who alleges or responds."""

    id: int | None = Field(default=None, primary_key=True)
    uid: str = _uid()
    name: str = Field(nullable=False)
    name_key: str = Field(index=True, nullable=False)  # values.fold(name), for lookups
    kind: str = Field(default="person", nullable=False)
    description: str | None = _text()
    slug: str = Field(unique=True, nullable=False)
    # The person's Wikidata item ("Q" and digits), so namesakes can be told apart elsewhere.
    wikidata: str | None = None
    # A merged duplicate is kept (nothing is destroyed) and points at the record it joined.
    merged_into_id: int | None = Field(default=None, foreign_key="person.id")

    __table_args__ = (CheckConstraint("kind IN ('person', 'organization')", name="kind"),)


class PersonAlias(_Table, table=True):
    """Another name a person goes by, including misspellings found in sources."""

    __tablename__ = "person_alias"
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True, nullable=False)
    name: str = Field(nullable=False)
    name_key: str = Field(index=True, nullable=False)

    # Unique as written (NFC), not as folded: "Melanie Joly" is worth keeping as an alias of
    # "Mélanie Joly" because that is how a source spells it.
    __table_args__ = (UniqueConstraint("person_id", "name"),)


class Source(_Table, table=True):
    """A document: article, statement, record, petition, post."""

    id: int | None = Field(default=None, primary_key=True)
    uid: str = _uid()
    key: str = Field(unique=True, nullable=False)
    title: str = Field(nullable=False)
    publisher: str | None = None
    author: str | None = None
    url: str | None = _text()
    url_normalized: str | None = Field(default=None, sa_column=Column(Text, unique=True))
    published: str | None = Field(default=None, index=True)  # partial date as written
    kind: str = Field(default="article", nullable=False)
    language: str | None = None
    text: str | None = _text()
    text_sha256: str | None = Field(default=None, max_length=64)
    retrieved: str | None = None  # UTC ISO time the text snapshot was taken
    # The file the text was extracted from (HTML, PDF, WARC, text), so a capture can be proved.
    file_sha256: str | None = Field(default=None, max_length=64)
    media_type: str | None = None


class SourceLink(_Table, table=True):
    """One source relies on another: it cites, republishes or translates it."""

    __tablename__ = "source_link"
    id: int | None = Field(default=None, primary_key=True)
    uid: str = _uid()
    source_id: int = Field(foreign_key="source.id", index=True, nullable=False)
    target_id: int = Field(foreign_key="source.id", index=True, nullable=False)
    relation: str = Field(default="cites", nullable=False)

    __table_args__ = (
        UniqueConstraint("source_id", "target_id"),
        CheckConstraint("source_id <> target_id", name="not_self"),
    )


class Claim(_Table, table=True):
    """One allegation, in neutral words."""

    id: int | None = Field(default=None, primary_key=True)
    uid: str = _uid()
    statement: str = Field(sa_column=Column(Text, nullable=False))
    claimant_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    occurred: str | None = None
    status: str = Field(default="unverified", nullable=False, index=True)
    retraction_reason: str | None = _text()

    # Imports match a claim without a uid on its statement. Migration 0003 makes it a hash
    # index on PostgreSQL (a b-tree refuses entries over about 2.7 kB); saying so here would
    # import SQLAlchemy's PostgreSQL dialect on every start.
    __table_args__ = (Index("ix_claim_statement", "statement"),)


class ClaimPerson(_Table, table=True):
    """A person a claim is about, with their role: subject, target or mentioned."""

    __tablename__ = "claim_person"
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True, nullable=False)
    person_id: int = Field(foreign_key="person.id", index=True, nullable=False)
    role: str = Field(default="subject", nullable=False)

    __table_args__ = (UniqueConstraint("claim_id", "person_id", "role"),)


class Attribution(_Table, table=True):
    """The evidence that a source carries a claim: the exact quote and who speaks in it."""

    id: int | None = Field(default=None, primary_key=True)
    uid: str = _uid()
    claim_id: int = Field(foreign_key="claim.id", index=True, nullable=False)
    source_id: int = Field(foreign_key="source.id", index=True, nullable=False)
    quote: str | None = _text()
    voice: str | None = None
    sourcing: str = Field(default="unknown", nullable=False)
    # Where the quote was found in the source's stored text (derived; re-checked on change).
    quote_status: str = Field(default="unverifiable", nullable=False)
    anchor_start: int | None = None
    anchor_end: int | None = None
    anchor_prefix: str | None = None
    anchor_suffix: str | None = None
    # The text_sha256 of the capture the quote was last found in: a quote gone from a newer
    # capture has drifted.
    anchor_sha256: str | None = Field(default=None, max_length=64)


class Response(_Table, table=True):
    """An answer to a claim: a denial, a confirmation, silence, an official response, an action."""

    id: int | None = Field(default=None, primary_key=True)
    uid: str = _uid()
    claim_id: int = Field(foreign_key="claim.id", index=True, nullable=False)
    respondent_id: int = Field(foreign_key="person.id", index=True, nullable=False)
    kind: str = Field(nullable=False)
    date: str | None = None
    source_id: int | None = Field(default=None, foreign_key="source.id", index=True)
    quote: str | None = _text()
    summary: str | None = _text()
    # Checked against the source's stored text like an attribution's quote (derived).
    quote_status: str = Field(default="no-quote", nullable=False)
    anchor_start: int | None = None
    anchor_end: int | None = None
    anchor_prefix: str | None = None
    anchor_suffix: str | None = None
    anchor_sha256: str | None = Field(default=None, max_length=64)
    # Who spoke for the respondent: "Eric Balsam, CSIS spokesperson".
    voice: str | None = None


class ReplyRequest(_Table, table=True):
    """The right of reply: the addressee was asked to answer a claim."""

    __tablename__ = "reply_request"
    id: int | None = Field(default=None, primary_key=True)
    uid: str = _uid()
    claim_id: int = Field(foreign_key="claim.id", index=True, nullable=False)
    addressee_id: int = Field(foreign_key="person.id", index=True, nullable=False)
    sent: str = Field(nullable=False)
    deadline: str | None = None
    channel: str | None = None


class Review(_Table, table=True):
    """A claim's review, as it stands: the reviewer's decision and any hold.

    One row per reviewed claim; every decision is an event (`approve`, `reject`, `hold`,
    `release`), whose actor is the reviewer. An approval names the newest event touching the
    claim when it was approved (`approved_seq`, `approved_hash`); whether it is still current
    is computed from the log (ledger/store/reviews.py), never stored.
    """

    id: int | None = Field(default=None, primary_key=True)
    uid: str = _uid()
    claim_id: int = Field(foreign_key="claim.id", unique=True, nullable=False)
    decision: str | None = None  # approved | rejected | None (not decided)
    approved_seq: int | None = None
    approved_hash: str | None = Field(default=None, max_length=64)
    note: str | None = _text()
    reason: str | None = _text()  # why it was rejected
    override: str | None = _text()  # why it was approved despite audit errors
    held: bool = Field(default=False, nullable=False)
    hold_reason: str | None = _text()

    __table_args__ = (
        CheckConstraint("decision IN ('approved', 'rejected')", name="decision"),
    )


class Event(_Table, table=True):
    """One change, appended to the history; the chain of hashes makes rewrites evident."""

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: str = Field(nullable=False)  # UTC, ISO 8601 with microseconds and "Z"
    # On PostgreSQL the login role (the database sets it); on SQLite the declared actor.
    actor: str = Field(nullable=False)
    # On PostgreSQL the declared actor (--actor) when it is not the login; hashed when set.
    on_behalf: str | None = None
    action: str = Field(nullable=False)
    entity: str = Field(nullable=False)
    uid: str = Field(max_length=32, nullable=False)
    state: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    prev_hash: str = Field(max_length=64, nullable=False)
    hash: str = Field(max_length=64, nullable=False)

    __table_args__ = (Index("ix_event_entity_uid", "entity", "uid"),)


class CheckpointRecord(_Table, table=True):
    """A signed checkpoint of the log's head: the ledger's name, the newest event's sequence
    number and hash, the UTC time, and an OpenSSH (SSHSIG) signature of that text.

    Not an event: it signs the events, so it stands outside the chain; its signature is what
    makes it trustworthy (see ledger/checkpoint.py).
    """

    __tablename__ = "checkpoint"
    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(nullable=False, index=True)
    head_hash: str = Field(max_length=64, nullable=False)
    ledger: str = Field(nullable=False)
    signed_at: str = Field(nullable=False)  # UTC, to the second, as the text says
    public_key: str = Field(sa_column=Column(Text, nullable=False))  # OpenSSH public key line
    text: str = Field(sa_column=Column(Text, nullable=False))  # exactly the signed text
    signature: str = Field(sa_column=Column(Text, nullable=False))  # armored SSHSIG
