"""The bulk importer behind `ledger import`: bundle records in, rows and events out, fast.

Each record is validated with the same `ledger.shapes` functions the store uses and resolved
against in-memory indexes of the ledger (people, sources, links, the claims the input names),
then staged. Staged rows go to the database in batches through SQLAlchemy Core `executemany`,
parents before children, with the event chain computed in bulk. On SQLite a large import
rebuilds the full-text index once at the end instead of row by row. Everything happens in the
caller's transaction: an error anywhere means nothing is written.

`checkpoint()` and `rollback()` undo the records staged since a checkpoint, so a caller that
wants to refuse one row and go on (the CSV import's --dry-run) needs no savepoints.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text
from sqlmodel import Session

from ledger import shapes, values
from ledger.chain import canonical_json, event_hash
from ledger.errors import Conflict, InvalidValue, NotFound
from ledger.models import (
    Attribution,
    Claim,
    ClaimPerson,
    Event,
    Person,
    PersonAlias,
    ReplyRequest,
    Response,
    Source,
    SourceLink,
    new_uid,
)
from ledger.quotes import TextIndex
from ledger.store.events import head
from ledger.store.people import ambiguous, suggest

TYPES = ("person", "source", "claim", "response", "reply")
_UID_RE = re.compile(r"^[0-9a-f]{32}$")
# Tables in the order their rows must be written (parents first).
_TABLES = (Person, PersonAlias, Source, SourceLink, Claim, ClaimPerson, Attribution, Response,
           ReplyRequest, Event)
_FLUSH_ROWS = 20_000
# Stored texts kept for quote checks, in characters (a source's quotes are scattered through
# the input, so a small cache re-reads the same texts over and over).
_TEXT_CACHE_CHARS = 32_000_000
# Above this many new records, SQLite's full-text index is rebuilt once instead of per row.
_REBUILD_INDEX_AT = 2_000


@dataclass
class ImportResult:
    """What an import did: records created and skipped by type, and warnings."""

    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TYPES, 0))
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TYPES, 0))
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        made = ", ".join(f"{n} {t}{'s' if n != 1 else ''}" for t, n in self.created.items() if n)
        same = sum(self.skipped.values())
        return (f"imported {made or 'nothing new'}"
                + (f"; {same} record{'s' if same != 1 else ''} already in the ledger" if same
                   else ""))


@dataclass
class _Person:
    id: int
    uid: str
    name: str
    slug: str
    merged_into: int | None


@dataclass
class _Source:
    id: int
    uid: str
    key: str
    text: str | None = None  # only while staged; flushed texts are read back on demand


@dataclass
class _Checkpoint:
    undo: int
    rows: dict[str, int]
    next_id: dict[str, int]
    head: tuple[int, str]
    created: dict[str, int]
    skipped: dict[str, int]
    warnings: int
    links: int
    flushes: int


_MISSING = object()


class Importer:
    """Stages bundle records and writes them in bulk; see the module docstring."""

    def __init__(self, session: Session, *, strict: bool = False,
                 expected: Iterable[dict[str, Any]] = (), undoable: bool = True) -> None:
        """`undoable=False` for an all-or-nothing import: no undo log is kept (the caller's
        transaction rolls back on any error), which saves work on every record."""
        self.session = session
        self.undoable = undoable
        self.connection = session.connection()
        self.dialect = self.connection.dialect.name
        self.strict = strict
        self.result = ImportResult()
        self.actor = session.info["actor"]
        # One time for the whole import: it is one transaction, recorded when it ran.
        self.now = session.info["clock"]()
        session.flush()
        self.head = session.info.get("chain_head") or head(session)
        self.rows: dict[str, list[dict[str, Any]]] = {t.__tablename__: [] for t in _TABLES}
        self.next_id = {t.__tablename__: self._max_id(t) + 1 for t in _TABLES if t is not Event}
        self.searchable_rows = sum(self.next_id[t] for t in ("claim", "attribution", "response",
                                                              "source"))
        self.inserted: set[str] = set()
        self.undo: list[Callable[[], None]] = []
        self.flushes = 0
        self.pending_links: list[tuple[int, str, str, str]] = []
        self.texts: OrderedDict[int, tuple[TextIndex | None, int]] = OrderedDict()
        self.text_chars = 0
        self.index_triggers: list[str] | None = None
        expected = list(expected)
        self._load_people()
        self._load_sources()
        self._load_claims(expected)

    # --- loading what the input can refer to ----------------------------------------------

    def _max_id(self, model) -> int:
        return self.connection.execute(select(func.max(model.id))).scalar() or 0

    def _load_people(self) -> None:
        self.people: dict[int, _Person] = {}
        self.person_by_uid: dict[str, int] = {}
        self.person_by_name: dict[str, int] = {}
        self.person_by_slug: dict[str, int] = {}
        self.name_folds: dict[str, set[int]] = {}
        self.alias_folds: dict[str, set[int]] = {}
        self.aliases: dict[int, list[str]] = {}
        rows = self.connection.execute(select(Person.id, Person.uid, Person.name, Person.name_key,
                                              Person.slug, Person.merged_into_id))
        for pid, uid, name, key, slug, merged in rows:
            self.people[pid] = _Person(pid, uid, name, slug, merged)
            self.person_by_uid[uid] = pid
            self.person_by_slug[slug] = pid
            if merged is None:
                self.person_by_name[name] = pid
                self.name_folds.setdefault(key, set()).add(pid)
        for pid, name, key in self.connection.execute(
            select(PersonAlias.person_id, PersonAlias.name, PersonAlias.name_key)
            .order_by(PersonAlias.id)
        ):
            self.aliases.setdefault(pid, []).append(name)
            self.alias_folds.setdefault(key, set()).add(pid)

    def _load_sources(self) -> None:
        self.sources: dict[int, _Source] = {}
        self.source_by_key: dict[str, int] = {}
        self.source_by_uid: dict[str, int] = {}
        self.urls: dict[str, int] = {}
        for sid, uid, key, url in self.connection.execute(
            select(Source.id, Source.uid, Source.key, Source.url_normalized)
        ):
            self.sources[sid] = _Source(sid, uid, key)
            self.source_by_key[key] = sid
            self.source_by_uid[uid] = sid
            if url:
                self.urls[url] = sid
        self.links: dict[int, list[int]] = {}
        for src, dst in self.connection.execute(select(SourceLink.source_id,
                                                       SourceLink.target_id)):
            self.links.setdefault(src, []).append(dst)

    def _chunks(self, items: list[Any], size: int = 500):
        for start in range(0, len(items), size):
            yield items[start:start + size]

    def _known_uids(self, model, uids: set[str]) -> dict[str, int | None]:
        found: dict[str, int | None] = {}
        for chunk in self._chunks(sorted(uids)):
            found.update(self.connection.execute(
                select(model.uid, model.id).where(model.uid.in_(chunk))).all())
        found.update((uid, None) for uid in uids if uid not in found)
        return found

    def _load_claims(self, expected: list[dict[str, Any]]) -> None:
        """Index only the claims, attributions, responses and requests the input names."""
        def uids(kind: str) -> set[str]:
            return {r["uid"] for r in expected if r.get("type") == kind
                    and isinstance(r.get("uid"), str)}

        self.uid_ids: dict[str, dict[str, int | None]] = {
            "claim": self._known_uids(Claim, uids("claim")),
            "attribution": self._known_uids(Attribution, {
                a["uid"] for r in expected if r.get("type") == "claim"
                for a in (r.get("attributions") or []) if isinstance(a, dict)
                and isinstance(a.get("uid"), str)}),
            "response": self._known_uids(Response, uids("response")),
            "reply": self._known_uids(ReplyRequest, uids("reply")),
        }
        self.claim_uids: dict[int, str] = {
            cid: uid for uid, cid in self.uid_ids["claim"].items() if cid is not None}
        self.by_statement: dict[str, list[tuple[int, frozenset[int]]]] = {}
        # Every claim's statement: a claim without a uid is matched on it, and a new claim
        # joins its statement's list for the ones that follow.
        self._load_statements({values.nfc(r["statement"]).strip() for r in expected
                               if r.get("type") == "claim"
                               and isinstance(r.get("statement"), str)})
        self.refs: dict[str, int] = {}
        # Natural keys of what existing claims already hold, loaded when first needed.
        self.claim_contents: dict[int, set[tuple]] = {}

    def _load_statements(self, statements: set[str]) -> None:
        """Index the existing claims with these statements, with their subjects."""
        for statement in statements:
            self.by_statement.setdefault(statement, [])
        for chunk in self._chunks(sorted(statements)):
            rows = self.connection.execute(select(Claim.id, Claim.uid, Claim.statement)
                                           .where(Claim.statement.in_(chunk))).all()
            subjects: dict[int, set[int]] = {}
            for cid, pid in self.connection.execute(
                select(ClaimPerson.claim_id, ClaimPerson.person_id).where(
                    ClaimPerson.claim_id.in_([r[0] for r in rows]),
                    ClaimPerson.role == "subject")
            ):
                subjects.setdefault(cid, set()).add(pid)
            for cid, uid, statement in rows:
                self.claim_uids[cid] = uid
                self.by_statement[statement].append((cid, frozenset(subjects.get(cid, ()))))

    def _uid_id(self, kind: str, uid: str | None) -> int | None:
        """The id of the claim, attribution, response or request with this uid, if any."""
        if uid is None:
            return None
        known = self.uid_ids[kind]
        if uid not in known:
            model = {"claim": Claim, "attribution": Attribution, "response": Response,
                     "reply": ReplyRequest}[kind]
            known[uid] = self.connection.execute(
                select(model.id).where(model.uid == uid)).scalar()
            if kind == "claim" and known[uid] is not None:
                self.claim_uids[known[uid]] = uid
        return known[uid]

    def _natural_claims(self, statement: str) -> list[tuple[int, frozenset[int]]]:
        if statement not in self.by_statement:
            self._load_statements({statement})
        return self.by_statement[statement]

    # --- undo -----------------------------------------------------------------------------

    def _put(self, mapping: dict, key: Any, value: Any) -> None:
        old = mapping.get(key, _MISSING)
        mapping[key] = value
        if self.undoable:
                self.undo.append(lambda: mapping.pop(key) if old is _MISSING
                                 else mapping.__setitem__(key, old))

    def _add_to(self, mapping: dict, key: Any, value: Any) -> None:
        bucket = mapping.setdefault(key, set())
        if value not in bucket:
            bucket.add(value)
            if self.undoable:
                self.undo.append(lambda: bucket.discard(value))

    def _append(self, items: list, value: Any) -> None:
        items.append(value)
        if self.undoable:
            self.undo.append(items.pop)

    def checkpoint(self) -> _Checkpoint:
        """A point to roll the staging back to (rows staged since are forgotten)."""
        self.flush_if_large()
        return _Checkpoint(len(self.undo), {t: len(r) for t, r in self.rows.items()},
                           dict(self.next_id), self.head, dict(self.result.created),
                           dict(self.result.skipped), len(self.result.warnings),
                           len(self.pending_links), self.flushes)

    def rollback(self, point: _Checkpoint) -> None:
        """Forget everything staged since `point`.

        A flush in between (only ever at the start of a record, before it staged anything)
        wrote what came before `point`; what is staged now is all the record's own.
        """
        flushed = self.flushes != point.flushes
        while len(self.undo) > (0 if flushed else point.undo):
            self.undo.pop()()
        for table, length in point.rows.items():
            del self.rows[table][0 if flushed else length:]
        self.texts.clear()  # a forgotten source's id will be handed out again
        self.text_chars = 0
        self.next_id, self.head = dict(point.next_id), point.head
        self.result.created, self.result.skipped = dict(point.created), dict(point.skipped)
        del self.result.warnings[point.warnings:]
        del self.pending_links[point.links:]

    # --- staging --------------------------------------------------------------------------

    def _new_id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _stage(self, model, row: dict[str, Any]) -> None:
        self.rows[model.__tablename__].append(row)

    def _event(self, *, action: str, entity: str, uid: str, state: dict[str, Any]) -> None:
        seq, prev = self.head[0] + 1, self.head[1]
        at = self.now
        state_json = canonical_json(state)
        digest = event_hash(seq=seq, at=at, actor=self.actor, action=action, entity=entity,
                            uid=uid, state=state_json, prev=prev)
        self._stage(Event, {"seq": seq, "at": at, "actor": self.actor, "action": action,
                            "entity": entity, "uid": uid, "state": state_json,
                            "prev_hash": prev, "hash": digest})
        self.head = (seq, digest)

    def flush_if_large(self) -> None:
        """Write staged rows once there are enough of them (between records only)."""
        if sum(len(r) for r in self.rows.values()) >= _FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write every staged row, parents first; staged records can no longer be undone."""
        staged = sum(len(r) for r in self.rows.values())
        if not staged:
            return
        # Rebuilding re-reads the whole ledger: worth it only for an import of its size.
        if (self.index_triggers is None and self.dialect == "sqlite"
                and staged >= max(_REBUILD_INDEX_AT, self.searchable_rows // 2)):
            from ledger.store.search import suspend_index

            self.index_triggers = suspend_index(self.session)
        for model in _TABLES:
            rows = self.rows[model.__tablename__]
            if rows:
                self._insert(model.__table__, rows)
                self.inserted.add(model.__tablename__)
                rows.clear()
        self.flushes += 1
        for source in self.sources.values():
            source.text = None  # it is in the database now; read back when needed
        self.undo.clear()

    def _insert(self, table, rows: list[dict[str, Any]]) -> None:
        if self.dialect != "sqlite":
            # psycopg: SQLAlchemy batches the rows into multi-row INSERTs.
            self.connection.execute(table.insert(), rows)
            return
        # SQLite: the driver's executemany on plain tuples; SQLAlchemy's per-row parameter
        # processing cost more than the inserts themselves.
        columns = [c.name for c in table.columns]
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
               f"VALUES ({', '.join('?' for _ in columns)})")
        self.connection.exec_driver_sql(sql, [tuple(row.get(c) for c in columns)
                                              for row in rows])

    # --- resolution -----------------------------------------------------------------------

    def _follow(self, pid: int) -> int:
        seen = set()
        while self.people[pid].merged_into is not None and pid not in seen:
            seen.add(pid)
            pid = self.people[pid].merged_into
        return pid

    def person(self, ref: str | None, *, field: str) -> int:
        """Resolve a person reference exactly as `ledger.store.get_person` does."""
        pid = self.find_person(ref, field=field)
        if pid is None:
            folded = values.fold(ref or "")
            names: dict[str, str] = {}
            for key, pids in [*self.name_folds.items(), *self.alias_folds.items()]:
                if pids:
                    names.setdefault(key, self.people[self._follow(min(pids))].name)
            raise NotFound(f"no person {ref.strip()!r}{suggest(folded, names)}")
        return pid

    def find_person(self, ref: str | None, *, field: str) -> int | None:
        """The person a reference names, or None; ambiguous and malformed ones raise."""
        raw = (ref or "").strip() if isinstance(ref, str) else ref
        if not isinstance(raw, str):
            raise InvalidValue(f"{field!r} must be a string")
        if not raw:
            raise InvalidValue(f"--{field} must not be empty")
        if raw.isdigit():
            if int(raw) not in self.people:
                raise NotFound(f"no person with id {raw}")
            return self._follow(int(raw))
        if _UID_RE.match(raw) and raw in self.person_by_uid:
            return self._follow(self.person_by_uid[raw])
        name = values.nfc(raw)
        if name in self.person_by_name:
            return self.person_by_name[name]
        if raw in self.person_by_slug:
            return self._follow(self.person_by_slug[raw])
        folded = values.fold(raw)
        matches = set(self.name_folds.get(folded, ()))
        matches |= {self._follow(pid) for pid in self.alias_folds.get(folded, ())}
        if len(matches) > 1:
            raise ambiguous(raw, [(p, self.people[p].name, self.people[p].slug)
                                  for p in matches])
        return matches.pop() if matches else None

    def source(self, ref: str | None, *, field: str = "source") -> int:
        """Resolve a source key (or id) as `ledger.store.get_source` does."""
        raw = (ref or "").strip() if isinstance(ref, str) else ref
        if not isinstance(raw, str):
            raise InvalidValue(f"{field!r} must be a string")
        if not raw:
            raise InvalidValue(f"--{field} must not be empty")
        for candidate in (raw, raw.lower()):
            if candidate in self.source_by_key:
                return self.source_by_key[candidate]
        if raw.isdigit() and int(raw) in self.sources:
            return int(raw)
        import difflib

        close = difflib.get_close_matches(raw.lower(), list(self.source_by_key), n=3,
                                          cutoff=0.6)
        hint = ("; did you mean " + " or ".join(repr(k) for k in close) + "?") if close else (
            "; `ledger source list` shows the keys")
        raise NotFound(f"no source {raw!r}{hint}")

    def _text_index(self, sid: int) -> TextIndex | None:
        cached = self.texts.get(sid)
        if cached is not None:
            self.texts.move_to_end(sid)
            return cached[0]
        text_value = self.sources[sid].text
        if text_value is None:
            text_value = self.connection.exec_driver_sql(
                "SELECT text FROM source WHERE id = " + str(int(sid))).scalar()
        size = len(text_value or "")
        self.texts[sid] = (TextIndex(text_value) if text_value else None, size)
        self.text_chars += size
        while self.text_chars > _TEXT_CACHE_CHARS and len(self.texts) > 1:
            self.text_chars -= self.texts.popitem(last=False)[1][1]
        return self.texts[sid][0]

    # --- records --------------------------------------------------------------------------

    def add_person(self, record: dict[str, Any]) -> bool:
        uid = _uid(record)
        name = values.line(_str(record, "name"), field="name")
        pid = self.person_by_uid.get(uid) if uid else self.person_by_name.get(name)
        if pid is not None:
            if uid:
                self._compare("person", record, name)
            return False
        cleaned = shapes.clean_person(name=name, kind=_str(record, "kind"),
                                      description=_str(record, "description"),
                                      aliases=_list(record, "aliases"))
        if cleaned["name"] in self.person_by_name:
            from ledger.store.people import name_taken

            other = self.people[self.person_by_name[cleaned["name"]]]
            raise name_taken(cleaned["name"], other.id, other.slug)
        pid, uid = self._new_id("person"), uid or new_uid()
        slug = shapes.next_free(values.safe_slug(cleaned["name"], fallback="person"),
                                self.person_by_slug.keys())
        self._stage(Person, {"id": pid, "uid": uid, "name": cleaned["name"],
                             "name_key": cleaned["name_key"], "kind": cleaned["kind"],
                             "description": cleaned["description"], "slug": slug,
                             "merged_into_id": None})
        self._put(self.people, pid, _Person(pid, uid, cleaned["name"], slug, None))
        self._put(self.person_by_uid, uid, pid)
        self._put(self.person_by_name, cleaned["name"], pid)
        self._put(self.person_by_slug, slug, pid)
        self._add_to(self.name_folds, cleaned["name_key"], pid)
        for alias in cleaned["aliases"]:
            self._stage(PersonAlias, {"id": self._new_id("person_alias"), "person_id": pid,
                                      "name": alias, "name_key": values.fold(alias)})
            self._add_to(self.alias_folds, values.fold(alias), pid)
        self._event(action="add", entity="person", uid=uid, state=shapes.person_state(
            uid=uid, name=cleaned["name"], kind=cleaned["kind"],
            description=cleaned["description"], slug=slug, aliases=cleaned["aliases"],
            merged_into=None))
        return True

    def add_source(self, record: dict[str, Any]) -> bool:
        uid = _uid(record)
        key = values.key(_str(record, "key"))
        relations = {r: _list(record, r) for r in values.LINK_RELATIONS}
        sid = (self.source_by_uid.get(uid) if uid else None) or self.source_by_key.get(key)
        if sid is not None:
            have = self._compare("source", {k: v for k, v in record.items()
                                            if k not in values.LINK_RELATIONS}, key)
            have_links = {(r, k) for r in values.LINK_RELATIONS for k in have[r]}
            for relation, targets in relations.items():
                for target in targets:
                    if (relation, target) not in have_links:
                        self._append(self.pending_links, (sid, target, relation, key))
            return False
        cleaned = shapes.clean_source(
            title=_str(record, "title"), key=key, publisher=_str(record, "publisher"),
            author=_str(record, "author"), url=_str(record, "url"),
            published=_str(record, "published"), kind=_str(record, "kind"),
            language=_str(record, "language"), text=_str(record, "text"))
        if cleaned["url_normalized"] in self.urls:
            from ledger.store.sources import url_taken

            raise url_taken(self.sources[self.urls[cleaned["url_normalized"]]].key,
                            cleaned["url"])
        sid, uid = self._new_id("source"), uid or new_uid()
        retrieved = (_str(record, "retrieved") or self.now) if cleaned["text"] else None
        row = {"id": sid, "uid": uid, **cleaned, "retrieved": retrieved}
        self._stage(Source, row)
        self._put(self.sources, sid, _Source(sid, uid, key, cleaned["text"]))
        self._put(self.source_by_key, key, sid)
        self._put(self.source_by_uid, uid, sid)
        if cleaned["url_normalized"]:
            self._put(self.urls, cleaned["url_normalized"], sid)
        state = {k: v for k, v in row.items() if k not in ("id", "url_normalized")}
        self._event(action="add", entity="source", uid=uid, state=shapes.source_state(**state))
        for relation, targets in relations.items():
            for target in targets:
                self._append(self.pending_links, (sid, target, relation, key))
        return True

    def add_claim(self, record: dict[str, Any]) -> bool:
        ref = _str(record, "ref")
        if ref is not None and ref in self.refs:
            raise Conflict(f"claim ref {ref!r} is used twice in this file")
        uid = _uid(record)
        cleaned = shapes.clean_claim(
            statement=_str(record, "statement"), occurred=_str(record, "occurred"),
            status=_str(record, "status"), allow_retracted=True,
            retraction_reason=_str(record, "retraction_reason"))
        about = _list(record, "about")
        cid = self._uid_id("claim", uid)
        if cid is None and not uid:
            subjects = frozenset(self.person(r, field="about") for r in about)
            cid = next((c for c, s in self._natural_claims(cleaned["statement"])
                        if s == subjects), None)
        created = cid is None
        if created:
            cid = self._new_claim(record, cleaned, about, uid)
        elif uid:
            # Without a uid the claim was matched on statement and subjects (which may be
            # named by alias); with one, every field must agree.
            self._compare("claim", record, cleaned["statement"][:60])
        attributions = record.get("attributions") or []
        if not isinstance(attributions, list):
            raise InvalidValue("'attributions' must be a list of objects")
        for item in attributions:
            created |= self._add_attribution(cid, item)
        if ref is not None:
            self._put(self.refs, ref, cid)
        return created

    def _new_claim(self, record: dict[str, Any], cleaned: dict[str, Any], about: list[str],
                   uid: str | None) -> int:
        if not about:
            raise InvalidValue("--about is required: who is the claim about?")
        roles: list[tuple[str, list[int]]] = []
        for role, name, field_name in (("subject", "about", "about"),
                                       ("target", "targets", "target"),
                                       ("mentioned", "mentioned", "mentioned")):
            people: list[int] = []
            for ref in _list(record, name):
                pid = self.person(ref, field=field_name)
                if pid not in people:
                    people.append(pid)
            roles.append((role, people))
        claimant_ref = _str(record, "claimant")
        claimant = self.person(claimant_ref, field="claimant") if claimant_ref else None
        cid, uid = self._new_id("claim"), uid or new_uid()
        self._stage(Claim, {"id": cid, "uid": uid, **cleaned, "claimant_id": claimant})
        for role, people in roles:
            for pid in people:
                self._stage(ClaimPerson, {"id": self._new_id("claim_person"), "claim_id": cid,
                                          "person_id": pid, "role": role})
        self._put(self.uid_ids["claim"], uid, cid)
        self._put(self.claim_uids, cid, uid)
        self._put(self.claim_contents, cid, set())
        self._append(self._natural_claims(cleaned["statement"]), (cid, frozenset(roles[0][1])))
        self._event(action="add", entity="claim", uid=uid, state=shapes.claim_state(
            uid=uid, statement=cleaned["statement"],
            people=[[role, self.people[p].uid] for role, people in roles for p in people],
            claimant=self.people[claimant].uid if claimant else None,
            occurred=cleaned["occurred"], status=cleaned["status"],
            retraction_reason=cleaned["retraction_reason"]))
        return cid

    def _contents(self, cid: int) -> set[tuple]:
        """Natural keys of what a claim holds: attributions, responses, reply requests."""
        if cid not in self.claim_contents:
            contents: set[tuple] = set()
            for sid, quote, voice in self.connection.execute(
                select(Attribution.source_id, Attribution.quote, Attribution.voice)
                .where(Attribution.claim_id == cid)
            ):
                contents.add(("attribution", sid, quote, None if quote is not None else voice))
            for by, kind, date, quote in self.connection.execute(
                select(Response.respondent_id, Response.kind, Response.date, Response.quote)
                .where(Response.claim_id == cid)
            ):
                contents.add(("response", by, kind, date, quote))
            for to, sent in self.connection.execute(
                select(ReplyRequest.addressee_id, ReplyRequest.sent)
                .where(ReplyRequest.claim_id == cid)
            ):
                contents.add(("reply", to, sent))
            self._put(self.claim_contents, cid, contents)
        return self.claim_contents[cid]

    def _add_attribution(self, cid: int, item: Any) -> bool:
        if not isinstance(item, dict):
            raise InvalidValue("each attribution must be an object")
        unknown = set(item) - FIELDS["attribution"] - DERIVED
        if unknown:
            raise InvalidValue(f"unknown attribution field(s): {', '.join(sorted(unknown))}")
        uid = _uid(item)
        sid = self.source(_str(item, "source"))
        cleaned = shapes.clean_attribution(quote=_str(item, "quote"), voice=_str(item, "voice"),
                                           sourcing=_str(item, "sourcing"))
        quote = cleaned["quote"]
        natural = ("attribution", sid, quote, None if quote is not None else cleaned["voice"])
        # Known by uid; or the same claim, source and words (with no quote, and no uid, the
        # same voice): the same attribution.
        if self._uid_id("attribution", uid) is not None or (
                (quote is not None or not uid) and natural in self._contents(cid)):
            return False
        check = None
        if quote is not None:
            index = self._text_index(sid)
            check = index.check(quote=quote) if index is not None else None
            if self.strict and check is not None and not check.verified:
                raise Conflict(f"the quote is not in the stored text of "
                               f"{self.sources[sid].key!r} (--strict refuses it); "
                               "`ledger audit` shows the closest passage")
        aid, uid = self._new_id("attribution"), uid or new_uid()
        status = ("no-quote" if quote is None else "unverifiable" if check is None
                  else check.status)
        self._stage(Attribution, {
            "id": aid, "uid": uid, "claim_id": cid, "source_id": sid, **cleaned,
            "quote_status": status,
            "anchor_start": check.start if check else None,
            "anchor_end": check.end if check else None,
            "anchor_prefix": check.prefix if check else None,
            "anchor_suffix": check.suffix if check else None,
        })
        self._put(self.uid_ids["attribution"], uid, aid)
        self._add_to(self.claim_contents, cid, natural)
        if status == "not-found":
            self._append(self.result.warnings, f"claim {cid}: the quote is not in the stored "
                                               f"text of {self.sources[sid].key!r}")
        self._event(action="add", entity="attribution", uid=uid, state=shapes.attribution_state(
            uid=uid, claim=self.claim_uids[cid], source=self.sources[sid].uid, **cleaned))
        return True

    def _claim_of(self, record: dict[str, Any]) -> int:
        ref = record.get("claim")
        if isinstance(ref, str) and ref in self.refs:
            return self.refs[ref]
        if isinstance(ref, str) and _UID_RE.match(ref):
            found = self._uid_id("claim", ref)
            if found is None:
                raise NotFound(f"no claim {ref}; `ledger claim list` shows the ids")
            return found
        raise InvalidValue(f"claim {ref!r} is not the ref of an earlier claim in this file")

    def add_response(self, record: dict[str, Any]) -> bool:
        cid = self._claim_of(record)
        uid = _uid(record)
        source_ref = _str(record, "source")
        cleaned = shapes.clean_response(kind=_str(record, "kind"), date=_str(record, "date"),
                                        quote=_str(record, "quote"),
                                        summary=_str(record, "summary"),
                                        has_source=bool(source_ref),
                                        voice=_str(record, "voice"))
        by = self.person(_str(record, "by"), field="by")
        sid = self.source(source_ref) if source_ref else None
        natural = ("response", by, cleaned["kind"], cleaned["date"], cleaned["quote"])
        if self._uid_id("response", uid) is not None or (
                not uid and natural in self._contents(cid)):
            return False
        rid, uid = self._new_id("response"), uid or new_uid()
        self._stage(Response, {"id": rid, "uid": uid, "claim_id": cid, "respondent_id": by,
                               "source_id": sid, **cleaned})
        self._put(self.uid_ids["response"], uid, rid)
        self._add_to(self.claim_contents, cid, natural)
        self._event(action="add", entity="response", uid=uid, state=shapes.response_state(
            uid=uid, claim=self.claim_uids[cid], respondent=self.people[by].uid,
            source=self.sources[sid].uid if sid else None, **cleaned))
        return True

    def add_reply(self, record: dict[str, Any]) -> bool:
        cid = self._claim_of(record)
        uid = _uid(record)
        cleaned = shapes.clean_reply(sent=_str(record, "sent"),
                                     deadline=_str(record, "deadline"),
                                     channel=_str(record, "channel"))
        to = self.person(_str(record, "to"), field="to")
        natural = ("reply", to, cleaned["sent"])
        if self._uid_id("reply", uid) is not None or (
                not uid and natural in self._contents(cid)):
            return False
        rid, uid = self._new_id("reply_request"), uid or new_uid()
        self._stage(ReplyRequest, {"id": rid, "uid": uid, "claim_id": cid,
                                   "addressee_id": to, **cleaned})
        self._put(self.uid_ids["reply"], uid, rid)
        self._add_to(self.claim_contents, cid, natural)
        self._event(action="add", entity="reply", uid=uid, state=shapes.reply_state(
            uid=uid, claim=self.claim_uids[cid], addressee=self.people[to].uid, **cleaned))
        return True

    def _compare(self, kind: str, record: dict[str, Any], name: str) -> dict[str, Any]:
        """The ledger's copy of a record the input already names; refuse if they differ."""
        from ledger.store.claims import claim_record
        from ledger.store.people import person_record
        from ledger.store.sources import source_record

        self.flush()
        session = self.session
        if kind == "person":
            row = session.exec(select(Person).where(Person.uid == record["uid"])).scalars().one()
            have = person_record(session, row, with_id=False)
        elif kind == "source":
            key = record.get("key")
            query = (select(Source).where(Source.uid == record["uid"]) if record.get("uid")
                     else select(Source).where(Source.key == key))
            row = session.exec(query).scalars().first() or session.exec(
                select(Source).where(Source.key == key)).scalars().one()
            have = source_record(session, row, with_id=False, with_text=True)
        else:
            row = session.exec(select(Claim).where(Claim.uid == record["uid"])).scalars().one()
            have = claim_record(session, row, with_id=False)
        keys = FIELDS[kind] - {"type", "uid", "ref", "attributions"}
        differs = [k for k in sorted(keys) if k in record and record[k] != have.get(k)
                   and not (record[k] in (None, []) and have.get(k) in (None, []))]
        if differs:
            raise Conflict(f"{kind} {name!r} is already in the ledger with a different "
                           f"{', '.join(differs)}; edit it with `ledger {kind} edit` instead")
        return have

    def add(self, record: dict[str, Any]) -> bool:
        """Validate and stage one record; on error nothing of it is staged."""
        kind = record.get("type")
        if kind not in TYPES:
            raise InvalidValue(f"unknown record type {kind!r}; expected one of {', '.join(TYPES)}")
        unknown = set(record) - FIELDS[kind] - DERIVED
        if unknown:
            raise InvalidValue(f"unknown field{'s' if len(unknown) > 1 else ''} for a {kind}: "
                               f"{', '.join(sorted(unknown))}")
        if self.undoable:
            point = self.checkpoint()
            try:
                created = getattr(self, f"add_{kind}")(record)
            except BaseException:
                self.rollback(point)
                raise
        else:
            created = getattr(self, f"add_{kind}")(record)
        self.result.created[kind] += int(created)
        self.result.skipped[kind] += int(not created)
        return created

    # --- the end ----------------------------------------------------------------------------

    def _link(self, sid: int, target_key: str, relation: str, key: str) -> None:
        relation = values.choice(relation, field="relation", allowed=values.LINK_RELATIONS)
        tid = self.source(target_key, field=relation)
        if tid == sid:
            raise Conflict(f"source {key!r} cannot rely on itself")
        if tid in self.links.get(sid, ()):
            return
        if self._reaches(tid, sid):
            self.result.warnings.append(
                f"the link {key} {relation} {self.sources[tid].key} makes a citation cycle; "
                "`ledger audit` reports it")
        source, target = self.sources[sid], self.sources[tid]
        # A link has no record of its own in a bundle, so its uid is derived from the two
        # sources: importing the same bundle gives the same event chain every time.
        uid = hashlib.md5(f"{source.uid}:{target.uid}".encode(),
                          usedforsecurity=False).hexdigest()
        self._stage(SourceLink, {"id": self._new_id("source_link"), "uid": uid,
                                 "source_id": sid, "target_id": tid, "relation": relation})
        self.links.setdefault(sid, []).append(tid)
        self._event(action="add", entity="link", uid=uid, state=shapes.link_state(
            uid=uid, source=source.uid, target=target.uid, relation=relation))

    def _reaches(self, start: int, goal: int) -> bool:
        seen, stack = {start}, [start]
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            for nxt in self.links.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    def finish(self) -> ImportResult:
        """Make the source links (records may name sources that come later), write
        everything, and bring the full-text index and PostgreSQL's id sequences up to date."""
        for sid, target_key, relation, key in self.pending_links:
            self._link(sid, target_key, relation, key)
        self.pending_links.clear()
        self.flush()
        if self.index_triggers is not None:
            from ledger.store.search import resume_index

            resume_index(self.session, self.index_triggers)
            self.index_triggers = None
        if self.dialect == "postgresql":
            for table in sorted(self.inserted - {"event"}):
                self.connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"))
        self.session.info["chain_head"] = self.head
        return self.result


# Fields each record type may carry; fields `--json` output carries but an import derives.
DERIVED = {"id", "slug", "text_sha256", "text_length", "quote_status"}
FIELDS = {
    "person": {"type", "uid", "name", "aliases", "kind", "description"},
    "source": {"type", "uid", "key", "title", "publisher", "author", "url", "published", "kind",
               "language", "text", "retrieved", *values.LINK_RELATIONS},
    "claim": {"type", "uid", "ref", "statement", "about", "targets", "mentioned", "claimant",
              "occurred", "status", "retraction_reason", "attributions"},
    "attribution": {"uid", "source", "quote", "voice", "sourcing"},
    "response": {"type", "uid", "claim", "by", "kind", "date", "source", "quote", "voice",
                 "summary"},
    "reply": {"type", "uid", "claim", "to", "sent", "deadline", "channel"},
}


def _uid(record: dict[str, Any]) -> str | None:
    uid = record.get("uid")
    if uid is None:
        return None
    if not isinstance(uid, str) or not _UID_RE.match(uid):
        raise InvalidValue(f"uid {uid!r} must be 32 lowercase hex characters")
    return uid


def _list(record: dict[str, Any], name: str) -> list[str]:
    value = record.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidValue(f"{name!r} must be a list of strings")
    return value


def _str(record: dict[str, Any], name: str) -> str | None:
    value = record.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidValue(f"{name!r} must be a string")
    return value
