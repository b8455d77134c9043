"""Bulk mode: bundle records into the ledger through the same rules as single writes.

A bundle record maps to the keyword arguments of one of the rules (`new_person`,
`new_source`, `new_link`, `new_claim`, `new_attribution`, `new_response`, `new_reply`), run
in one unit of work in bulk mode (`ledger.store.unit`). What bulk mode adds is matching: a
record already in the ledger (same uid; without a uid, the same natural key: a person's name,
a source's key, a claim's statement and subjects, an attribution's source and quote, a
response's author, kind, date and quote, a request's addressee and day) is skipped, so
importing a file twice changes nothing; one whose content differs is a conflict naming the
fields. Source links are made at the end, since records may name sources that come later.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from ledger import shapes, values
from ledger.errors import Conflict, InvalidValue, NotFound
from ledger.models import Claim, ClaimPerson, Person, Source
from ledger.store.claims import attribution_from, claim_from, claim_record
from ledger.store.people import new_person, person_record
from ledger.store.replies import reply_from, reply_key, response_from, response_key
from ledger.store.resolve import PART_FIELDS, UID_RE, attribution_key
from ledger.store.sources import new_link, new_source, source_record
from ledger.store.unit import Unit

TYPES = ("person", "source", "claim", "response", "reply")
# Fields each record type may carry; fields `--json` output carries but an import derives.
DERIVED = {"id", "slug", "text_sha256", "text_length", "quote_status"}
FIELDS = {
    "person": {"type", "uid", "name", "aliases", "kind", "description", "wikidata", "distinct"},
    "source": {
        "type",
        "uid",
        "key",
        "title",
        "publisher",
        "author",
        "url",
        "published",
        "kind",
        "language",
        "text",
        "retrieved",
        "file_sha256",
        "media_type",
        *values.LINK_RELATIONS,
    },
    "claim": {
        "type",
        "uid",
        "ref",
        "statement",
        "about",
        "targets",
        "mentioned",
        "claimant",
        "occurred",
        "status",
        "retraction_reason",
        "attributions",
    },
    "attribution": {"uid", "source", "quote", "voice", "sourcing"},
    "response": {"type", "uid", "claim", "by", "kind", "date", "source", "quote", "voice",
                 "summary"},
    "reply": {"type", "uid", "claim", "to", "sent", "deadline", "channel"},
}


@dataclass
class ImportResult:
    """What an import did: records created and skipped by type, and warnings."""

    created: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TYPES, 0))
    skipped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TYPES, 0))
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        made = ", ".join(f"{n} {t}{'s' if n != 1 else ''}" for t, n in self.created.items() if n)
        same = sum(self.skipped.values())
        return f"imported {made or 'nothing new'}" + (
            f"; {same} record{'s' if same != 1 else ''} already in the ledger" if same else ""
        )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a bulk import runs, back on after.

    Its collections walk every object still alive, and an import keeps more and more (the
    resolver's indexes, the staged rows): at 100k claims they were a tenth of the import, a
    share that grows with the ledger. An import makes no cycles worth reclaiming early.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _differs(given: Any, have: Any) -> bool:
    return given != have and not (given in (None, []) and have in (None, []))


def _conflict(kind: str, name: str, differs: list[str]) -> Conflict:
    command = {"person": "person edit", "source": "source edit"}.get(kind, "claim edit")
    return Conflict(
        f"{kind} {name!r} is already in the ledger with a different "
        f"{', '.join(differs)}; edit it with `ledger {command}` instead"
    )


class Importer:
    """Bundle records in, through one unit of work in bulk mode; see the module docstring."""

    def __init__(
        self,
        session: Session,
        *,
        strict: bool = False,
        expected: Iterable[dict[str, Any]] | Callable[[], Iterable[dict[str, Any]]] = (),
        undoable: bool = True,
    ) -> None:
        """`expected`: the records to come (their claims are indexed in a few queries), or
        a function giving them, called only when the ledger holds claims they could match.
        `undoable=False` for an all-or-nothing import: no undo log is kept (the caller's
        transaction rolls back on any error), which saves work on every record."""
        self.session = session
        self.strict = strict
        self.undoable = undoable
        self.unit = Unit(session, bulk=True, undoable=undoable)
        self.resolver = self.unit.resolver
        if self.resolver.holds_claims():
            self.resolver.expect(list(expected() if callable(expected) else expected))
        self.counts = ImportResult()
        self.refs: dict[str, int] = {}
        self.pending_links: list[tuple[int, str, str, str]] = []

    @property
    def result(self) -> ImportResult:
        self.counts.warnings = self.unit.warnings
        return self.counts

    # --- resolution, as the store resolves ------------------------------------------------

    def person(self, ref: str | None, *, field: str) -> int:
        """Resolve a person reference (`Resolver.person`)."""
        return self.resolver.person(ref, field=field)

    def find_person(self, ref: str | None, *, field: str) -> int | None:
        """The person a reference names, or None (`Resolver.find_person`)."""
        return self.resolver.find_person(ref, field=field)

    def source_key(self, ref: str) -> str:
        """The key of the source a reference names (`Resolver.source`)."""
        return self.resolver.sources[self.resolver.source(ref)].key

    # --- checkpoints ----------------------------------------------------------------------

    def checkpoint(self):
        """A point to roll the staging back to (rows staged since are forgotten)."""
        return (self.unit.checkpoint(), dict(self.counts.created), dict(self.counts.skipped))

    def rollback(self, point) -> None:
        """Forget everything staged since `point`."""
        unit_point, created, skipped = point
        self.unit.rollback(unit_point)  # the refs and pending links too: logged for undo
        self.counts.created, self.counts.skipped = dict(created), dict(skipped)

    def flush_if_large(self) -> None:
        self.unit.flush_if_large()

    # --- records --------------------------------------------------------------------------

    def add(self, record: dict[str, Any]) -> bool:
        """Validate and stage one record; on error nothing of it is staged."""
        kind = record.get("type")
        if kind not in TYPES:
            raise InvalidValue(f"unknown record type {kind!r}; expected one of {', '.join(TYPES)}")
        unknown = set(record) - FIELDS[kind] - DERIVED
        if unknown:
            raise InvalidValue(
                f"unknown field{'s' if len(unknown) > 1 else ''} for a {kind}: "
                f"{', '.join(sorted(unknown))}"
            )
        if self.undoable:
            point = self.checkpoint()
            try:
                created = getattr(self, f"add_{kind}")(record)
            except BaseException:
                self.rollback(point)
                raise
        else:
            created = getattr(self, f"add_{kind}")(record)
        self.counts.created[kind] += int(created)
        self.counts.skipped[kind] += int(not created)
        return created

    def _compare(self, kind: str, record: dict[str, Any], row_id: int, name: str) -> dict:
        """The ledger's copy of a record the input names; refuse it if they differ."""
        self.unit.flush()
        session = self.session
        if kind == "person":
            have = person_record(session, session.get(Person, row_id), with_id=False)
        elif kind == "source":
            have = source_record(
                session, session.get(Source, row_id), with_id=False, with_text=True
            )
        else:
            have = claim_record(session, session.get(Claim, row_id), with_id=False)
        keys = FIELDS[kind] - {
            "type",
            "uid",
            "ref",
            "attributions",
            "distinct",
            *values.LINK_RELATIONS,
        }
        differs = [k for k in sorted(keys) if k in record and _differs(record[k], have.get(k))]
        if differs:
            raise _conflict(kind, name, differs)
        return have

    def add_person(self, record: dict[str, Any]) -> bool:
        uid = _uid(record)
        name = values.line(_str(record, "name"), field="name")
        resolver = self.resolver
        pid = resolver.person_by_uid.get(uid) if uid else resolver.person_named(name)
        if pid is not None:
            if uid:
                self._compare("person", record, pid, name)
            else:
                self._compare_unnamed_person(record, pid, name)
            return False
        new_person(
            self.unit,
            name=name,
            kind=_str(record, "kind"),
            description=_str(record, "description"),
            aliases=_list(record, "aliases"),
            wikidata=_str(record, "wikidata"),
            uid=uid,
            # A record with a uid was accepted by the ledger it came from; "distinct": true
            # is the bundle's --distinct.
            distinct=uid is not None or record.get("distinct") is True,
        )
        return True

    def _compare_unnamed_person(self, record: dict[str, Any], pid: int, name: str) -> None:
        """A person without a uid, matched on its name: what it gives must agree."""
        given = {k: record[k] for k in ("kind", "description", "aliases", "wikidata")
                 if k in record}
        if not given:
            return
        cleaned = shapes.clean_person(
            name=name,
            kind=_str(record, "kind"),
            description=_str(record, "description"),
            aliases=_list(record, "aliases"),
            wikidata=_str(record, "wikidata"),
        )
        self._compare("person", {k: cleaned[k] for k in given}, pid, name)

    def add_source(self, record: dict[str, Any]) -> bool:
        uid = _uid(record)
        raw_key = _str(record, "key")
        key = values.key(raw_key) if raw_key is not None else None
        relations = {r: _list(record, r) for r in values.LINK_RELATIONS}
        resolver = self.resolver
        sid = resolver.source_with_uid(uid) if uid else None
        if sid is None and key is not None:
            sid = resolver.source_keyed(key)
        if sid is None and key is None and not uid:
            sid = self._derived_match(record)
        if sid is not None:
            fields = {k: v for k, v in record.items() if k not in values.LINK_RELATIONS}
            if key is None:
                fields.pop("key", None)
            have = self._compare("source", fields, sid, key or resolver.sources[sid].key)
            have_links = {(r, k) for r in values.LINK_RELATIONS for k in have[r]}
            for relation, targets in relations.items():
                for target in targets:
                    if (relation, target) not in have_links:
                        resolver.append(self.pending_links, (sid, target, relation, have["key"]))
            return False
        sid = new_source(
            self.unit,
            title=_str(record, "title"),
            key=key,
            publisher=_str(record, "publisher"),
            author=_str(record, "author"),
            url=_str(record, "url"),
            published=_str(record, "published"),
            kind=_str(record, "kind"),
            language=_str(record, "language"),
            text=_str(record, "text"),
            retrieved=_str(record, "retrieved"),
            uid=uid,
            file_sha256=_str(record, "file_sha256"),
            media_type=_str(record, "media_type"),
        )
        for relation, targets in relations.items():
            for target in targets:
                resolver.append(
                    self.pending_links, (sid, target, relation, resolver.sources[sid].key)
                )
        return True

    def _derived_match(self, record: dict[str, Any]) -> int | None:
        """For a source without key or uid: the source whose key was derived from the same
        title, publisher and date, if any (so importing it twice changes nothing)."""
        cleaned = shapes.clean_source(
            title=_str(record, "title"),
            key=None,
            publisher=_str(record, "publisher"),
            author=None,
            url=None,
            published=_str(record, "published"),
            kind=None,
            language=None,
            text=None,
        )
        base = shapes.derived_key(
            publisher=cleaned["publisher"], title=cleaned["title"], published=cleaned["published"]
        )
        for sid in self.resolver.keys_like(base):
            entry = self.resolver.sources[sid]
            if (entry.title, entry.publisher, entry.published) == (
                cleaned["title"],
                cleaned["publisher"],
                cleaned["published"],
            ):
                return sid
        return None

    def add_claim(self, record: dict[str, Any]) -> bool:
        ref = _str(record, "ref")
        if ref is not None and ref in self.refs:
            raise Conflict(f"claim ref {ref!r} is used twice in this file")
        uid = _uid(record)
        resolver = self.resolver
        cleaned = shapes.clean_claim(
            statement=_str(record, "statement"),
            occurred=_str(record, "occurred"),
            status=_str(record, "status"),
            allow_retracted=True,
            retraction_reason=_str(record, "retraction_reason"),
        )
        about = _list(record, "about")
        cid = resolver.uid_id("claim", uid)
        if cid is None and not uid:
            subjects = frozenset(self.person(r, field="about") for r in about)
            cid = next(
                (c for c, s in resolver.claims_stating(cleaned["statement"]) if s == subjects), None
            )
            if cid is not None:
                self._compare_unnamed_claim(record, cleaned, cid)
        created = cid is None
        if created:
            cid = claim_from(
                self.unit,
                cleaned=cleaned,
                about=about,
                targets=_list(record, "targets"),
                mentioned=_list(record, "mentioned"),
                claimant=_str(record, "claimant"),
                uid=uid,
            )
        elif uid:
            self._compare("claim", record, cid, cleaned["statement"][:60])
        attributions = record.get("attributions") or []
        if not isinstance(attributions, list):
            raise InvalidValue("'attributions' must be a list of objects")
        for item in attributions:
            created |= self._add_attribution(cid, item)
        if ref is not None:
            resolver.put(self.refs, ref, cid)
        return created

    def _compare_unnamed_claim(
        self, record: dict[str, Any], cleaned: dict[str, Any], cid: int
    ) -> None:
        """A claim without a uid, matched on its statement and subjects: the other fields it
        gives must agree (people compared as resolved, since a file may name them by alias)."""
        given = [
            k
            for k in ("targets", "mentioned", "claimant", "occurred", "status", "retraction_reason")
            if record.get(k) not in (None, [])
        ]
        if not given:
            return
        have = self._claim_facts(cid)
        differs = []
        for name in given:
            if name in ("targets", "mentioned"):
                value: Any = {self.person(r, field=name) for r in _list(record, name)}
            elif name == "claimant":
                value = self.person(_str(record, name), field=name)
            else:
                value = cleaned[name]
            if value != have[name]:
                differs.append(name)
        if differs:
            raise _conflict("claim", cleaned["statement"][:60], differs)

    def _claim_facts(self, cid: int) -> dict[str, Any]:
        # Read from the staged rows when the claim is still staged, never by flushing: a flush
        # inside a record would write the parts it staged before a refusal could forget them.
        staged = self.unit.sink.pending(Claim)
        first = staged[0]["id"] if staged else None
        if first is not None and first <= cid < first + len(staged):
            row = staged[cid - first]  # staged rows of a table are in id order, without gaps
            facts = {name: row.get(f"{name}_id" if name == "claimant" else name)
                     for name in ("claimant", "occurred", "status", "retraction_reason")}
        else:
            claim = self.session.get(Claim, cid)
            facts = {
                "claimant": claim.claimant_id,
                "occurred": claim.occurred,
                "status": claim.status,
                "retraction_reason": claim.retraction_reason,
            }
        roles = list(
            self.session.exec(
                select(ClaimPerson.role, ClaimPerson.person_id)
                .where(ClaimPerson.claim_id == cid)
                .order_by(col(ClaimPerson.id))
            )
        )
        roles += [(r["role"], r["person_id"]) for r in self.unit.sink.pending(ClaimPerson)
                  if r["claim_id"] == cid]
        return {
            "targets": {p for r, p in roles if r == "target"},
            "mentioned": {p for r, p in roles if r == "mentioned"},
            **facts,
        }

    def _matched_part(
        self,
        kind: str,
        cid: int,
        uid: str | None,
        natural: tuple,
        given: dict[str, Any],
        name: Callable[[], str],
        *,
        by_words: bool = False,
    ) -> bool:
        """Whether a part of a claim is already in the ledger: by uid; or, without one (or,
        `by_words`, whatever its uid), by its natural key, when what else it gives must
        agree."""
        if self.resolver.uid_id(kind, uid) is not None:
            return True
        if uid and not by_words:
            return False
        found = self.resolver.contents_of(cid).get(natural)
        if found is None:
            return False
        have = dict(zip(PART_FIELDS[kind], found, strict=True))
        differs = [k for k, v in given.items() if v is not None and _differs(v, have[k])]
        if differs:
            raise Conflict(
                f"{kind} {name()} is already in the ledger with a different {', '.join(differs)}"
            )
        return True

    def _add_attribution(self, cid: int, item: Any) -> bool:
        if not isinstance(item, dict):
            raise InvalidValue("each attribution must be an object")
        unknown = set(item) - FIELDS["attribution"] - DERIVED
        if unknown:
            raise InvalidValue(f"unknown attribution field(s): {', '.join(sorted(unknown))}")
        uid = _uid(item)
        sid = self.resolver.source(_str(item, "source"))
        cleaned = shapes.clean_attribution(
            quote=_str(item, "quote"), voice=_str(item, "voice"), sourcing=_str(item, "sourcing")
        )
        quote = cleaned["quote"]
        natural = attribution_key(sid, quote, cleaned["voice"])
        given = {
            "sourcing": cleaned["sourcing"] if item.get("sourcing") else None,
            "voice": cleaned["voice"] if quote is not None else None,
        }
        # With a quote, the same claim, source and words are the same attribution even under
        # another uid (an older export); with neither quote nor uid, the same voice.
        if self._matched_part(
            "attribution",
            cid,
            uid,
            natural,
            given,
            lambda: f"of claim {cid} from {self.resolver.sources[sid].key!r}",
            by_words=quote is not None,
        ):
            return False
        # Restoring what the file holds: a retracted claim keeps the sources it had.
        attribution_from(
            self.unit, claim_id=cid, source_id=sid, cleaned=cleaned, strict=self.strict, uid=uid
        )
        return True

    def _claim_of(self, record: dict[str, Any]) -> int:
        ref = record.get("claim")
        if isinstance(ref, str) and ref in self.refs:
            return self.refs[ref]
        if isinstance(ref, str) and UID_RE.match(ref):
            found = self.resolver.uid_id("claim", ref)
            if found is None:
                raise NotFound(f"no claim {ref}; `ledger claim list` shows the ids")
            return found
        raise InvalidValue(f"claim {ref!r} is not the ref of an earlier claim in this file")

    def add_response(self, record: dict[str, Any]) -> bool:
        cid = self._claim_of(record)
        uid = _uid(record)
        source_ref = _str(record, "source")
        cleaned = shapes.clean_response(
            kind=_str(record, "kind"),
            date=_str(record, "date"),
            quote=_str(record, "quote"),
            summary=_str(record, "summary"),
            has_source=bool(source_ref),
            voice=_str(record, "voice"),
        )
        by = self.person(_str(record, "by"), field="by")
        sid = self.resolver.source(source_ref) if source_ref else None
        natural = response_key(
            respondent_id=by, kind=cleaned["kind"], date=cleaned["date"], quote=cleaned["quote"]
        )
        if self._matched_part(
            "response",
            cid,
            uid,
            natural,
            {"source": sid, "summary": cleaned["summary"]},
            lambda: f"of claim {cid} by {self.resolver.people[by].name!r}",
        ):
            return False
        response_from(
            self.unit,
            claim_id=cid,
            respondent_id=by,
            source_id=sid,
            cleaned=cleaned,
            uid=uid,
            strict=self.strict,
        )
        return True

    def add_reply(self, record: dict[str, Any]) -> bool:
        cid = self._claim_of(record)
        uid = _uid(record)
        cleaned = shapes.clean_reply(
            sent=_str(record, "sent"),
            deadline=_str(record, "deadline"),
            channel=_str(record, "channel"),
        )
        to = self.person(_str(record, "to"), field="to")
        natural = reply_key(addressee_id=to, sent=cleaned["sent"])
        if self._matched_part(
            "reply",
            cid,
            uid,
            natural,
            {"deadline": cleaned["deadline"], "channel": cleaned["channel"]},
            lambda: f"of claim {cid} to {self.resolver.people[to].name!r}",
        ):
            return False
        reply_from(self.unit, claim_id=cid, addressee_id=to, cleaned=cleaned, uid=uid)
        return True

    # --- the end ----------------------------------------------------------------------------

    def finish(self) -> ImportResult:
        """Make the source links (records may name sources that come later), write
        everything, and bring the full-text index and PostgreSQL's id sequences up to date."""
        for sid, target_key, relation, _key in self.pending_links:
            relation = values.choice(relation, field="relation", allowed=values.LINK_RELATIONS)
            tid = self.resolver.source(target_key, field=relation)
            if tid != sid and self.resolver.linked(sid, tid):
                continue
            new_link(self.unit, source_id=sid, target_id=tid, relation=relation, allow_cycle=True)
        self.pending_links.clear()
        self.unit.finish()
        return self.result


def _uid(record: dict[str, Any]) -> str | None:
    uid = record.get("uid")
    if uid is None:
        return None
    if not isinstance(uid, str) or not UID_RE.match(uid):
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
