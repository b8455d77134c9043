"""Import the LIAR dataset into a ledger through the CSV import (the recipe in docs/liar.md).

    python tests/liar_import.py LEDGER_DB [LIAR_DIR]

LIAR_DIR defaults to ../shared/data/liar beside the repository. Prints what was imported.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAPPING = REPO / "docs" / "liar-mapping.yaml"
DEFAULT_DIR = REPO.parent / "shared" / "data" / "liar"
PARTS = ("train.tsv", "valid.tsv", "test.tsv")


def import_liar(db: str, folder: Path = DEFAULT_DIR,
                refused: list[tuple[int, str]] | None = None) -> dict[str, int]:
    """Import every LIAR part in one transaction; return the created counts.

    The ledger refuses a few LIAR rows (a control character in a statement; a statement a
    speaker made twice with different verdicts): the rows are imported as a dry run, which
    leaves out exactly the refused rows, and the transaction is committed. The refused rows
    (line, reason) are appended to `refused` when it is given.
    """
    from ledger.db import open_ledger, transaction
    from ledger.io.csv_io import import_csv, load_mapping, read_rows

    mapping = load_mapping(MAPPING)
    rows = []
    for part in PARTS:
        rows.extend(read_rows(folder / part, mapping))
    engine = open_ledger(db)
    with transaction(engine, actor="liar-import") as session:
        result = import_csv(session, rows, create_missing=True, dry_run=True,
                            separator=mapping.separator)
    engine.dispose()
    if refused is not None:
        refused.extend(result.refused)
    return result.created


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    refused: list[tuple[int, str]] = []
    created = import_liar(sys.argv[1], Path(sys.argv[2]) if len(sys.argv) == 3 else DEFAULT_DIR,
                          refused)
    print(", ".join(f"{n} {kind}" for kind, n in created.items() if n))
    for line, reason in refused:
        print(f"refused: line {line}: {reason}")
