"""The bundle: a ledger as records, one JSON object per line (or a JSON/YAML list).

Each record has a `type` (person, source, claim, response, reply) and the same field names as
the command-line options. Records refer to earlier ones by person name or alias, source key
and claim `ref`. Every exported record carries its `uid`, so export, import into an empty
ledger and export again gives the same file, and importing a file twice changes nothing.
An import is one transaction: a bad record anywhere means nothing is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlmodel import Session

from ledger import values
from ledger.errors import InvalidValue, LedgerError
from ledger.store import reads
from ledger.store.bulk import DERIVED, FIELDS, TYPES, Importer, ImportResult, collector_paused
from ledger.userfiles import read_lines, read_text

FORMATS = ("jsonl", "json", "yaml")
# A record is an object of values, lists and attribution objects: a few levels deep at most.
RECORD_DEPTH = 8
__all__ = ["DERIVED", "FIELDS", "FORMATS", "TYPES", "ImportResult", "dump", "export_records",
           "import_file", "import_records", "iter_records", "read_records"]


# --- export ---------------------------------------------------------------------------------


def export_records(session: Session) -> Iterator[dict[str, Any]]:
    """Every record of the ledger in bundle form, in an order an import can follow."""
    for record in reads.person_records(session, with_id=False):
        record.pop("slug")
        yield record
    yield from reads.source_records(session, with_id=False, with_text=True)
    yield from reads.claim_records(session, with_id=False, refs=True)
    refs = reads.ClaimRefs(session)
    yield from reads.response_records(session, claim_refs=refs, with_id=False)
    yield from reads.reply_records(session, claim_refs=refs, with_id=False)


def dump(records: Iterable[dict[str, Any]], *, fmt: str = "jsonl") -> Iterator[str]:
    """The records as text chunks in `fmt` (jsonl, json or yaml)."""
    fmt = values.choice(fmt, field="format", allowed=FORMATS)
    if fmt == "jsonl":
        for record in records:
            yield _escape_line_breaks(json.dumps(record, ensure_ascii=False)) + "\n"
    elif fmt == "json":
        yield _escape_line_breaks(json.dumps(list(records), ensure_ascii=False, indent=2)) + "\n"
    else:
        import yaml

        yield yaml.dump(list(records), Dumper=_yaml_dumper(), allow_unicode=True,
                        sort_keys=False, width=100)


def _yaml_dumper():
    """PyYAML's safe dumper, writing any string with a YAML line break double-quoted.

    In a plain or single-quoted scalar, YAML reads U+0085, U+2028, U+2029 and \\r as line
    breaks and folds them; double-quoted, PyYAML writes them as escapes (\\N, \\L, \\P, \\r).
    """
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = '"' if _YAML_BREAK_RE.search(value) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, represent_str)
    return Dumper


# Line breaks other than \n that JSON allows raw inside strings. Written as escapes, so a
# tool that splits lines on them (Python's str.splitlines, JavaScript before ES2019) still
# sees one record per line; the JSON means exactly the same.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_LINE_BREAK_RE = re.compile("[\x85\u2028\u2029]")
_YAML_BREAK_RE = re.compile("[\r\x85\u2028\u2029]")


def _escape_line_breaks(text: str) -> str:
    return _LINE_BREAK_RE.sub(lambda m: _LINE_BREAKS[m.group()], text)


def jsonl_lines(content: str) -> Iterator[tuple[int, str]]:
    """The lines of a JSONL text with their numbers, split on \\n only (\\r\\n too).

    Never `str.splitlines()`: it also splits on U+0085, U+2028 and U+2029, which JSON allows
    raw inside a string, and would cut a record in two.
    """
    for number, text_line in enumerate(content.split("\n"), start=1):
        yield number, text_line.removesuffix("\r")


# --- import ---------------------------------------------------------------------------------


def detect_format(path: Path, fmt: str | None) -> str:
    """The bundle format: as given, else from the file's extension."""
    if fmt:
        return values.choice(fmt, field="format", allowed=FORMATS)
    suffix = path.suffix.lower().lstrip(".")
    return {"yml": "yaml", "ndjson": "jsonl"}.get(suffix, suffix if suffix in FORMATS else "jsonl")


def read_records(path: Path, *, fmt: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Parse a bundle file into (where, record) pairs; `where` names the line or item."""
    return list(iter_records(path, fmt=fmt))


def iter_records(path: Path, *, fmt: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """The bundle's (where, record) pairs one at a time: a JSONL file is read line by line,
    never held whole; a JSON or YAML document is parsed whole (it is one value)."""
    fmt = detect_format(path, fmt)
    if fmt == "jsonl":
        pairs: Iterable[tuple[str, Any, bool]] = _jsonl_records(path)
    else:
        content = read_text(path)
        try:
            if fmt == "json":
                data = json.loads(content)
            else:
                import yaml

                data = yaml.safe_load(content)
        except RecursionError:
            raise InvalidValue(f"{str(path)!r} is nested too deeply to hold records") from None
        except (ValueError, Exception) as exc:  # yaml.YAMLError and JSONDecodeError
            raise InvalidValue(f"{str(path)!r} is not valid {fmt.upper()}: "
                               f"{str(exc).splitlines()[0]}") from None
        if not isinstance(data, list):
            raise InvalidValue(f"{str(path)!r} must hold a list of records")
        pairs = ((f"record {n}", item, False) for n, item in enumerate(data, start=1))
    for where, record, plain in pairs:
        if not isinstance(record, dict):
            raise InvalidValue(f"{where}: each record must be an object with a \"type\"")
        problem = None if plain else values.nesting_problem(record, limit=RECORD_DEPTH)
        if problem:
            raise InvalidValue(f"{where}: {problem}")
        yield where, record


def _jsonl_records(path: Path) -> Iterator[tuple[str, Any, bool]]:
    """Each line's (where, value, plain): plain when the line alone shows the value cannot
    be nested too deeply or hold a lone surrogate (no more brackets than levels allowed, no
    \\u escape: the file was read as strict UTF-8, so a surrogate can only be an escape),
    which spares most records the walk over every value."""
    for number, raw in enumerate(read_lines(path), start=1):
        text_line = raw.removesuffix("\r")
        if not text_line.strip():
            continue
        plain = ("\\u" not in text_line
                 and text_line.count("{") + text_line.count("[") <= RECORD_DEPTH)
        try:
            yield f"line {number}", json.loads(text_line), plain
        except json.JSONDecodeError as exc:
            raise InvalidValue(f"line {number}: not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise InvalidValue(f"line {number}: the JSON is nested too deeply to be a "
                               "record") from None


def _expected(record: dict[str, Any]) -> dict[str, Any]:
    """What `Resolver.expect` reads of a record (its type, uid, statement and attributions'
    uids), so the first pass over a large file keeps little."""
    slim = {key: record[key] for key in ("type", "uid", "statement") if key in record}
    attributions = record.get("attributions")
    if isinstance(attributions, list):
        slim["attributions"] = [{"uid": a["uid"]} for a in attributions
                                if isinstance(a, dict) and "uid" in a]
    return slim


def import_file(session: Session, path: Path, *, fmt: str | None = None,
                strict: bool = False) -> ImportResult:
    """Import a bundle file in the caller's transaction (see `import_records`).

    A JSONL file is read line by line, the records never all in memory at once: once to
    import, and, when the ledger already holds claims the records could match, once before
    to collect the uids and statements to index.
    """
    if detect_format(path, fmt) != "jsonl":
        return import_records(session, read_records(path, fmt=fmt), strict=strict)

    def expected() -> list[dict[str, Any]]:
        return [_expected(record) for _where, record in iter_records(path, fmt="jsonl")]

    return import_records(session, iter_records(path, fmt="jsonl"), strict=strict,
                          expected=expected)


def import_records(session: Session, records: Iterable[tuple[str, dict[str, Any]]],
                   *, strict: bool = False,
                   expected: Callable[[], list[dict[str, Any]]] | None = None) -> ImportResult:
    """Write the records into the ledger in the caller's transaction, in bulk.

    Any error is re-raised with the line (or item) that caused it; the caller rolls back.
    `expected`: when `records` is an iterator, a function giving the records to come, or what
    `Resolver.expect` needs of them (by default `records` is a list and is read for it).
    """
    if expected is None:
        records = list(records)
        listed = [r for _, r in records]
        expected = lambda: listed  # noqa: E731
    with collector_paused():
        importer = Importer(session, strict=strict, expected=expected, undoable=False)
        del expected
        # A record the reader refuses is named by the reader ("line 7: not valid JSON").
        for position, record in records:
            try:
                importer.add(record)
                importer.flush_if_large()
            except LedgerError as exc:
                raise type(exc)(f"{position}: {exc}") from None
        try:
            return importer.finish()
        except LedgerError as exc:
            raise type(exc)(f"the file's source links: {exc}") from None
