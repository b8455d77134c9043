"""People, sources and claims by reference, from in-memory indexes of the ledger.

One `Resolver` serves a single write and a bulk import alike. For a single write the indexes
are filled lazily: each reference loads the few rows that could match it (one query), and the
same lookup then runs over the indexes. A bulk import preloads the people and sources once
(`preload`), after which no lookup touches the database. Records a unit of work adds are put
into the indexes as they are staged, so later records can refer to them.

Every change to an index can be logged for undo (`undo`), so a unit of work can forget the
records staged since a checkpoint without a savepoint.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlmodel import Session, col

from ledger import values
from ledger.errors import Ambiguous, InvalidValue, NotFound
from ledger.models import (
    Attribution,
    Claim,
    ClaimPerson,
    Person,
    PersonAlias,
    ReplyRequest,
    Response,
    Source,
    SourceLink,
)
from ledger.origins import OriginGraph
from ledger.shapes import next_free, quote_anchor, text_digest

if TYPE_CHECKING:  # ledger.quotes on first check: commands that only read never load it
    from ledger.quotes import TextIndex

UID_RE = re.compile(r"^[0-9a-f]{32}$")
# Stored texts kept for quote checks, in characters (a source's quotes are scattered through
# a bulk input, so a small cache re-reads the same texts over and over).
_TEXT_CACHE_CHARS = 32_000_000
_MISSING = object()
# The fields of a claim's part that its natural key leaves out, in the order kept.
PART_FIELDS = {
    "attribution": ("voice", "sourcing"),
    "response": ("source", "summary"),
    "reply": ("deadline", "channel"),
}
_UID_MODELS = {
    "claim": Claim,
    "attribution": Attribution,
    "response": Response,
    "reply": ReplyRequest,
}


@dataclass(slots=True)
class PersonEntry:
    id: int
    uid: str
    name: str
    slug: str
    merged_into: int | None


@dataclass(slots=True)
class SourceEntry:
    id: int
    uid: str
    key: str
    title: str
    publisher: str | None
    published: str | None
    text: str | None = None  # only while staged; written texts are read back on demand
    staged: bool = False  # staged in this unit of work: `text` is all there is


@dataclass(slots=True)
class ClaimEntry:
    uid: str
    status: str


_EXPLICIT_ID = re.compile(r"(?:#|id:)([0-9]+)", re.IGNORECASE)


def bare_id(raw: str) -> bool:
    """True when a reference is digits alone ("12", "1984"): an id, or a name made of digits."""
    return raw.isascii() and raw.isdigit()


def explicit_id(raw: str) -> int | None:
    """The id a reference spells out as `#12` or `id:12`, or None for any other reference."""
    match = _EXPLICIT_ID.fullmatch(raw)
    return int(match.group(1)) if match else None


def ambiguous(raw: str, candidates: list[tuple[int, str, str]]) -> Ambiguous:
    """The error for a reference that matches several people: (id, name, slug) each."""
    names = ", ".join(f"{name!r} (id {pid}, slug {slug})" for pid, name, slug in sorted(candidates))
    return Ambiguous(f"{raw!r} could be any of: {names}; use the id or slug")


def suggest(folded: str, names: dict[str, str]) -> str:
    """The "did you mean" end of a not-found message; `names` maps folded forms to names."""
    import difflib  # only when a name is not found: every write command imports this module

    close = difflib.get_close_matches(folded, list(names), n=3, cutoff=0.6)
    suggestions = list(dict.fromkeys(names[k] for k in close))
    if not suggestions:
        return "; `ledger person list` shows who is recorded, `ledger person add` adds one"
    return "; did you mean " + " or ".join(repr(s) for s in suggestions) + "?"


# More values than this to look up, and the table is checked for rows first.
_MANY = 100


def _chunks(items: list[Any], size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Resolver:
    """In-memory indexes of people, sources, links and claims; see the module docstring."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.undo: list[Callable[[], None]] | None = None  # a list: changes are logged
        self.people: dict[int, PersonEntry] = {}
        self.person_by_uid: dict[str, int] = {}
        self.person_by_name: dict[str, int] = {}  # live people, by exact (NFC) name
        self.person_by_slug: dict[str, int] = {}
        self.name_folds: dict[str, set[int]] = {}
        self.alias_folds: dict[str, set[int]] = {}
        self.aliases: dict[int, list[str]] = {}
        self.lookalikes: dict[str, tuple[int, str, str]] | None = None
        self.sources: dict[int, SourceEntry] = {}
        self.source_by_key: dict[str, int] = {}
        self.source_by_uid: dict[str, int] = {}
        self.urls: dict[str, int] = {}
        self.graph: OriginGraph | None = None
        self.claims: dict[int, ClaimEntry] = {}
        self.uid_ids: dict[str, dict[str, int | None]] = {k: {} for k in _UID_MODELS}
        self.by_statement: dict[str, list[tuple[int, frozenset[int]]]] = {}
        self.contents: dict[int, dict[tuple, tuple]] = {}
        self.texts: OrderedDict[int, tuple[TextIndex | None, int]] = OrderedDict()
        self.text_chars = 0
        self.digests: dict[int, str | None] = {}  # text_sha256 of each text prepared
        self.lazy = True
        self._asked: set[tuple[str, str]] = set()
        # Tables of claims and their parts that held no row when a bulk import began: every
        # row they hold since is indexed here, so a value not in the index is in no row.
        self.unwritten: set[type] = set()
        self.people_found: dict[str, int] = {}  # bulk mode: references resolved, by text

    # --- filling the indexes ----------------------------------------------------------------

    def _rows(self, query) -> list:
        return list(self.session.connection().execute(query))

    def _index_people(self, rows: Iterable) -> None:
        for pid, uid, name, key, slug, merged in rows:
            if pid in self.people:
                continue
            self.people[pid] = PersonEntry(pid, uid, name, slug, merged)
            self.person_by_uid[uid] = pid
            self.person_by_slug[slug] = pid
            if merged is None:
                self.person_by_name[name] = pid
                self.name_folds.setdefault(key, set()).add(pid)

    def _index_aliases(self, rows: Iterable) -> None:
        for aid, pid, name, key in rows:
            if ("alias", str(aid)) in self._asked:
                continue
            self._asked.add(("alias", str(aid)))
            self.aliases.setdefault(pid, []).append(name)
            self.alias_folds.setdefault(key, set()).add(pid)

    _PERSON_COLUMNS = (
        Person.id,
        Person.uid,
        Person.name,
        Person.name_key,
        Person.slug,
        Person.merged_into_id,
    )
    _ALIAS_COLUMNS = (PersonAlias.id, PersonAlias.person_id, PersonAlias.name, PersonAlias.name_key)

    def _load_people(self, condition) -> None:
        rows = self._rows(select(*self._PERSON_COLUMNS).where(condition))
        self._index_people(rows)
        # A merged duplicate resolves to the person it joined: load that one too.
        missing = {r[5] for r in rows if r[5] is not None and r[5] not in self.people}
        while missing:
            rows = self._rows(
                select(*self._PERSON_COLUMNS).where(col(Person.id).in_(sorted(missing)))
            )
            self._index_people(rows)
            missing = {r[5] for r in rows if r[5] is not None and r[5] not in self.people}

    def _want(self, kind: str, value: str) -> bool:
        """Whether a lazy resolver still has to load what could match (kind, value)."""
        if not self.lazy or (kind, value) in self._asked or ("all", kind) in self._asked:
            return False
        self._asked.add((kind, value))
        return True

    def _want_person(self, raw: str) -> None:
        if not self._want("person", raw):
            return
        folded = values.fold(raw)
        alias_rows = self._rows(select(*self._ALIAS_COLUMNS).where(PersonAlias.name_key == folded))
        conditions = [
            Person.uid == raw,
            Person.name == values.nfc(raw),
            Person.slug == raw,
            Person.name_key == folded,
        ]
        if bare_id(raw):
            conditions.append(Person.id == int(raw))
        if alias_rows:
            conditions.append(col(Person.id).in_(sorted({r[1] for r in alias_rows})))
        self._load_people(or_(*conditions))
        self._index_aliases(alias_rows)

    def _want_all_people(self) -> None:
        if not self._want("all", "person"):
            return
        self._load_people(col(Person.id).is_not(None))
        self._index_aliases(self._rows(select(*self._ALIAS_COLUMNS).order_by(col(PersonAlias.id))))

    _SOURCE_COLUMNS = (
        Source.id,
        Source.uid,
        Source.key,
        Source.title,
        Source.publisher,
        Source.published,
        Source.url_normalized,
    )

    def _load_sources(self, condition) -> None:
        for sid, uid, key, title, publisher, published, url in self._rows(
            select(*self._SOURCE_COLUMNS).where(condition)
        ):
            if sid in self.sources:
                continue
            self.sources[sid] = SourceEntry(sid, uid, key, title, publisher, published)
            self.source_by_key[key] = sid
            self.source_by_uid[uid] = sid
            if url:
                self.urls[url] = sid

    def _want_all_sources(self) -> None:
        if self._want("all", "source"):
            self._load_sources(col(Source.id).is_not(None))

    def preload(self) -> None:
        """Load every person, alias, source and link, for a bulk import, and note which
        tables of claims and their parts are empty (nothing in them to look up)."""
        self._want_all_people()
        self._want_all_sources()
        self._link_graph()
        self.lazy = False
        self.unwritten = {m for m in _UID_MODELS.values() if not self._rows(select(m.id).limit(1))}

    def holds_claims(self) -> bool:
        """Whether the ledger held claims or parts of claims that records could match when
        the import began (without, `expect` has nothing to index)."""
        return self.lazy or self.unwritten != set(_UID_MODELS.values())

    # --- undo ---------------------------------------------------------------------------

    def put(self, mapping: dict, key: Any, value: Any) -> None:
        old = mapping.get(key, _MISSING)
        mapping[key] = value
        if self.undo is not None:
            self.undo.append(
                lambda: mapping.pop(key) if old is _MISSING else mapping.__setitem__(key, old)
            )

    def add_to(self, mapping: dict, key: Any, value: Any) -> None:
        bucket = mapping.setdefault(key, set())
        if value not in bucket:
            bucket.add(value)
            if self.undo is not None:
                self.undo.append(lambda: bucket.discard(value))

    def append(self, items: list, value: Any) -> None:
        items.append(value)
        if self.undo is not None:
            self.undo.append(items.pop)

    # --- people -------------------------------------------------------------------------

    def follow(self, pid: int) -> int:
        """The person a merged duplicate was merged into (itself when not merged)."""
        seen = set()
        while self.people[pid].merged_into is not None and pid not in seen:
            seen.add(pid)
            pid = self.people[pid].merged_into
        return pid

    def person(self, ref: str | None, *, field: str = "person") -> int:
        """Resolve a person by id, uid, exact name, slug, or name or alias folded.

        Folding makes it case-, accent- and Unicode-form-insensitive. An unknown reference
        suggests the nearest names; an ambiguous one lists the candidates. A merged duplicate
        resolves to the person it was merged into.
        """
        pid = self.find_person(ref, field=field)
        if pid is None:
            self._want_all_people()
            folded = values.fold(ref or "")
            names: dict[str, str] = {}
            for key, pids in [*self.name_folds.items(), *self.alias_folds.items()]:
                if pids:
                    names.setdefault(key, self.people[self.follow(min(pids))].name)
            raise NotFound(f"no person {ref.strip()!r}{suggest(folded, names)}")
        return pid

    def find_person(self, ref: str | None, *, field: str = "person") -> int | None:
        """The person a reference names, or None; ambiguous and malformed ones raise.

        In bulk mode a reference found is remembered until the people change (a new person,
        a rollback): a bundle names the same people over and over.
        """
        if self.lazy or not isinstance(ref, str):
            return self._find_person(ref, field=field)
        pid = self.people_found.get(ref)
        if pid is None:
            pid = self._find_person(ref, field=field)
            if pid is not None:
                self.people_found[ref] = pid
        return pid

    def _find_person(self, ref: str | None, *, field: str) -> int | None:
        raw = ref.strip() if isinstance(ref, str) else ref
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            raise InvalidValue(f"{field!r} must be a string")
        if not raw:
            raise InvalidValue(f"--{field} must not be empty")
        explicit = explicit_id(raw)
        if explicit is not None:  # "#12" or "id:12": the id, whatever anyone is named
            self._want_person(str(explicit))
            if explicit not in self.people:
                raise NotFound(f"no person with id {explicit}")
            return self.follow(explicit)
        self._want_person(raw)
        named = self._person_named(raw)
        if not bare_id(raw):
            return named
        by_id = self.follow(int(raw)) if int(raw) in self.people else None
        if by_id is None and named is None:
            raise NotFound(f"no person with id {raw} and no person named {raw!r}")
        if by_id is not None and named is not None and by_id != named and (
            self._written_as(named, raw)
        ):
            # "1984" is a name as well as an id: never guess which one was meant.
            raise Ambiguous(
                f"{raw!r} is both the id of {self.people[by_id].name!r} and the name of "
                f"{self.people[named].name!r} (id {named}); write #{by_id} or #{named}"
            )
        return by_id if by_id is not None else named

    def _written_as(self, pid: int, raw: str) -> bool:
        """Whether the person's name or one of their aliases is `raw` as written: digits that
        only a slug or a folded name reaches ("2:" has the slug "2") stay an id."""
        name = values.nfc(raw)
        return self.people[pid].name == name or name in self.aliases.get(pid, ())

    def _person_named(self, raw: str) -> int | None:
        """The person a reference other than an id names (uid, slug, name, alias), or None."""
        if UID_RE.match(raw) and raw in self.person_by_uid:
            return self.follow(self.person_by_uid[raw])
        # A slug, then an alias as written, is never shadowed by a newer person's name.
        if raw in self.person_by_slug:
            return self.follow(self.person_by_slug[raw])
        name = values.nfc(raw)
        if name in self.person_by_name:
            exact = self.person_by_name[name]
            older = [
                owner
                for owner in map(self.follow, self.alias_folds.get(values.fold(name), ()))
                if owner < exact and name in self.aliases.get(owner, ())
            ]
            return min(older) if older else exact
        folded = values.fold(raw)
        matches = set(self.name_folds.get(folded, ()))
        matches |= {self.follow(pid) for pid in self.alias_folds.get(folded, ())}
        if len(matches) > 1:
            raise ambiguous(raw, [(p, self.people[p].name, self.people[p].slug) for p in matches])
        return matches.pop() if matches else None

    def lookalike_of(self, name: str) -> tuple[int, str, str] | None:
        """A recorded person's (id, name, "name" | "slug" | "alias") that looks like `name`
        (`values.lookalike_key`), or None."""
        key = values.lookalike_key(name)
        if not key:
            return None
        if self.lookalikes is None:  # built at the first new person that needs it
            self._want_all_people()
            self.lookalikes = {}
            for pid, person in self.people.items():
                if person.merged_into is None:
                    self._index_lookalikes(pid, [(person.name, "name"), (person.slug, "slug")])
            for pid, aliases in self.aliases.items():
                self._index_lookalikes(pid, [(alias, "alias") for alias in aliases])
        return self.lookalikes.get(key)

    def _index_lookalikes(self, pid: int, names: list[tuple[str, str]]) -> None:
        if self.lookalikes is None:
            return
        for name, what in names:
            key = values.lookalike_key(name)
            if key and key not in self.lookalikes:
                self.put(self.lookalikes, key, (pid, name, what))

    def person_named(self, name: str) -> int | None:
        """The live person with exactly this (cleaned) name, if any."""
        if self._want("name", name):
            self._load_people(Person.name == name)
        return self.person_by_name.get(name)

    def free_slug(self, base: str) -> str:
        """`base`, or the first `base-N` no person has."""
        if self._want("slug", base):
            self._load_people(or_(Person.slug == base, col(Person.slug).startswith(f"{base}-")))
        return next_free(base, self.person_by_slug)

    def index_person(
        self, *, pid: int, uid: str, name: str, name_key: str, slug: str, aliases: list[str]
    ) -> None:
        """Make a person just staged findable by the records that follow."""
        self.people_found.clear()
        self.put(self.people, pid, PersonEntry(pid, uid, name, slug, None))
        self.put(self.person_by_uid, uid, pid)
        self.put(self.person_by_name, name, pid)
        self.put(self.person_by_slug, slug, pid)
        self.add_to(self.name_folds, name_key, pid)
        self.put(self.aliases, pid, list(aliases))
        for alias in aliases:
            self.add_to(self.alias_folds, values.fold(alias), pid)
        self._index_lookalikes(
            pid, [(name, "name"), (slug, "slug"), *[(alias, "alias") for alias in aliases]]
        )

    # --- sources ------------------------------------------------------------------------

    def source(self, ref: str | None, *, field: str = "source") -> int:
        """Resolve a source by key (as typed, then lowercased) or id."""
        raw = ref.strip() if isinstance(ref, str) else ref
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            raise InvalidValue(f"{field!r} must be a string")
        if not raw:
            raise InvalidValue(f"--{field} must not be empty")
        explicit = explicit_id(raw)
        if explicit is not None:  # "#12" or "id:12": the id, whatever a key says
            if explicit not in self.sources:
                self._load_sources(Source.id == explicit)
            if explicit not in self.sources:
                raise NotFound(f"no source with id {explicit}")
            return explicit
        if self._want("source", raw):
            conditions = [Source.key == raw, Source.key == raw.lower()]
            if bare_id(raw):
                conditions.append(Source.id == int(raw))
            self._load_sources(or_(*conditions))
        for candidate in (raw, raw.lower()):
            if candidate in self.source_by_key:
                return self.source_by_key[candidate]
        if bare_id(raw) and int(raw) in self.sources:
            return int(raw)
        self._want_all_sources()
        import difflib

        close = difflib.get_close_matches(raw.lower(), list(self.source_by_key), n=3, cutoff=0.6)
        hint = (
            ("; did you mean " + " or ".join(repr(k) for k in close) + "?")
            if close
            else ("; `ledger source list` shows the keys")
        )
        raise NotFound(f"no source {raw!r}{hint}")

    def sources_by_id(self, ids: list[int]) -> None:
        """Make sure these sources are in the index."""
        missing = [i for i in ids if i not in self.sources]
        if missing:
            self._load_sources(col(Source.id).in_(missing))

    def source_keyed(self, key: str) -> int | None:
        """The source with exactly this key, if any."""
        if self._want("key", key):
            self._load_sources(Source.key == key)
        return self.source_by_key.get(key)

    def source_with_uid(self, uid: str) -> int | None:
        """The source with this uid, if any."""
        if self._want("source-uid", uid):
            self._load_sources(Source.uid == uid)
        return self.source_by_uid.get(uid)

    def keys_like(self, base: str) -> list[int]:
        """The sources whose key is `base` or `base-N`, oldest first."""
        if self._want("keys", base):
            self._load_sources(or_(Source.key == base, col(Source.key).startswith(f"{base}-")))
        pattern = re.compile(rf"^{re.escape(base)}(-[0-9]+)?$")
        return sorted(sid for key, sid in self.source_by_key.items() if pattern.match(key))

    def free_key(self, base: str) -> str:
        """`base`, or the first `base-N` no source has."""
        if self._want("keys-prefix", base):
            self._load_sources(col(Source.key).startswith(base))
        return next_free(base, self.source_by_key)

    def source_with_url(self, normalized: str | None) -> int | None:
        """The source with this normalized URL, if any."""
        if normalized is None:
            return None
        if self._want("url", normalized):
            self._load_sources(Source.url_normalized == normalized)
        return self.urls.get(normalized)

    def index_source(self, entry: SourceEntry, url_normalized: str | None) -> None:
        """Make a source just staged findable by the records that follow."""
        self.put(self.sources, entry.id, entry)
        self.put(self.source_by_key, entry.key, entry.id)
        self.put(self.source_by_uid, entry.uid, entry.id)
        if url_normalized:
            self.put(self.urls, url_normalized, entry.id)

    def text_index(self, sid: int) -> TextIndex | None:
        """The source's stored text prepared for quote checks (None without a text)."""
        cached = self.texts.get(sid)
        if cached is not None:
            self.texts.move_to_end(sid)
            return cached[0]
        entry = self.sources.get(sid)
        text_value = entry.text if entry is not None else None
        if text_value is None and not (entry is not None and entry.staged):
            found = (
                self.session.connection()
                .execute(select(Source.text, Source.text_sha256).where(Source.id == sid))
                .first()
            )
            text_value, digest = found if found is not None else (None, None)
        else:
            digest = text_digest(text_value)
        from ledger.quotes import TextIndex

        self.digests[sid] = digest
        size = len(text_value or "")
        self.texts[sid] = (TextIndex(text_value) if text_value else None, size)
        self.text_chars += size
        while self.text_chars > _TEXT_CACHE_CHARS and len(self.texts) > 1:
            self.text_chars -= self.texts.popitem(last=False)[1][1]
        return self.texts[sid][0]

    def quote_anchor(self, sid: int | None, quote: str | None) -> dict[str, Any]:
        """The anchor columns for a new quote on this source's stored text
        (`shapes.quote_anchor`; `anchor_sha256` names the text it was found in)."""
        if quote is None or sid is None:
            return quote_anchor(text=None, digest=None, quote=None)
        from ledger.quotes import UNVERIFIABLE

        index = self.text_index(sid)
        check = index.check(quote=quote, hint=False) if index is not None else UNVERIFIABLE
        return quote_anchor(text=None, digest=self.digests.get(sid), quote=quote, check=check)

    def forget_texts(self) -> None:
        """Drop the prepared texts (a forgotten source's id will be handed out again)."""
        self.texts.clear()
        self.digests.clear()
        self.text_chars = 0

    def written(self) -> None:
        """Staged rows are in the database now: texts are read back when needed."""
        for entry in self.sources.values():
            entry.text, entry.staged = None, False

    # --- links --------------------------------------------------------------------------

    def _link_graph(self) -> OriginGraph:
        if self.graph is None:
            self.graph = OriginGraph(self._rows(select(SourceLink.source_id, SourceLink.target_id)))
        return self.graph

    def linked(self, sid: int, tid: int) -> bool:
        """Whether `sid` already relies on `tid`."""
        return tid in self._link_graph().targets.get(sid, ())

    def link_path(self, start: int, goal: int) -> list[int] | None:
        """A path of source ids from start to goal along the links, or None."""
        return self._link_graph().path(start, goal)

    def index_link(self, sid: int, tid: int) -> None:
        graph = self._link_graph()
        self.append(graph.targets.setdefault(sid, []), tid)
        graph.forget()

    # --- claims -------------------------------------------------------------------------

    def claim(self, cid: int) -> ClaimEntry:
        """A claim's uid and status."""
        if cid not in self.claims:
            row = (
                self.session.connection()
                .execute(select(Claim.uid, Claim.status).where(Claim.id == cid))
                .first()
            )
            if row is None:
                raise NotFound(f"no claim {cid}; `ledger claim list` shows the ids")
            self.claims[cid] = ClaimEntry(row[0], row[1])
        return self.claims[cid]

    def index_claim(
        self, *, cid: int, uid: str, status: str, statement: str, subjects: frozenset[int]
    ) -> None:
        self.put(self.claims, cid, ClaimEntry(uid, status))
        self.put(self.uid_ids["claim"], uid, cid)
        self.put(self.contents, cid, {})
        if statement in self.by_statement:
            self.append(self.by_statement[statement], (cid, subjects))
        elif Claim in self.unwritten:  # every claim is indexed: `claims_stating` reads this
            self.put(self.by_statement, statement, [(cid, subjects)])

    def expect(self, records: list[dict[str, Any]]) -> None:
        """Index, in a few queries, the claims (and their parts) these records name by uid
        or by statement, so matching them needs no query per record."""

        def uids(kind: str) -> set[str]:
            return {
                r["uid"] for r in records if r.get("type") == kind and isinstance(r.get("uid"), str)
            }

        self._known_uids("claim", uids("claim"))
        self._known_uids(
            "attribution",
            {
                a["uid"]
                for r in records
                if r.get("type") == "claim"
                for a in (r.get("attributions") or [])
                if isinstance(a, dict) and isinstance(a.get("uid"), str)
            },
        )
        self._known_uids("response", uids("response"))
        self._known_uids("reply", uids("reply"))
        self._load_statements(
            {
                values.collapse_spaces(values.nfc(r["statement"]))
                for r in records
                if r.get("type") == "claim" and isinstance(r.get("statement"), str)
            }
        )

    def _none_in(self, model, wanted: set) -> bool:
        """Whether a lookup can be skipped because `model`'s table is empty: it was when the
        bulk import began, or it is now and there are many values (an import into a new
        ledger looks up every uid and statement of its bundle)."""
        if model in self.unwritten:
            return True
        return len(wanted) > _MANY and self._rows(select(model.id).limit(1)) == []

    def _known_uids(self, kind: str, uids: set[str]) -> None:
        model, found = _UID_MODELS[kind], self.uid_ids[kind]
        missing = {uid for uid in uids if uid not in found}  # never a copy of the index
        if not missing:
            return
        if self._none_in(model, missing):
            found.update(dict.fromkeys(missing))
            return
        for chunk in _chunks(sorted(missing)):
            rows = self._rows(select(model.uid, model.id).where(col(model.uid).in_(chunk)))
            found.update(dict(rows))
            if kind == "claim":
                for _uid, cid in rows:
                    self._load_claim_entries([cid])
        found.update((uid, None) for uid in uids if uid not in found)

    def _load_claim_entries(self, cids: list[int]) -> None:
        for cid, uid, status in self._rows(
            select(Claim.id, Claim.uid, Claim.status).where(col(Claim.id).in_(cids))
        ):
            self.claims.setdefault(cid, ClaimEntry(uid, status))

    def _load_statements(self, statements: set[str]) -> None:
        """Index the existing claims with these statements, with their subjects."""
        statements = {s for s in statements if s not in self.by_statement}
        for statement in statements:
            self.by_statement[statement] = []
        if self._none_in(Claim, statements):
            return
        for chunk in _chunks(sorted(statements)):
            rows = self._rows(
                select(Claim.id, Claim.uid, Claim.statement, Claim.status).where(
                    col(Claim.statement).in_(chunk)
                )
            )
            subjects: dict[int, set[int]] = {}
            for cid, pid in self._rows(
                select(ClaimPerson.claim_id, ClaimPerson.person_id).where(
                    col(ClaimPerson.claim_id).in_([r[0] for r in rows]),
                    ClaimPerson.role == "subject",
                )
            ):
                subjects.setdefault(cid, set()).add(pid)
            for cid, uid, statement, status in rows:
                self.claims.setdefault(cid, ClaimEntry(uid, status))
                self.by_statement[statement].append((cid, frozenset(subjects.get(cid, ()))))

    def uid_id(self, kind: str, uid: str | None) -> int | None:
        """The id of the claim, attribution, response or request with this uid, if any."""
        if uid is None:
            return None
        known = self.uid_ids[kind]
        found: Any = known.get(uid, _MISSING)
        if found is _MISSING:
            if _UID_MODELS[kind] in self.unwritten:
                return None
            self._known_uids(kind, {uid})
            found = known[uid]
        return found

    def claims_stating(self, statement: str) -> list[tuple[int, frozenset[int]]]:
        """(id, subject ids) of every claim with exactly this statement."""
        if statement not in self.by_statement:
            self._load_statements({statement})
        return self.by_statement[statement]

    def contents_of(self, cid: int) -> dict[tuple, tuple]:
        """What a claim holds (attributions, responses, reply requests), by natural key,
        each with its other fields (`PART_FIELDS`)."""
        if cid not in self.contents:
            contents: dict[tuple, tuple] = {}
            for sid, quote, voice, sourcing in self._rows(
                select(
                    Attribution.source_id,
                    Attribution.quote,
                    Attribution.voice,
                    Attribution.sourcing,
                ).where(Attribution.claim_id == cid)
            ):
                contents[attribution_key(sid, quote, voice)] = (voice, sourcing)
            for by, kind, day, quote, sid, summary in self._rows(
                select(
                    Response.respondent_id,
                    Response.kind,
                    Response.date,
                    Response.quote,
                    Response.source_id,
                    Response.summary,
                ).where(Response.claim_id == cid)
            ):
                contents[("response", by, kind, day, quote)] = (sid, summary)
            for to, sent, deadline, channel in self._rows(
                select(
                    ReplyRequest.addressee_id,
                    ReplyRequest.sent,
                    ReplyRequest.deadline,
                    ReplyRequest.channel,
                ).where(ReplyRequest.claim_id == cid)
            ):
                contents[("reply", to, sent)] = (deadline, channel)
            self.put(self.contents, cid, contents)
        return self.contents[cid]

    def index_part(
        self, kind: str, *, cid: int, uid: str, row_id: int, natural: tuple, fields: tuple
    ) -> None:
        """Make an attribution, response or reply request just staged known by uid and by
        its natural key."""
        self.put(self.uid_ids[kind], uid, row_id)
        if cid in self.contents:
            self.put(self.contents[cid], natural, fields)


def attribution_key(source_id: int, quote: str | None, voice: str | None) -> tuple:
    """An attribution's natural key: its source and quote (with no quote, its voice)."""
    return ("attribution", source_id, quote, None if quote is not None else voice)
