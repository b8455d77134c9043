"""`ledger import` and `ledger export`: the bundle (JSONL, JSON, YAML)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import Json, Strict, emit_json, info, state, warn

Format = Annotated[str | None, typer.Option("--format", help="jsonl | json | yaml (default: "
                                            "from the file's extension, else jsonl).")]


def import_(ctx: typer.Context,
            file: Annotated[str, typer.Argument(help="The bundle to import.")],
            format: Format = None, strict: Strict = False, json: Json = False) -> None:
    """Import a bundle in one transaction: a bad record anywhere means nothing is written.

    Records may refer to earlier ones by person name or alias, source key and claim ref.
    Records already in the ledger (same uid, or same natural key) are skipped, so importing
    a file twice changes nothing.

    \b
    Example:
      ledger import story.jsonl
    """
    from ledger.io.bundle import import_records, read_records

    records = read_records(Path(file), fmt=format)
    with state(ctx).write() as session:
        result = import_records(session, records, strict=strict)
    for message in result.warnings:
        warn(message)
    if json:
        emit_json({"created": result.created, "skipped": result.skipped,
                   "warnings": result.warnings})
    else:
        info(result.summary().capitalize())


def export(ctx: typer.Context,
           format: Annotated[str, typer.Option("--format", help="jsonl | json | yaml.")]
           = "jsonl",
           out: Annotated[str | None, typer.Option(
               "--out", help="Write to this file (atomically) instead of stdout.")] = None
           ) -> None:
    """Export the whole ledger as a bundle that `ledger import` reads back.

    \b
    Example:
      ledger export --out ledger.jsonl
    """
    from ledger.io.bundle import dump, export_records

    with state(ctx).read() as session:
        chunks = dump(export_records(session), fmt=format)
        if out is None:
            for chunk in chunks:
                sys.stdout.write(chunk)
            return
        write_atomically(Path(out), chunks)
    info(f"Exported to {out}")


def write_atomically(path: Path, chunks) -> None:
    """Write text to a temporary file beside `path`, then rename it into place."""
    from ledger.errors import LedgerError

    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise LedgerError(f"--out: the folder {str(folder)!r} does not exist")
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            for chunk in chunks:
                stream.write(chunk)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
