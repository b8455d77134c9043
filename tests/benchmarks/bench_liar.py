"""Benchmark: import the whole LIAR set (12.8k statements, 3.3k speakers) through the CSV import,
then publish every speaker's dossier (Markdown and HTML). Prints seconds for each step.

    python tests/benchmarks/bench_liar.py [OUT_DIR]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from liar_import import import_liar


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="liar-"))
    db = str(out / "liar.db")
    started = time.perf_counter()
    created = import_liar(db)
    imported = time.perf_counter()
    print(f"import: {imported - started:.1f} s ({created})")
    from ledger.db import open_ledger
    from ledger.publish import publish

    engine = open_ledger(db)
    result = publish(engine, out / "site", html=True)
    print(f"publish: {time.perf_counter() - imported:.1f} s ({result.people} dossiers, "
          f"{result.sources} source pages)")


if __name__ == "__main__":
    main()
