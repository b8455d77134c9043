"""The bundle: a ledger as records, one JSON object per line (or a JSON/YAML list).

Each record has a `type` (person, source, claim, response, reply) and the same field names as
the command-line options. Records refer to earlier ones by person name or alias, source key
and claim `ref`. Every exported record carries its `uid`, so export, import into an empty
ledger and export again gives the same file, and importing a file twice changes nothing.
An import is one transaction: a bad record anywhere means nothing is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from ledger import store, values
from ledger.errors import Conflict, InvalidValue, LedgerError, ReadFailed
from ledger.models import Attribution, Claim, Person, ReplyRequest, Response, Source
from ledger.store.claims import claim_record, reply_record, response_record
from ledger.store.people import person_record
from ledger.store.sources import source_record

FORMATS = ("jsonl", "json", "yaml")
TYPES = ("person", "source", "claim", "response", "reply")
# Fields that `--json` output carries but an import derives for itself.
DERIVED = {"id", "slug", "text_sha256", "text_length", "quote_status"}
FIELDS = {
    "person": {"type", "uid", "name", "aliases", "kind", "description"},
    "source": {"type", "uid", "key", "title", "publisher", "author", "url", "published", "kind",
               "language", "text", "retrieved", *values.LINK_RELATIONS},
    "claim": {"type", "uid", "ref", "statement", "about", "targets", "mentioned", "claimant",
              "occurred", "status", "retraction_reason", "attributions"},
    "attribution": {"uid", "source", "quote", "voice", "sourcing"},
    "response": {"type", "uid", "claim", "by", "kind", "date", "source", "quote", "summary"},
    "reply": {"type", "uid", "claim", "to", "sent", "deadline", "channel"},
}


# --- export ---------------------------------------------------------------------------------


def export_records(session: Session) -> Iterator[dict[str, Any]]:
    """Every record of the ledger in bundle form, in an order an import can follow."""
    for person in session.exec(select(Person).where(col(Person.merged_into_id).is_(None))
                               .order_by(col(Person.id))):
        record = person_record(session, person, with_id=False)
        record.pop("slug")
        yield record
    for source in session.exec(select(Source).order_by(col(Source.id))):
        yield source_record(session, source, with_id=False, with_text=True)
    refs: dict[int, str] = {}
    for n, claim in enumerate(session.exec(select(Claim).order_by(col(Claim.id))), start=1):
        refs[claim.id] = f"c{n}"
        yield claim_record(session, claim, with_id=False, ref=refs[claim.id])
    for response in session.exec(select(Response).order_by(col(Response.id))):
        yield response_record(session, response, with_id=False,
                              claim_ref=refs[response.claim_id])
    for reply in session.exec(select(ReplyRequest).order_by(col(ReplyRequest.id))):
        yield reply_record(session, reply, with_id=False, claim_ref=refs[reply.claim_id])


def dump(records: Iterable[dict[str, Any]], *, fmt: str = "jsonl") -> Iterator[str]:
    """The records as text chunks in `fmt` (jsonl, json or yaml)."""
    fmt = values.choice(fmt, field="format", allowed=FORMATS)
    if fmt == "jsonl":
        for record in records:
            yield json.dumps(record, ensure_ascii=False) + "\n"
    elif fmt == "json":
        yield json.dumps(list(records), ensure_ascii=False, indent=2) + "\n"
    else:
        import yaml

        yield yaml.safe_dump(list(records), allow_unicode=True, sort_keys=False, width=100)


# --- import ---------------------------------------------------------------------------------


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


def detect_format(path: Path, fmt: str | None) -> str:
    """The bundle format: as given, else from the file's extension."""
    if fmt:
        return values.choice(fmt, field="format", allowed=FORMATS)
    suffix = path.suffix.lower().lstrip(".")
    return {"yml": "yaml", "ndjson": "jsonl"}.get(suffix, suffix if suffix in FORMATS else "jsonl")


def read_records(path: Path, *, fmt: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Parse a bundle file into (where, record) pairs; `where` names the line or item."""
    fmt = detect_format(path, fmt)
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReadFailed(f"no file {str(path)!r}") from None
    except UnicodeDecodeError as exc:
        raise ReadFailed(f"{str(path)!r} is not UTF-8 text ({exc.reason} at byte "
                         f"{exc.start})") from None
    except OSError as exc:
        raise ReadFailed(f"cannot read {str(path)!r}: {exc.strerror}") from None
    records: list[tuple[str, Any]] = []
    if fmt == "jsonl":
        for number, text_line in enumerate(content.splitlines(), start=1):
            if not text_line.strip():
                continue
            try:
                records.append((f"line {number}", json.loads(text_line)))
            except json.JSONDecodeError as exc:
                raise InvalidValue(f"line {number}: not valid JSON ({exc.msg})") from None
    else:
        try:
            if fmt == "json":
                data = json.loads(content)
            else:
                import yaml

                data = yaml.safe_load(content)
        except (ValueError, Exception) as exc:  # yaml.YAMLError and JSONDecodeError
            raise InvalidValue(f"{str(path)!r} is not valid {fmt.upper()}: "
                               f"{str(exc).splitlines()[0]}") from None
        if not isinstance(data, list):
            raise InvalidValue(f"{str(path)!r} must hold a list of records")
        records = [(f"record {n}", item) for n, item in enumerate(data, start=1)]
    for where, record in records:
        if not isinstance(record, dict):
            raise InvalidValue(f"{where}: each record must be an object with a \"type\"")
    return records


def import_records(session: Session, records: list[tuple[str, dict[str, Any]]],
                   *, strict: bool = False) -> ImportResult:
    """Write the records into the ledger in the caller's transaction.

    Any error is re-raised with the line (or item) that caused it; the caller rolls back.
    """
    importer = _Importer(session, strict=strict)
    where = "the file"
    try:
        for position, record in records:
            where = position
            importer.add(record)
        where = "the file's source links"
        importer.finish()
    except LedgerError as exc:
        raise type(exc)(f"{where}: {exc}") from None
    return importer.result


def _list(record: dict[str, Any], name: str) -> list[Any]:
    value = record.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidValue(f"{name!r} must be a list of strings")
    return value


def _str(record: dict[str, Any], name: str) -> str | None:
    value = record.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidValue(f"{name!r} must be a string")
    return value


class _Importer:
    def __init__(self, session: Session, *, strict: bool) -> None:
        self.session = session
        self.strict = strict
        self.result = ImportResult()
        self.refs: dict[str, Claim] = {}
        self.pending_links: list[tuple[Source, str, str]] = []

    def add(self, record: dict[str, Any]) -> None:
        kind = record.get("type")
        if kind not in TYPES:
            raise InvalidValue(f"unknown record type {kind!r}; expected one of {', '.join(TYPES)}")
        unknown = set(record) - FIELDS[kind] - DERIVED
        if unknown:
            raise InvalidValue(f"unknown field{'s' if len(unknown) > 1 else ''} for a {kind}: "
                               f"{', '.join(sorted(unknown))}")
        created = getattr(self, f"_{kind}")(record)
        self.result.created[kind] += int(created)
        self.result.skipped[kind] += int(not created)

    def _by_uid(self, model, record):
        uid = _str(record, "uid")
        if uid is None:
            return None
        if len(uid) != 32 or any(c not in "0123456789abcdef" for c in uid):
            raise InvalidValue(f"uid {uid!r} must be 32 lowercase hex characters")
        return self.session.exec(select(model).where(model.uid == uid)).first()

    def _same(self, kind: str, existing: dict[str, Any], record: dict[str, Any], name: str):
        keys = FIELDS[kind] - {"type", "uid", "ref", "attributions"}
        differs = [k for k in sorted(keys) if k in record and record[k] != existing.get(k)
                   and not (record[k] in (None, []) and existing.get(k) in (None, []))]
        if differs:
            raise Conflict(f"{kind} {name!r} is already in the ledger with a different "
                           f"{', '.join(differs)}; edit it with `ledger {kind} edit` instead")

    def _person(self, record: dict[str, Any]) -> bool:
        existing = self._by_uid(Person, record)
        name = values.line(_str(record, "name"), field="name")
        if existing is None and not record.get("uid"):
            existing = self.session.exec(select(Person).where(
                Person.name == name, col(Person.merged_into_id).is_(None))).first()
        if existing is not None:
            have = person_record(self.session, existing, with_id=False)
            if record.get("uid"):
                self._same("person", have, record, name)
            return False
        store.add_person(self.session, name=name, kind=_str(record, "kind") or "person",
                         description=_str(record, "description"),
                         aliases=_list(record, "aliases"), uid=_str(record, "uid"))
        return True

    def _source(self, record: dict[str, Any]) -> bool:
        key = values.key(_str(record, "key"))
        existing = self._by_uid(Source, record) or self.session.exec(
            select(Source).where(Source.key == key)).first()
        relations = {r: _list(record, r) for r in values.LINK_RELATIONS}
        if existing is not None:
            have = source_record(self.session, existing, with_id=False, with_text=True)
            self._same("source", have, {k: v for k, v in record.items()
                                        if k not in values.LINK_RELATIONS}, key)
            have_links = {(r, k) for r in values.LINK_RELATIONS for k in have[r]}
            for relation, targets in relations.items():
                for target in targets:
                    if (relation, target) not in have_links:
                        self.pending_links.append((existing, target, relation))
            return False
        source = store.add_source(
            self.session, title=_str(record, "title"), key=key,
            publisher=_str(record, "publisher"), author=_str(record, "author"),
            url=_str(record, "url"), published=_str(record, "published"),
            kind=_str(record, "kind") or "article", language=_str(record, "language"),
            text=_str(record, "text"), retrieved=_str(record, "retrieved"),
            uid=_str(record, "uid"))
        for relation, targets in relations.items():
            self.pending_links.extend((source, target, relation) for target in targets)
        return True

    def _claim(self, record: dict[str, Any]) -> bool:
        ref = _str(record, "ref")
        if ref is not None and ref in self.refs:
            raise Conflict(f"claim ref {ref!r} is used twice in this file")
        statement = values.text(_str(record, "statement"), field="statement").strip()
        about = _list(record, "about")
        existing = self._by_uid(Claim, record)
        if existing is None and not record.get("uid"):
            existing = self._natural_claim(statement, about)
        created = existing is None
        if created:
            existing = store.add_claim(
                self.session, statement=statement, about=about,
                targets=_list(record, "targets"), mentioned=_list(record, "mentioned"),
                claimant=_str(record, "claimant"), occurred=_str(record, "occurred"),
                status=_str(record, "status"), allow_retracted=True,
                retraction_reason=_str(record, "retraction_reason"), uid=_str(record, "uid"))
        elif record.get("uid"):
            # Without a uid the claim was matched on its statement and subjects, which may be
            # named by alias; with one, every field must agree.
            have = claim_record(self.session, existing, with_id=False)
            self._same("claim", have, record, statement[:60])
        attributions = record.get("attributions") or []
        if not isinstance(attributions, list):
            raise InvalidValue("'attributions' must be a list of objects")
        for item in attributions:
            created |= self._attribution(existing, item)
        if ref is not None:
            self.refs[ref] = existing
        return created

    def _natural_claim(self, statement: str, about: list[str]) -> Claim | None:
        for claim in self.session.exec(select(Claim).where(Claim.statement == statement)):
            names = claim_record(self.session, claim, with_id=False)["about"]
            subjects = {store.get_person(self.session, n).id for n in names}
            if subjects == {store.get_person(self.session, n, field="about").id for n in about}:
                return claim
        return None

    def _attribution(self, claim: Claim, item: Any) -> bool:
        if not isinstance(item, dict):
            raise InvalidValue("each attribution must be an object")
        unknown = set(item) - FIELDS["attribution"] - DERIVED
        if unknown:
            raise InvalidValue(f"unknown attribution field(s): {', '.join(sorted(unknown))}")
        source = store.get_source(self.session, _str(item, "source") or "")
        quote, voice = _str(item, "quote"), _str(item, "voice")
        if self._by_uid(Attribution, item) is not None:
            return False
        if not item.get("uid"):
            # Without a uid, the same claim, source and words (or, with no quote, the same
            # voice) is the same attribution.
            same = select(Attribution).where(Attribution.claim_id == claim.id,
                                             Attribution.source_id == source.id)
            if quote is not None:
                same = same.where(Attribution.quote == values.nfc(quote))
            else:
                spoken = values.line(voice, field="voice", required=False)
                same = same.where(col(Attribution.quote).is_(None),
                                  Attribution.voice == spoken if spoken
                                  else col(Attribution.voice).is_(None))
            if self.session.exec(same).first() is not None:
                return False
        attribution = store.cite(self.session, claim=claim, source=source, quote=quote,
                                 voice=voice, sourcing=_str(item, "sourcing"),
                                 strict=self.strict, uid=_str(item, "uid"), restoring=True)
        if attribution.quote_status == "not-found":
            self.result.warnings.append(
                f"claim {claim.id}: the quote is not in the stored text of {source.key!r}")
        return True

    def _claim_of(self, record: dict[str, Any]) -> Claim:
        ref = record.get("claim")
        if isinstance(ref, str) and ref in self.refs:
            return self.refs[ref]
        if isinstance(ref, str) and len(ref) == 32:
            return store.get_claim(self.session, ref)
        raise InvalidValue(f"claim {ref!r} is not the ref of an earlier claim in this file")

    def _response(self, record: dict[str, Any]) -> bool:
        claim = self._claim_of(record)
        existing = self._by_uid(Response, record)
        if existing is None and not record.get("uid"):
            by = store.get_person(self.session, _str(record, "by") or "", field="by")
            existing = self.session.exec(select(Response).where(
                Response.claim_id == claim.id, Response.respondent_id == by.id,
                Response.kind == values.choice(_str(record, "kind"), field="kind",
                                               allowed=values.RESPONSE_KINDS),
                Response.date == _str(record, "date"),
                Response.quote == _str(record, "quote"))).first()
        if existing is not None:
            return False
        store.add_response(self.session, claim=claim, by=_str(record, "by") or "",
                           kind=_str(record, "kind") or "", date=_str(record, "date"),
                           source=_str(record, "source"), quote=_str(record, "quote"),
                           summary=_str(record, "summary"), uid=_str(record, "uid"))
        return True

    def _reply(self, record: dict[str, Any]) -> bool:
        claim = self._claim_of(record)
        existing = self._by_uid(ReplyRequest, record)
        if existing is None and not record.get("uid"):
            to = store.get_person(self.session, _str(record, "to") or "", field="to")
            existing = self.session.exec(select(ReplyRequest).where(
                ReplyRequest.claim_id == claim.id, ReplyRequest.addressee_id == to.id,
                ReplyRequest.sent == _str(record, "sent"))).first()
        if existing is not None:
            return False
        store.request_reply(self.session, claim=claim, to=_str(record, "to") or "",
                            sent=_str(record, "sent") or "", deadline=_str(record, "deadline"),
                            channel=_str(record, "channel"), uid=_str(record, "uid"))
        return True

    def finish(self) -> None:
        """Make the source links last, so records may name sources that come later."""
        from ledger.store.sources import link_sources

        for source, target_key, relation in self.pending_links:
            target = store.get_source(self.session, target_key, field=relation)
            # A link has no record of its own in a bundle, so its uid is derived from the two
            # sources: importing the same bundle gives the same event chain every time.
            uid = hashlib.md5(f"{source.uid}:{target.uid}".encode(), usedforsecurity=False)
            cycle = link_sources(self.session, source=source, target=target, relation=relation,
                                 allow_cycle=True, uid=uid.hexdigest())
            if cycle:
                self.result.warnings.append(
                    f"the link {source.key} {relation} {target.key} makes a citation cycle; "
                    "`ledger audit` reports it")
