"""The bundle: a ledger as records, one JSON object per line (or a JSON/YAML list).

Each record has a `type` (person, source, claim, response, reply) and the same field names as
the command-line options. Records refer to earlier ones by person name or alias, source key
and claim `ref`. Every exported record carries its `uid`, so export, import into an empty
ledger and export again gives the same file, and importing a file twice changes nothing.
An import is one transaction: a bad record anywhere means nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlmodel import Session

from ledger import values
from ledger.errors import InvalidValue, LedgerError
from ledger.models import Claim, Person, ReplyRequest, Response, Source
from ledger.store.bulk import DERIVED, FIELDS, TYPES, Importer, ImportResult
from ledger.store.claims import claim_record, reply_record, response_record
from ledger.store.exchange import in_id_order
from ledger.store.people import person_record
from ledger.store.sources import source_record
from ledger.userfiles import read_text

FORMATS = ("jsonl", "json", "yaml")
__all__ = ["DERIVED", "FIELDS", "FORMATS", "TYPES", "ImportResult", "dump", "export_records",
           "import_records", "read_records"]


# --- export ---------------------------------------------------------------------------------


def export_records(session: Session) -> Iterator[dict[str, Any]]:
    """Every record of the ledger in bundle form, in an order an import can follow."""
    for person in in_id_order(session, Person, live=True):
        record = person_record(session, person, with_id=False)
        record.pop("slug")
        yield record
    for source in in_id_order(session, Source):
        yield source_record(session, source, with_id=False, with_text=True)
    refs: dict[int, str] = {}
    for n, claim in enumerate(in_id_order(session, Claim), start=1):
        refs[claim.id] = f"c{n}"
        yield claim_record(session, claim, with_id=False, ref=refs[claim.id])
    for response in in_id_order(session, Response):
        yield response_record(session, response, with_id=False,
                              claim_ref=refs[response.claim_id])
    for reply in in_id_order(session, ReplyRequest):
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


def detect_format(path: Path, fmt: str | None) -> str:
    """The bundle format: as given, else from the file's extension."""
    if fmt:
        return values.choice(fmt, field="format", allowed=FORMATS)
    suffix = path.suffix.lower().lstrip(".")
    return {"yml": "yaml", "ndjson": "jsonl"}.get(suffix, suffix if suffix in FORMATS else "jsonl")


def read_records(path: Path, *, fmt: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Parse a bundle file into (where, record) pairs; `where` names the line or item."""
    fmt = detect_format(path, fmt)
    content = read_text(path)
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
    """Write the records into the ledger in the caller's transaction, in bulk.

    Any error is re-raised with the line (or item) that caused it; the caller rolls back.
    """
    importer = Importer(session, strict=strict, expected=[r for _, r in records],
                        undoable=False)
    where = "the file"
    try:
        for position, record in records:
            where = position
            importer.add(record)
            importer.flush_if_large()
        where = "the file's source links"
        return importer.finish()
    except LedgerError as exc:
        raise type(exc)(f"{where}: {exc}") from None
