"""Claims as a spreadsheet: CSV (or TSV) import with a column mapping, and CSV export.

Import: each row is one claim, optionally with one attribution (a source and a quote). A
mapping says which column holds which ledger field (`statement=Claim`, or a 1-based column
number for a file without a header row); a mapping file (JSON or YAML) can also translate
cell values (a spreadsheet's "Pants on Fire" to the status `false`) and give defaults. Each
row becomes bundle records and goes through the bundle importer, so a CSV import checks and
records exactly what `ledger import` of a bundle would. People and sources the ledger does not
know are refused unless `create_missing` is set; then they are created. A refused row is
reported with its line number; the import is one transaction and writes nothing if any row is
refused. A dry run reports what would be created and every row that would be refused, and
writes nothing.

Export: one row per attribution (the claim's columns repeated; a claim without sources has one
row), with the columns `EXPORT_COLUMNS`, which an import reads back without a mapping. Lists
(about, targets, mentioned) are joined with "; "; a name that holds the separator (or starts
with a double quote) is written in double quotes, with any `"` inside doubled, so "Smith; John"
comes back as one person. Cells are read as written: only the list items and the header names
lose their surrounding white space (the ledger's own rules then apply to each field).

Spreadsheet formula injection: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return (after any leading apostrophes) is written with one more leading apostrophe, so a
spreadsheet shows it as text instead of running it. The import removes that one apostrophe
again, so a round trip gives back the exact text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

if TYPE_CHECKING:
    from ledger.store.bulk import Importer

from ledger import shapes, store, values
from ledger.errors import InvalidValue, LedgerError, NotFound
from ledger.userfiles import read_text

CLAIM_FIELDS = ("uid", "statement", "about", "targets", "mentioned", "claimant", "occurred",
                "status", "retraction_reason")
ATTRIBUTION_FIELDS = ("attribution_uid", "source", "quote", "voice", "sourcing")
SOURCE_FIELDS = ("source_title", "source_publisher", "source_author", "source_url",
                 "source_published", "source_kind", "source_language")
FIELDS = CLAIM_FIELDS + ATTRIBUTION_FIELDS + SOURCE_FIELDS
LIST_FIELDS = ("about", "targets", "mentioned")
EXPORT_COLUMNS = ("uid", "statement", "about", "targets", "mentioned", "claimant", "occurred",
                  "status", "retraction_reason", "attribution_uid", "source", "quote", "voice",
                  "sourcing", "source_title", "source_publisher", "source_url",
                  "source_published", "source_kind")
# Cells handed to the ledger as written (its rules for each field then apply); the others are
# handles, names and vocabulary words, read without their surrounding white space.
AS_WRITTEN = ("statement", "quote", "voice", "retraction_reason", "source_title")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = ";"
Progress = Callable[[int, int], None]

csv.field_size_limit(10_000_000)


# --- the mapping ----------------------------------------------------------------------------


@dataclass
class Mapping:
    """Which column holds which ledger field, and how to read the cells.

    `columns` maps a field to a header name or a 1-based column number; `values` translates
    cells per field ({"status": {"pants-fire": "false"}}; matched exactly, then ignoring case);
    `defaults` fills a field whose cell is empty or which has no column.
    """

    columns: dict[str, str | int] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    header: bool = True
    delimiter: str | None = None
    separator: str = LIST_SEPARATOR
    quoted: bool = True  # false: '"' is ordinary text (plain TSV exports, e.g. LIAR)

    def check(self) -> Mapping:
        for name in (*self.columns, *self.values, *self.defaults):
            if name not in FIELDS:
                raise InvalidValue(f"--map: unknown ledger field {name!r}; the fields are "
                                   f"{', '.join(FIELDS)}")
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise InvalidValue(f"the delimiter must be one character; got {self.delimiter!r}")
        if not self.separator:
            raise InvalidValue("the list separator must not be empty")
        return self


def _scalar(value: Any) -> str:
    # YAML reads `false: false` as booleans; a mapping means the words.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_map_options(options: list[str] | tuple[str, ...]) -> dict[str, str | int]:
    """`--map field=Column` options as a dict (a number is a 1-based column number)."""
    columns: dict[str, str | int] = {}
    for option in options:
        name, sep, column = option.partition("=")
        name, column = name.strip(), column.strip()
        if not sep or not name or not column:
            raise InvalidValue(f"--map {option!r} must be FIELD=COLUMN, e.g. statement=Claim")
        columns[name] = int(column) if column.isdigit() else column
    return columns


def load_mapping(path: Path | None = None, *, map_options: list[str] | tuple[str, ...] = (),
                 delimiter: str | None = None, no_header: bool = False) -> Mapping:
    """A mapping from a JSON or YAML file and/or `--map` options (options win)."""
    mapping = Mapping()
    if path is not None:
        content = read_text(path, option="--mapping")
        try:
            if path.suffix.lower() == ".json":
                data = json.loads(content)
            else:
                import yaml

                data = yaml.safe_load(content)
        except Exception as exc:  # yaml.YAMLError, json.JSONDecodeError
            raise InvalidValue(f"--mapping {str(path)!r} is not valid "
                               f"{'JSON' if path.suffix.lower() == '.json' else 'YAML'}: "
                               f"{str(exc).splitlines()[0]}") from None
        mapping = _mapping_from(data, path)
    mapping.columns.update(parse_map_options(map_options))
    if delimiter is not None:
        mapping.delimiter = "\t" if delimiter in ("\\t", "tab") else delimiter
    if no_header:
        mapping.header = False
    return mapping.check()


def _mapping_from(data: Any, path: Path) -> Mapping:
    where = f"--mapping {str(path)!r}"
    if not isinstance(data, dict):
        raise InvalidValue(f"{where} must be an object with 'columns'")
    unknown = set(data) - {"columns", "values", "defaults", "header", "delimiter", "separator",
                           "quoted"}
    if unknown:
        raise InvalidValue(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    columns = data.get("columns") or {}
    value_maps = data.get("values") or {}
    defaults = data.get("defaults") or {}
    if not all(isinstance(x, dict) for x in (columns, value_maps, defaults)):
        raise InvalidValue(f"{where}: columns, values and defaults must be objects")
    if not all(isinstance(v, dict) for v in value_maps.values()):
        raise InvalidValue(f"{where}: each entry of 'values' must map cells to ledger values")
    return Mapping(
        columns={str(k): v if isinstance(v, int) and not isinstance(v, bool) else _scalar(v)
                 for k, v in columns.items()},
        values={str(f): {_scalar(k): _scalar(v) for k, v in m.items()}
                for f, m in value_maps.items()},
        defaults={str(k): _scalar(v) for k, v in defaults.items()},
        header=bool(data.get("header", True)),
        delimiter=data.get("delimiter"),
        separator=str(data.get("separator", LIST_SEPARATOR)),
        quoted=bool(data.get("quoted", True)),
    )


# --- reading the file -----------------------------------------------------------------------


@dataclass
class Row:
    """One data row: the line it starts on and its fields as the mapping reads them."""

    line: int
    fields: dict[str, str]


def unneutralize(cell: str) -> str:
    """Undo `neutralize`: drop the one apostrophe the export put before a formula start."""
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def neutralize(cell: str) -> str:
    """A cell a spreadsheet shows as text: one more apostrophe before a formula start."""
    if cell.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def join_list(items: list[str], separator: str = LIST_SEPARATOR) -> str:
    """A list cell: the items joined with `separator` and a space, quoted where needed."""
    return f"{separator} ".join(
        '"' + item.replace('"', '""') + '"' if separator in item or item.startswith('"')
        else item for item in items)


def split_list(cell: str, separator: str = LIST_SEPARATOR) -> list[str]:
    """The items of a list cell (see `join_list`), stripped, empty items left out.

    An item that starts with a double quote runs to the matching quote (`""` is one quote),
    separators included; an unmatched quote is kept as written.
    """
    items: list[str] = []
    rest = cell
    while rest.strip():
        rest = rest.lstrip()
        if rest.startswith('"'):
            quoted, after = _unquote(rest)
            tail, _, following = after.partition(separator)
            if quoted is not None and not tail.strip():
                items.append(quoted)
                rest = following
                continue
        item, _, rest = rest.partition(separator)
        items.append(item)
    return [item.strip() for item in items if item.strip()]


def _unquote(text: str) -> tuple[str | None, str]:
    """The quoted item at the start of `text` and what follows it (None: no closing quote)."""
    position = 1
    while (position := text.find('"', position)) >= 0:
        if text.startswith('""', position):
            position += 2
            continue
        return text[1:position].replace('""', '"'), text[position + 1:]
    return None, text


def read_rows(path: Path, mapping: Mapping) -> list[Row]:
    """The file's data rows through the mapping (cells as written, blank cells left out)."""
    content = read_text(path, encoding="utf-8-sig",
                        hint="save it as CSV UTF-8, or convert it with iconv")
    delimiter = mapping.delimiter or ("\t" if path.suffix.lower() in (".tsv", ".tab") else ",")
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, strict=True,
                        quoting=csv.QUOTE_MINIMAL if mapping.quoted else csv.QUOTE_NONE)
    rows: list[Row] = []
    try:
        start = reader.line_num + 1
        header: list[str] | None = next(reader, None) if mapping.header else None
        if mapping.header and header is None:
            return []
        index = _column_index(mapping, header)
        start = reader.line_num + 1
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append(Row(start, _fields(cells, index, mapping)))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InvalidValue(f"line {start}: not valid CSV ({exc})") from None
    return rows


def _column_index(mapping: Mapping, header: list[str] | None) -> dict[str, int]:
    columns = dict(mapping.columns)
    if not columns:
        if header is None:
            raise InvalidValue("a file without a header row needs a mapping "
                               "(--map statement=3 --map about=5 ..., or --mapping FILE)")
        columns = {name.strip(): name for name in header if name.strip() in FIELDS}
        if "statement" not in columns:
            raise InvalidValue("no mapping given and no column is named 'statement'; map the "
                               "columns, e.g. --map statement=Claim --map about=Person")
    names = [h.strip() for h in header] if header is not None else []
    index: dict[str, int] = {}
    for name, column in columns.items():
        if isinstance(column, int):
            if column < 1:
                raise InvalidValue(f"--map {name}={column}: columns are numbered from 1")
            index[name] = column - 1
        elif column.strip() in names:
            index[name] = names.index(column.strip())
        else:
            known = ", ".join(repr(n) for n in names) or "none (the file has no header row)"
            raise InvalidValue(f"--map {name}={column}: no column {column!r}; the columns "
                               f"are {known}")
    if "statement" not in index and "statement" not in mapping.defaults:
        raise InvalidValue("the mapping needs a statement column (--map statement=COLUMN)")
    return index


def _fields(cells: list[str], index: dict[str, int], mapping: Mapping) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, position in index.items():
        cell = unneutralize(cells[position]) if position < len(cells) else ""
        if name in mapping.values:
            table = mapping.values[name]
            lowered = {k.lower(): v for k, v in table.items()}
            word = cell.strip()
            cell = table.get(word, lowered.get(word.lower(), cell))
        if cell.strip():
            fields[name] = cell if name in AS_WRITTEN else cell.strip()
    for name, default in mapping.defaults.items():
        fields.setdefault(name, default)
    return fields


# --- importing ------------------------------------------------------------------------------


@dataclass
class CsvImportResult:
    """What a CSV import did (or, in a dry run, would do)."""

    rows: int = 0
    created: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    new_people: list[str] = field(default_factory=list)
    new_sources: list[str] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The result as `--json` prints it."""
        return {"dry_run": self.dry_run, "rows": self.rows, "created": self.created,
                "skipped": self.skipped, "new_people": self.new_people,
                "new_sources": self.new_sources,
                "refused": [{"line": line, "error": error} for line, error in self.refused],
                "warnings": self.warnings}

    def summary(self) -> str:
        made = ", ".join(f"{n} {t}{'s' if n != 1 else ''}" for t, n in self.created.items()
                         if n) or "nothing new"
        verb = "would import" if self.dry_run else "imported"
        text = f"{verb} {made} from {self.rows} row{'s' if self.rows != 1 else ''}"
        if self.refused:
            text += f"; {len(self.refused)} row{'s' if len(self.refused) != 1 else ''} refused"
        return text


class _RowRefused(LedgerError):
    """A row cannot be imported."""


def import_csv(session: Session, rows: list[Row], *, create_missing: bool = False,
               dry_run: bool = False, strict: bool = False,
               progress: Progress | None = None,
               separator: str = LIST_SEPARATOR) -> CsvImportResult:
    """Import mapped rows in the caller's transaction (see the module docstring).

    Rows are staged in one bulk importer; a refused row is rolled back to the checkpoint
    before it, so every refused row is found in one pass. If any row is refused (and this is
    not a dry run) the error lists them all and the caller rolls back. A dry run leaves the
    rows in the transaction: the caller rolls it back. The bulk importer rebuilds the search
    index once at the end when the import is large.
    """
    from ledger.store.bulk import Importer, collector_paused

    result = CsvImportResult(rows=len(rows), dry_run=dry_run)
    with collector_paused():
        # What the rows name, so the importer indexes those claims in a few queries up front.
        bulk = Importer(session, strict=strict, expected=lambda: [
            {"type": "claim", "statement": row.fields.get("statement"),
             "uid": row.fields.get("uid")} for row in rows])
        importer = _RowImporter(session, result, bulk, create_missing=create_missing,
                                separator=separator)
        from ledger.models import Attribution, Claim
        from ledger.store.exchange import count_rows

        before = count_rows(session, Claim), count_rows(session, Attribution)
        errors: list[LedgerError] = []
        for done, row in enumerate(rows, start=1):
            try:
                importer.row(row)
            except LedgerError as exc:
                errors.append(exc)
                result.refused.append((row.line, str(exc)))
            if progress is not None:
                progress(done, len(rows))
        bulk.finish()
    for kind, n in bulk.result.skipped.items():
        result.skipped[kind] = result.skipped.get(kind, 0) + n
    for kind, n in bulk.result.created.items():
        result.created[kind] = result.created.get(kind, 0) + n
    # The bundle importer counts a claim row that only adds a source as a claim; say claims.
    result.created["claim"] = count_rows(session, Claim) - before[0]
    result.created["attribution"] = count_rows(session, Attribution) - before[1]
    if result.refused and not dry_run:
        listed = "\n".join(f"  line {line}: {error}" for line, error in result.refused[:20])
        more = len(result.refused) - 20
        kind = InvalidValue if all(isinstance(e, InvalidValue) for e in errors) else LedgerError
        raise kind(f"{len(result.refused)} row{'s' if len(result.refused) != 1 else ''} refused; "
                   f"nothing was imported{' (--dry-run lists them all)' if more > 0 else ''}:\n"
                   f"{listed}" + (f"\n  ... and {more} more" if more > 0 else ""))
    return result


class _RowImporter:
    def __init__(self, session: Session, result: CsvImportResult, bulk: Importer, *,
                 create_missing: bool, separator: str) -> None:
        self.session = session
        self.result = result
        self.bulk = bulk
        self.create_missing = create_missing
        self.separator = separator
        self.people: dict[str, bool] = {}  # name -> known (resolved or created)
        self.sources: dict[str, str] = {}  # key, or title, -> key
        for source in store.list_sources(session):
            self.sources.setdefault(source.title, source.key)
            self.sources[source.key] = source.key
        self.taken_keys = set(self.sources.values())

    def row(self, row: Row) -> None:
        fields = row.fields
        records: list[dict[str, Any]] = []
        new_people: list[str] = []
        new_source: tuple[str, str] | None = None
        if not fields.get("statement"):
            raise InvalidValue("the statement is empty")
        lists = {name: split_list(fields.get(name, ""), self.separator)
                 for name in LIST_FIELDS}
        if not lists["about"]:
            raise InvalidValue("no one the claim is about (the about column is empty)")
        names = [*lists["about"], *lists["targets"], *lists["mentioned"]]
        if fields.get("claimant"):
            names.append(fields["claimant"])
        for name in names:
            if name in self.people or name in new_people:
                continue
            if self._person_missing(name):
                new_people.append(name)
                records.append({"type": "person", "name": name})
        claim: dict[str, Any] = {"type": "claim", "statement": fields["statement"], **lists}
        for name in ("uid", "claimant", "occurred", "retraction_reason"):
            if fields.get(name):
                claim[name] = fields[name]
        if fields.get("status"):
            claim["status"] = fields["status"].lower().replace(" ", "-")
        source_ref = fields.get("source") or fields.get("source_title")
        if source_ref:
            key = self.sources.get(source_ref) or self._source_key(source_ref)
            if key is None:
                key = self._new_key(source_ref)
                new_source = (source_ref, key)
                records.append(self._source_record(key, source_ref, fields))
            attribution = {"source": key}
            for name in ("quote", "voice", "sourcing"):
                if fields.get(name):
                    attribution[name] = fields[name]
            if fields.get("attribution_uid"):
                attribution["uid"] = fields["attribution_uid"]
            # The importer recognizes a repeated attribution by its uid, its quote, or (with
            # neither) its source and voice, so importing a sheet twice changes nothing.
            claim["attributions"] = [attribution]
        elif any(fields.get(n) for n in ("quote", "voice")):
            raise InvalidValue("a quote or voice needs a source column (--map source=COLUMN)")
        records.append(claim)
        self._import(row, records)
        for name in new_people:
            self.people[name] = True
            self.result.new_people.append(name)
        if new_source is not None:
            title, key = new_source
            self.sources[title] = self.sources[key] = key
            self.taken_keys.add(key)
            self.result.new_sources.append(key)

    def _person_missing(self, name: str) -> bool:
        if self.bulk.find_person(name, field="about") is not None:  # ambiguous: refused
            self.people[name] = True
            return False
        if not self.create_missing:
            self.bulk.person(name, field="about")  # NotFound, with the nearest names
        return True

    def _source_key(self, ref: str) -> str | None:
        if self.create_missing:
            # Every known key and title is in self.sources; ids and other cases are not.
            return self.sources.get(ref.lower())
        try:
            return self.bulk.source_key(ref)
        except (NotFound, InvalidValue):
            raise NotFound(f"no source {ref!r} (by key or title) in the ledger; add it "
                           "first, or import with --create-missing") from None

    def _new_key(self, ref: str) -> str:
        try:
            base = values.key(ref)
        except InvalidValue:
            base = values.slugify(ref, max_bytes=56) or "source"
        return shapes.next_free(base, self.taken_keys)

    @staticmethod
    def _source_record(key: str, ref: str, fields: dict[str, str]) -> dict[str, Any]:
        record: dict[str, Any] = {"type": "source", "key": key,
                                  "title": fields.get("source_title") or ref}
        for name in ("publisher", "author", "url", "published", "kind", "language"):
            if fields.get(f"source_{name}"):
                record[name] = fields[f"source_{name}"]
        return record

    def _import(self, row: Row, records: list[dict[str, Any]]) -> None:
        point = self.bulk.checkpoint()
        warned = len(self.bulk.result.warnings)
        try:
            for record in records:
                self.bulk.add(record)
        except LedgerError:
            self.bulk.rollback(point)
            raise
        self.result.warnings.extend(f"line {row.line}: {w}"
                                    for w in self.bulk.result.warnings[warned:])


# --- export ---------------------------------------------------------------------------------


def export_rows(session: Session) -> Iterator[dict[str, str]]:
    """One row per attribution of every claim (one row for a claim without sources)."""
    from ledger.store import reads

    sources = {s.key: s for s in reads.source_infos(session).values()}
    for record in reads.claim_records(session, with_id=False):
        base = {
            "uid": record["uid"], "statement": record["statement"],
            "about": join_list(record["about"]), "targets": join_list(record["targets"]),
            "mentioned": join_list(record["mentioned"]), "claimant": record["claimant"],
            "occurred": record["occurred"], "status": record["status"],
            "retraction_reason": record.get("retraction_reason"),
        }
        if not record["attributions"]:
            yield _cells(base)
            continue
        for attribution in record["attributions"]:
            source = sources[attribution["source"]]
            yield _cells({**base, "attribution_uid": attribution["uid"],
                          "source": source.key, "quote": attribution["quote"],
                          "voice": attribution["voice"], "sourcing": attribution["sourcing"],
                          "source_title": source.title, "source_publisher": source.publisher,
                          "source_url": source.url, "source_published": source.published,
                          "source_kind": source.kind})


def _cells(row: dict[str, Any]) -> dict[str, str]:
    return {name: neutralize("" if row.get(name) is None else str(row[name]))
            for name in EXPORT_COLUMNS}


def dump_csv(rows: Iterator[dict[str, str]]) -> Iterator[str]:
    """The rows as CSV text chunks, with a header row (RFC 4180: CRLF, quotes as needed)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
