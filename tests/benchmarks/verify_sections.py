"""Verify's table checks timed one by one (the chain left out), before and after a change.

    python3 tests/benchmarks/verify_sections.py CLAIMS RUNS BEFORE_TREE AFTER_TREE

For each of RUNS rounds, in this order, a process with BEFORE_TREE's `.venv` then one with
AFTER_TREE's runs every `ledger.store.replay` table check on the cached ledger in
/tmp/ledger-bench (run_all.py builds it) and times each; it prints the medians in seconds.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

CHILD = """
import json, sys, time
from ledger import db
from ledger.store import replay
engine = db.make_engine(f"sqlite:////tmp/ledger-bench/logged-{int(sys.argv[1])}.db")
out = {}
with db.reading(engine) as session:
    for check in (replay._people, replay._sources, replay._links, replay._claims,
                  replay._attributions, replay._responses, replay._replies, replay._reviews):
        report = replay.VerifyReport(chain=None)
        started = time.perf_counter()
        check(session, report)
        out[check.__name__.lstrip("_")] = time.perf_counter() - started
        assert report.total_differences == 0, report.differences[:3]
out["tables"] = sum(out.values())
print(json.dumps(out))
"""


def main() -> None:
    claims, runs, before, after = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    results: dict[str, list[dict]] = {"before": [], "after": []}
    for _ in range(runs):
        for key, tree in (("before", before), ("after", after)):
            done = subprocess.run([f"{tree}/.venv/bin/python", "-c", CHILD, claims],
                                  capture_output=True, text=True, check=True, cwd="/tmp")
            results[key].append(json.loads(done.stdout.strip().splitlines()[-1]))
    for key, found in results.items():
        medians = {name: round(statistics.median(r[name] for r in found), 3) for name in found[0]}
        print(key, json.dumps(medians))


if __name__ == "__main__":
    main()
