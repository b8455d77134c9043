"""`ledger import` and `ledger export`: the bundle (JSONL, JSON, YAML), CSV and ClaimReview."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import Json, Strict, emit_json, info, progress_bar, state, warn

Format = Annotated[str | None, typer.Option(
    "--format", help="jsonl | json | yaml | csv | claimreview (default: from the file's "
    "extension, else jsonl; .csv and .tsv are csv).")]


def import_(ctx: typer.Context,
            file: Annotated[str, typer.Argument(help="The file to import.")],
            format: Format = None, strict: Strict = False, json: Json = False,
            map_: Annotated[list[str] | None, typer.Option(
                "--map", help="csv: FIELD=COLUMN (a header name, or a 1-based number), e.g. "
                "statement=Claim; repeatable.")] = None,
            mapping: Annotated[str | None, typer.Option(
                "--mapping", help="csv: a JSON or YAML mapping file (columns, values, "
                "defaults, header, delimiter).")] = None,
            delimiter: Annotated[str | None, typer.Option(
                "--delimiter", help="csv: the cell delimiter (default , or tab for .tsv).")]
            = None,
            no_header: Annotated[bool, typer.Option(
                "--no-header", help="csv: the first row is data (map columns by number).")]
            = False,
            create_missing: Annotated[bool, typer.Option(
                "--create-missing", help="csv: create the people and sources the ledger does "
                "not know.")] = False,
            dry_run: Annotated[bool, typer.Option(
                "--dry-run", help="csv: report what would be created and the rows that "
                "would be refused (counts, and at most 20 of each); write nothing.")] = False,
            verbose: Annotated[bool, typer.Option(
                "--verbose", help="csv, with --dry-run: list every new person, new source "
                "and refused row.")] = False) -> None:
    """Import a bundle, a CSV of claims or ClaimReview JSON-LD, in one transaction.

    A bad record (or CSV row) anywhere means nothing is written. Records may refer to earlier
    ones by person name or alias, source key and claim ref. Records already in the ledger
    (same uid, or same natural key) are skipped, so importing a file twice changes nothing;
    one whose content differs is refused, naming the fields.

    \b
    Examples:
      ledger import story.jsonl
      ledger import claims.csv --map statement=Claim --map about=Person --create-missing
      ledger import claims.csv --mapping liar.yaml --create-missing --dry-run
      ledger import factchecks.json --format claimreview
    """
    fmt = _format_of(file, format)
    if fmt == "csv":
        _import_csv(ctx, file, map_ or [], mapping, delimiter, no_header, create_missing,
                    dry_run, strict, json, verbose)
        return
    if map_ or mapping or delimiter or no_header or create_missing or dry_run or verbose:
        from ledger.errors import InvalidValue

        raise InvalidValue("--map, --mapping, --delimiter, --create-missing, --dry-run and "
                           "--verbose are for --format csv")
    from ledger.io.bundle import import_file, import_records

    warnings: list[str] = []
    with progress_bar("Importing") as progress, state(ctx).write() as session:
        if progress:
            progress("records", 0, 0)  # a spinner with the elapsed time
        if fmt == "claimreview":
            from ledger.io.claimreview import read_reviews, review_records

            records = review_records(session, read_reviews(Path(file)), warnings=warnings)
            result = import_records(session, records, strict=strict)
        else:
            result = import_file(session, Path(file), fmt=fmt, strict=strict)
    result.warnings[:0] = warnings
    for message in result.warnings:
        warn(message)
    if json:
        emit_json({"created": result.created, "skipped": result.skipped,
                   "warnings": result.warnings})
    else:
        info(result.summary().capitalize())


def _format_of(file: str, fmt: str | None) -> str:
    from ledger import values

    allowed = ("jsonl", "json", "yaml", "csv", "claimreview")
    if fmt:
        return values.choice(fmt, field="format", allowed=allowed)
    suffix = Path(file).suffix.lower()
    return "csv" if suffix in (".csv", ".tsv") else {".yml": "yaml", ".yaml": "yaml",
                                                     ".json": "json"}.get(suffix, "jsonl")


def _import_csv(ctx, file, map_options, mapping, delimiter, no_header, create_missing, dry_run,
                strict, json, verbose) -> None:
    from ledger.io.csv_io import import_csv, load_mapping, read_rows

    spec = load_mapping(Path(mapping) if mapping else None, map_options=map_options,
                        delimiter=delimiter, no_header=no_header)
    rows = read_rows(Path(file), spec)
    with progress_bar("Importing") as bar, state(ctx).write() as session:
        def progress(done: int, total: int) -> None:
            if bar is not None:
                bar("rows", done, total)

        result = import_csv(session, rows, create_missing=create_missing, dry_run=dry_run,
                            strict=strict, progress=progress, separator=spec.separator)
        if dry_run:
            session.rollback()
    for message in result.warnings:
        warn(message)
    if json:
        emit_json(result.as_dict())
        return
    info(result.summary().capitalize())
    if dry_run:
        shown = None if verbose else DRY_RUN_EXAMPLES
        _examples("New people", result.new_people, shown)
        _examples("New sources", result.new_sources, shown)
        _examples("Refused rows", [f"line {line}: {error}" for line, error in result.refused],
                  shown)


# What `import --dry-run` shows of each list without --verbose.
DRY_RUN_EXAMPLES = 20


def _examples(title: str, items: list[str], shown: int | None) -> None:
    """A count, then one item a line: all of them, or the first `shown`."""
    if not items:
        return
    if shown is None or len(items) <= shown:
        info(f"{title} ({len(items)}):")
    else:
        info(f"{title} ({len(items)}; the first {shown}, --verbose lists all):")
    for item in items[:shown] if shown is not None else items:
        info(f"  {item}")


def export(ctx: typer.Context,
           format: Annotated[str, typer.Option(
               "--format", help="jsonl | json | yaml | csv | claimreview.")] = "jsonl",
           out: Annotated[str | None, typer.Option(
               "--out", help="Write to this file (atomically) instead of stdout.")] = None,
           publisher: Annotated[str | None, typer.Option(
               "--publisher", envvar="LEDGER_PUBLISHER", help="claimreview: the publishing "
               "organization [default: Fact Ledger].", show_default=False)] = None,
           base_url: Annotated[str | None, typer.Option(
               "--base-url", envvar="LEDGER_BASE_URL", help="claimreview: where the published "
               "dossiers live; review URLs are BASE/people/SLUG.html#claim-ID.")] = None
           ) -> None:
    """Export the ledger: a bundle that `ledger import` reads back, CSV or ClaimReview.

    csv writes one row per claim and source (cells that a spreadsheet would run as a formula
    get a leading apostrophe); claimreview writes schema.org ClaimReview JSON-LD for every
    assessed claim.

    \b
    Examples:
      ledger export --out ledger.jsonl
      ledger export --format csv --out claims.csv
      ledger export --format claimreview --publisher "Example News" --out reviews.json
    """
    from ledger import values

    fmt = values.choice(format, field="format",
                        allowed=("jsonl", "json", "yaml", "csv", "claimreview"))
    with state(ctx).read() as session:
        if fmt == "csv":
            from ledger.io.csv_io import dump_csv, export_rows

            chunks = dump_csv(export_rows(session))
        elif fmt == "claimreview":
            from ledger.io.claimreview import dump_reviews, export_reviews

            if not base_url:
                warn("without --base-url (or LEDGER_BASE_URL) the review URLs are relative "
                     "(people/SLUG.html#claim-ID); Google's tools need absolute URLs")

            chunks = dump_reviews(export_reviews(session, publisher=publisher,
                                                 base_url=base_url))
        else:
            from ledger.io.bundle import dump, export_records

            chunks = dump(export_records(session), fmt=fmt)
        with progress_bar("Exporting") as progress:
            if progress:
                chunks = _counted(chunks, progress)
            if out is None:
                for chunk in chunks:
                    sys.stdout.write(chunk)
                return
            write_atomically(Path(out), chunks)
    info(f"Exported to {out}")


def _counted(chunks, progress):
    """The chunks, unchanged, reporting how many have gone out (the total is not known)."""
    for done, chunk in enumerate(chunks, start=1):
        yield chunk
        if done % 200 == 0:
            progress("records", done, 0)


def write_atomically(path: Path, chunks) -> None:
    """Write text to a temporary file beside `path`, then rename it into place (durably, with
    the mode the umask gives a new file: see `ledger.outfiles`)."""
    from ledger.errors import LedgerError
    from ledger.outfiles import write_atomically as write_file

    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise LedgerError(f"--out: the folder {str(folder)!r} does not exist")
    write_file(path, (chunk.encode("utf-8") for chunk in chunks), durable=True)
