"""Verify: the chain, each event, and the current-state tables replayed against the log.

`verify_ledger` first recomputes the hash chain and validates every event (see
`ledger.integrity.EventValidator`). Then, table by table, it reads the rows in id order, a
batch at a time, builds each row's logged shape with the same `ledger.shapes` state functions
the writers call, and compares it with the state of the record's newest event, fetched for the
whole batch in one query. Link tables count as part of their record (a claim's people, a
person's aliases); derived columns (name keys, the normalized URL, the text's SHA-256, quote
status and anchors) are recomputed. Finally one anti-join per entity finds logged records whose
row is gone. Memory stays bounded by one batch; the queries grow with the number of batches.
"""

from __future__ import annotations

import json
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, exists, func, select, text, tuple_
from sqlalchemy.orm import aliased
from sqlmodel import Session

from ledger import integrity, values
from ledger.chain import ChainReport, canonical_json
from ledger.errors import ChainBroken, InvalidValue, StateMismatch
from ledger.models import (
    Attribution,
    Claim,
    ClaimPerson,
    Event,
    Person,
    PersonAlias,
    ReplyRequest,
    Response,
    Review,
    Source,
    SourceLink,
)
from ledger.quotes import QUOTE_CONTEXT, _on_boundaries
from ledger.shapes import text_digest
from ledger.store.events import verify

BATCH = 2_000
SOURCE_BATCH = 50  # sources carry their stored text
KEEP = 1_000  # differences kept in a report; all are counted
# Characters of source text kept prepared for the quote checks of responses; a prepared text
# (its normalized copy and offsets) takes a few times its length.
TEXT_CACHE_CHARS = 8_000_000

LABELS = {"link": "source link", "reply": "reply request"}
TABLES: dict[str, Table] = {
    "person": Person.__table__,
    "source": Source.__table__,
    "link": SourceLink.__table__,
    "claim": Claim.__table__,
    "attribution": Attribution.__table__,
    "response": Response.__table__,
    "reply": ReplyRequest.__table__,
    "review": Review.__table__,
}
_EVENT = Event.__table__
QUOTE_FIELDS = ("quote_status", "anchor_start", "anchor_end", "anchor_prefix", "anchor_suffix")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…" + text[-1]


@dataclass(frozen=True)
class Difference:
    """One way a table differs from the log.

    `kind` is `differs` (a field's value is not the logged one), `derived` (a derived column
    does not follow from the values it is derived from), `no-event` (a row no event records)
    or `no-row` (a logged record whose row is gone).
    """

    kind: str
    entity: str
    uid: str
    id: int | None = None
    field: str | None = None
    table: Any = None
    logged: Any = None
    seq: int | None = None
    derived_from: str | None = None

    def message(self) -> str:
        """One line naming the record, the field and both values."""
        label = LABELS.get(self.entity, self.entity)
        record = (
            f"{label} {self.id} (uid {self.uid})"
            if self.id is not None
            else (f"{label} (uid {self.uid})")
        )
        if self.kind == "differs":
            return (
                f"{record}: {self.field} is {_show(self.table)} in the table, "
                f"{_show(self.logged)} in event {self.seq}"
            )
        if self.kind == "derived":
            return (
                f"{record}: {self.field} is {_show(self.table)} in the table, but its "
                f"{self.derived_from} gives {_show(self.logged)}"
            )
        if self.kind == "no-event":
            return f"{record}: the row has no event in the log (written without one)"
        return f"{record}: event {self.seq} records it, but the table has no row"

    def to_dict(self) -> dict[str, Any]:
        """The difference as data, with its message."""
        return {
            "kind": self.kind,
            "entity": self.entity,
            "id": self.id,
            "uid": self.uid,
            "field": self.field,
            "table": self.table,
            "logged": self.logged,
            "seq": self.seq,
            "derived_from": self.derived_from,
            "message": self.message(),
        }


@dataclass
class VerifyReport:
    """What `ledger verify` found: the chain's report and, if it was replayed, the tables'."""

    chain: ChainReport
    replayed: bool = False
    rows: dict[str, int] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    total_differences: int = 0

    @property
    def ok(self) -> bool:
        return self.chain.ok and self.total_differences == 0

    def add(self, difference: Difference) -> None:
        self.total_differences += 1
        if len(self.differences) < KEEP:
            self.differences.append(difference)

    def to_dict(self) -> dict[str, Any]:
        """The report as `ledger verify --json` prints it."""
        chain = self.chain
        return {
            "ok": self.ok,
            "events": chain.events,
            "head_seq": chain.head_seq,
            "head_hash": chain.head_hash,
            "first_bad_seq": chain.first_bad_seq,
            "problem": chain.problem,
            "replayed": self.replayed,
            "rows": self.rows,
            "differences_count": self.total_differences,
            "differences": [d.to_dict() for d in self.differences],
        }


def verify_chain(session: Session, *, anchor: tuple[int, str] | None = None) -> ChainReport:
    """Recompute the chain and validate each event (time, action, entity, state shape)."""
    return verify(session, anchor=anchor)


def verify_ledger(
    session: Session, *, anchor: tuple[int, str] | None = None, chain_only: bool = False
) -> VerifyReport:
    """The chain and each event, then (unless `chain_only`, and only over a sound chain)
    every current-state table replayed against the log.

    On PostgreSQL a session that has not started its transaction reads one snapshot
    (REPEATABLE READ), so a writer committing meanwhile cannot show as a difference; SQLite's
    read transaction is a snapshot already.
    """
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
    report = VerifyReport(chain=verify_chain(session, anchor=anchor))
    if chain_only or not report.chain.ok:
        return report
    report.replayed = True
    for check in (_people, _sources, _links, _claims, _attributions, _responses, _replies,
                  _reviews):
        check(session, report)
    for entity in TABLES:
        _missing_rows(session, report, entity)
    return report


def require_verified(session: Session, *, doing: str) -> None:
    """Raise unless the ledger verifies in full; `doing` names what is refused."""
    report = verify_ledger(session)
    if not report.chain.ok:
        raise ChainBroken(
            f"the history does not verify at sequence number "
            f"{report.chain.first_bad_seq}: {report.chain.problem}; {doing} "
            "refuses to build from it (`ledger verify` says more; --skip-verify "
            "overrides)"
        )
    if report.total_differences:
        raise StateMismatch(
            f"{mismatch_summary(report)}; {doing} refuses to build from it "
            "(`ledger verify` lists every difference; --skip-verify overrides)"
        )


def mismatch_summary(report: VerifyReport, *, first: bool = True) -> str:
    """`N difference(s) between the tables and the event log (first: ...)`."""
    n = report.total_differences
    which = f"first: {report.differences[0].message()}" if first else "listed above"
    return f"{n} difference{'s' if n != 1 else ''} between the tables and the event log ({which})"


# --- reading in batches ----------------------------------------------------------------------


def _rows(session: Session, query) -> list[Any]:
    """The rows of a select, read through the DBAPI cursor of the session's connection.

    Each row is a named tuple of the select's column names (one class per select, so
    `_state` finds its fields' positions once), with each value converted as SQLAlchemy
    converts it (the column type's result processor: SQLite's 0/1 to a bool); building
    SQLAlchemy's Row objects cost verify more per row than the read itself. The only values
    in these selects are integers, compiled into the SQL."""
    connection = session.connection()
    dialect = connection.dialect
    columns = list(query.selected_columns)
    make = _row_class(tuple(column.name for column in columns))
    processors = [
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    ]
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        found = cursor.fetchall()
    finally:
        cursor.close()
    if any(processors):
        convert = [(i, f) for i, f in enumerate(processors) if f is not None]
        rows = []
        for values in found:
            values = list(values)
            for i, process in convert:
                values[i] = process(values[i])
            rows.append(make(values))
        return rows
    return list(map(make, found))


_ROW_CLASSES: dict[tuple[str, ...], Callable[[Any], Any]] = {}


def _row_class(names: tuple[str, ...]) -> Callable[[Any], Any]:
    """A named-tuple maker for rows of these column names, made once per set of names."""
    make = _ROW_CLASSES.get(names)
    if make is None:
        make = _ROW_CLASSES[names] = namedtuple("Row", names)._make
    return make


def _batches(session: Session, query, table: Table, size: int = BATCH) -> Iterator[list[Any]]:
    """The rows of `query` (over `table`) in id order, `size` at a time (keyset paging)."""
    last = None
    while True:
        page = query if last is None else query.where(table.c.id > last)
        rows = _rows(session, page.order_by(table.c.id).limit(size))
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _newest(session: Session, entity: str, uids: list[str]) -> dict[str, tuple[int, str]]:
    """uid -> (seq, state text) of each record's newest event, for one batch of uids.

    Through the DBAPI cursor: SQLAlchemy spends more on a statement of 2,000 bound uids
    than the database does. SQLite takes `?` for a parameter, psycopg `%s`."""
    if not uids:
        return {}
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    cursor = connection.connection.cursor()
    try:
        cursor.execute(
            f"SELECT uid, seq, state FROM event WHERE seq IN (SELECT max(seq) FROM event "
            f"WHERE entity = {mark} AND uid IN ({', '.join([mark] * len(uids))}) GROUP BY uid)",
            [entity, *uids],
        )
        return {uid: (seq, state) for uid, seq, state in cursor.fetchall()}
    finally:
        cursor.close()


# entity -> (the row class the positions were found for, each field's position in its rows)
_COLUMNS: dict[str, tuple[Any, list[tuple[str, int | None]]]] = {}


def _state(entity: str, row: Any, **references: Any) -> dict[str, Any]:
    """A row's logged shape, through the writers' state function. Fields that are not
    references are the row's columns of the same name, so a new column is checked as soon as
    its state function records it."""
    # Each field's position is found once per row class (one per select): this runs for
    # every row of every table.
    kind, columns = _COLUMNS.get(entity, (None, []))
    if kind is not type(row):
        fields = row._fields
        columns = [
            (name, fields.index(name) if name in fields else None)
            for name in integrity.SHAPES[entity]
        ]
        _COLUMNS[entity] = (type(row), columns)
    kwargs = {
        name: references[name] if name in references else row[position]
        for name, position in columns
    }
    return integrity.STATE_FUNCTIONS[entity](**kwargs)


def _compare(
    session: Session,
    report: VerifyReport,
    entity: str,
    found: list[tuple[int, str, dict[str, Any]]],
) -> None:
    """Compare each (id, uid, state) of a batch with its record's newest event."""
    report.rows[entity] = report.rows.get(entity, 0) + len(found)
    events = _newest(session, entity, [uid for _, uid, _ in found])
    for row_id, uid, state in found:
        if uid not in events:
            report.add(Difference("no-event", entity, uid, id=row_id))
            continue
        seq, text = events[uid]
        if canonical_json(state) == text:  # the usual case, without parsing the event
            continue
        for name, logged, value in integrity.differences(json.loads(text), state):
            report.add(
                Difference(
                    "differs",
                    entity,
                    uid,
                    id=row_id,
                    field=name,
                    table=value,
                    logged=logged,
                    seq=seq,
                )
            )


def _derived(
    report: VerifyReport, entity: str, row: Any, name: str, expected: Any, source: str
) -> None:
    value = getattr(row, name)
    if value != expected:
        report.add(
            Difference(
                "derived",
                entity,
                row.uid,
                id=row.id,
                field=name,
                table=value,
                logged=expected,
                derived_from=source,
            )
        )


def _missing_rows(session: Session, report: VerifyReport, entity: str) -> None:
    """Logged records of `entity` whose row is gone: one anti-join."""
    table = TABLES[entity]
    query = (
        select(_EVENT.c.uid, func.min(_EVENT.c.seq))
        .where(_EVENT.c.entity == entity, ~exists().where(table.c.uid == _EVENT.c.uid))
        .group_by(_EVENT.c.uid)
        .order_by(func.min(_EVENT.c.seq))
    )
    for uid, seq in session.execute(query):
        report.add(Difference("no-row", entity, uid, seq=seq))


def _grouped(rows, key: Callable[[Any], int], value: Callable[[Any], Any]) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(key(row), []).append(value(row))
    return grouped


# --- one check per table ---------------------------------------------------------------------


def _people(session: Session, report: VerifyReport) -> None:
    person, alias = TABLES["person"], PersonAlias.__table__
    merged = aliased(person)
    query = select(person, merged.c.uid.label("merged_into_uid")).outerjoin(
        merged, merged.c.id == person.c.merged_into_id
    )
    for rows in _batches(session, query, person):
        alias_rows = _rows(
            session,
            select(alias.c.person_id, alias.c.name, alias.c.name_key)
            .where(alias.c.person_id.between(rows[0].id, rows[-1].id))
            .order_by(alias.c.id)
        )
        aliases = _grouped(alias_rows, lambda r: r.person_id, lambda r: r)
        found = []
        for row in rows:
            own = aliases.get(row.id, [])
            _derived(report, "person", row, "name_key", values.fold(row.name), "name")
            for a in own:
                if a.name_key != values.fold(a.name):
                    report.add(
                        Difference(
                            "derived",
                            "person",
                            row.uid,
                            id=row.id,
                            field=f"name_key of alias {a.name!r}",
                            table=a.name_key,
                            logged=values.fold(a.name),
                            derived_from="alias",
                        )
                    )
            found.append(
                (
                    row.id,
                    row.uid,
                    _state(
                        "person",
                        row,
                        aliases=[a.name for a in own],
                        merged_into=row.merged_into_uid,
                    ),
                )
            )
        _compare(session, report, "person", found)


def _normalized_url(url: str | None) -> str | None:
    try:
        checked = values.url(url)
    except InvalidValue:  # a URL the writers would refuse: nothing derives from it
        return None
    return checked[1] if checked else None


def _sources(session: Session, report: VerifyReport) -> None:
    source = TABLES["source"]
    for rows in _batches(session, select(source), source, SOURCE_BATCH):
        found = []
        for row in rows:
            _derived(report, "source", row, "url_normalized", _normalized_url(row.url), "url")
            _derived(report, "source", row, "text_sha256", text_digest(row.text), "text")
            found.append((row.id, row.uid, _state("source", row)))
        _compare(session, report, "source", found)


def _links(session: Session, report: VerifyReport) -> None:
    link, source = TABLES["link"], TABLES["source"]
    origin, target = aliased(source), aliased(source)
    query = (
        select(link, origin.c.uid.label("source_uid"), target.c.uid.label("target_uid"))
        .outerjoin(origin, origin.c.id == link.c.source_id)
        .outerjoin(target, target.c.id == link.c.target_id)
    )
    for rows in _batches(session, query, link):
        _compare(
            session,
            report,
            "link",
            [
                (row.id, row.uid, _state("link", row, source=row.source_uid, target=row.target_uid))
                for row in rows
            ],
        )


def _claims(session: Session, report: VerifyReport) -> None:
    claim, person, role = TABLES["claim"], TABLES["person"], ClaimPerson.__table__
    claimant = aliased(person)
    query = select(claim, claimant.c.uid.label("claimant_uid")).outerjoin(
        claimant, claimant.c.id == claim.c.claimant_id
    )
    for rows in _batches(session, query, claim):
        role_rows = _rows(
            session,
            select(role.c.claim_id, role.c.role, person.c.uid)
            .outerjoin(person, person.c.id == role.c.person_id)
            .where(role.c.claim_id.between(rows[0].id, rows[-1].id))
            .order_by(role.c.id)
        )
        people = _grouped(role_rows, lambda r: r.claim_id, lambda r: [r.role, r.uid])
        _compare(
            session,
            report,
            "claim",
            [
                (
                    row.id,
                    row.uid,
                    _state("claim", row, people=people.get(row.id, []), claimant=row.claimant_uid),
                )
                for row in rows
            ],
        )


def _anchor_stands(text: str | None, row: Any) -> bool:
    """The usual case, decided without a search: a verified quote whose stored anchor still
    spans exactly the quote, with the context `ledger.quotes` keeps around it."""
    start, end = row.anchor_start, row.anchor_end
    if text is None or row.quote_status != "verified" or start is None or end is None:
        return False
    return (
        0 <= start <= end <= len(text)
        and text[start:end] == row.quote.strip()
        and _on_boundaries(text, start, end)
        and row.anchor_prefix == text[max(0, start - QUOTE_CONTEXT) : start]
        and row.anchor_suffix == text[end : end + QUOTE_CONTEXT]
    )


def _expected_quote(text: str | None, row: Any, index: Any, digest: str | None) -> dict[str, Any]:
    """The quote status and anchor the writers would store for this quote now. A verified
    quote's `anchor_sha256` is its source's text_sha256; one not found keeps the capture it
    was last found in, which only the history knows."""
    from ledger.quotes import recheck

    if not row.quote:
        return {
            "quote_status": "no-quote",
            "anchor_start": None,
            "anchor_end": None,
            "anchor_prefix": None,
            "anchor_suffix": None,
            "anchor_sha256": None,
        }
    try:
        check = recheck(
            text=text,
            quote=row.quote,
            start=row.anchor_start,
            end=row.anchor_end,
            prefix=row.anchor_prefix,
            suffix=row.anchor_suffix,
            index=index,
            hint=False,  # only the verdict and the anchor are compared, never the hint
        )
    except ValueError:  # an empty quote, which no writer stores
        return {}
    if check.verified and not _on_boundaries(text, check.start, check.end):
        check = index.check(quote=row.quote, hint=False)  # an anchor inside a word: search afresh
    expected = {
        "quote_status": check.status,
        "anchor_start": check.start,
        "anchor_end": check.end,
        "anchor_prefix": check.prefix,
        "anchor_suffix": check.suffix,
    }
    if check.verified:
        expected["anchor_sha256"] = digest
    return expected


def _quote_differences(
    report: VerifyReport, entity: str, row: Any, text: str | None, index: Any, digest: str | None
) -> None:
    """Check a quote's derived columns (status and anchor) against the source's text."""
    if _anchor_stands(text, row):
        if row.anchor_sha256 == digest:
            return
        expected = {"anchor_sha256": digest}
    else:
        expected = _expected_quote(text, row, index, digest)
        if not any(getattr(row, name) != value for name, value in expected.items()):
            return
    for name, value in expected.items():
        _derived(report, entity, row, name, value, "quote and the source's stored text")


def _source_text(session: Session, source_id: int | None) -> tuple[str | None, Any, str | None]:
    """A source's stored text, prepared for quote checks, and its text_sha256."""
    from ledger.quotes import TextIndex

    if source_id is None:
        return None, None, None
    source = TABLES["source"]
    found = session.execute(
        select(source.c.text, source.c.text_sha256).where(source.c.id == source_id)
    ).first()
    text, digest = found if found is not None else (None, None)
    return text, TextIndex(text) if text is not None else None, digest


class _SourceTexts:
    """Source texts prepared for quote checks, the most recently used kept up to a budget of
    characters, for rows read in id order that point at sources in any order (responses)."""

    def __init__(self, session: Session, *, budget: int | None = None) -> None:
        self.session = session
        self.budget = TEXT_CACHE_CHARS if budget is None else budget
        self.kept: OrderedDict[int | None, tuple[str | None, Any, str | None]] = OrderedDict()
        self.size = 0

    def get(self, source_id: int | None) -> tuple[str | None, Any, str | None]:
        found = self.kept.get(source_id)
        if found is not None:
            self.kept.move_to_end(source_id)
            return found
        found = self.kept[source_id] = _source_text(self.session, source_id)
        self.size += len(found[0] or "")
        while self.size > self.budget and len(self.kept) > 1:
            _, (text, _, _) = self.kept.popitem(last=False)
            self.size -= len(text or "")
        return found


def _attributions(session: Session, report: VerifyReport) -> None:
    """Attributions in (source, id) order, so each source's text is read and prepared once."""
    attribution, claim, source = TABLES["attribution"], TABLES["claim"], TABLES["source"]
    query = (
        select(attribution, claim.c.uid.label("claim_uid"), source.c.uid.label("source_uid"))
        .outerjoin(claim, claim.c.id == attribution.c.claim_id)
        .outerjoin(source, source.c.id == attribution.c.source_id)
    )
    key = tuple_(attribution.c.source_id, attribution.c.id)
    current: tuple[int | None, str | None, Any, str | None] = (None, None, None, None)
    last = None
    while True:
        page = query if last is None else query.where(key > tuple_(*last))
        rows = _rows(session, page.order_by(attribution.c.source_id, attribution.c.id).limit(BATCH))
        if not rows:
            return
        last = (rows[-1].source_id, rows[-1].id)
        found = []
        for row in rows:
            if current[0] != row.source_id:
                current = (row.source_id, *_source_text(session, row.source_id))
            _quote_differences(report, "attribution", row, current[1], current[2], current[3])
            found.append(
                (
                    row.id,
                    row.uid,
                    _state("attribution", row, claim=row.claim_uid, source=row.source_uid),
                )
            )
        _compare(session, report, "attribution", found)


def _responses(session: Session, report: VerifyReport) -> None:
    response, claim, person, source = (
        TABLES["response"],
        TABLES["claim"],
        TABLES["person"],
        TABLES["source"],
    )
    query = (
        select(
            response,
            claim.c.uid.label("claim_uid"),
            person.c.uid.label("respondent_uid"),
            source.c.uid.label("source_uid"),
        )
        .outerjoin(claim, claim.c.id == response.c.claim_id)
        .outerjoin(person, person.c.id == response.c.respondent_id)
        .outerjoin(source, source.c.id == response.c.source_id)
    )
    texts = _SourceTexts(session)
    for rows in _batches(session, query, response):
        for row in rows:
            _quote_differences(report, "response", row, *texts.get(row.source_id))
        _compare(
            session,
            report,
            "response",
            [
                (
                    row.id,
                    row.uid,
                    _state(
                        "response",
                        row,
                        claim=row.claim_uid,
                        respondent=row.respondent_uid,
                        source=row.source_uid,
                    ),
                )
                for row in rows
            ],
        )


def _replies(session: Session, report: VerifyReport) -> None:
    reply, claim, person = TABLES["reply"], TABLES["claim"], TABLES["person"]
    query = (
        select(reply, claim.c.uid.label("claim_uid"), person.c.uid.label("addressee_uid"))
        .outerjoin(claim, claim.c.id == reply.c.claim_id)
        .outerjoin(person, person.c.id == reply.c.addressee_id)
    )
    for rows in _batches(session, query, reply):
        _compare(
            session,
            report,
            "reply",
            [
                (
                    row.id,
                    row.uid,
                    _state("reply", row, claim=row.claim_uid, addressee=row.addressee_uid),
                )
                for row in rows
            ],
        )


def _reviews(session: Session, report: VerifyReport) -> None:
    review, claim = TABLES["review"], TABLES["claim"]
    query = select(review, claim.c.uid.label("claim_uid")).outerjoin(
        claim, claim.c.id == review.c.claim_id
    )
    for rows in _batches(session, query, review):
        _compare(
            session,
            report,
            "review",
            [(row.id, row.uid, _state("review", row, claim=row.claim_uid)) for row in rows],
        )


__all__ = [
    "Difference",
    "VerifyReport",
    "mismatch_summary",
    "require_verified",
    "verify_chain",
    "verify_ledger",
]
