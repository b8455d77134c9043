"""Backups of SQLite ledgers through SQLite's online backup API."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ledger.db import database_url, sqlite_path
from ledger.errors import Conflict, LedgerError


def backup_sqlite(db: str | None, dest: str | os.PathLike[str]) -> Path:
    """Copy the SQLite ledger at `db` to `dest`, consistently, while writers may run.

    The copy is written beside `dest` and renamed into place, so `dest` is never half a file.
    """
    path = sqlite_path(database_url(db))
    if path is None:
        raise LedgerError("`ledger backup` copies SQLite ledgers; for PostgreSQL use pg_dump, "
                          "e.g. pg_dump --format=custom -f ledger.dump \"$LEDGER_DB\"")
    target = Path(dest)
    if target.exists():
        raise Conflict(f"{str(target)!r} already exists; choose a new file name")
    if not (target.parent if str(target.parent) else Path(".")).is_dir():
        raise LedgerError(f"the folder for {str(target)!r} does not exist")
    partial = target.with_name(f".{target.name}.partial")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=1024)
            copy.execute("PRAGMA journal_mode = DELETE")
        finally:
            copy.close()
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc)
        raise LedgerError(f"the backup to {str(target)!r} failed ({detail}); nothing was "
                          "written there. Free some space (or choose another disk) and run it "
                          "again") from None
    finally:
        source.close()
        partial.unlink(missing_ok=True)
    return target
