"""Verify before and after a change, beside its floor: interleaved, medians.

    python3 tests/benchmarks/verify_before_after.py CLAIMS RUNS BEFORE_TREE AFTER_TREE

Each round runs `run_all.py --child verify` from BEFORE_TREE, then from AFTER_TREE, then
`--child verify_floor`, each in its own process with its tree's `.venv`, on the cached
ledger in /tmp/ledger-bench (run_all.py builds it); it prints each figure and the medians.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys


def run(tree: str, name: str, claims: int) -> dict:
    done = subprocess.run(
        [f"{tree}/.venv/bin/python", f"{tree}/tests/benchmarks/run_all.py", "--child", name,
         "--workdir", "/tmp/ledger-bench", "--child-args", json.dumps([[claims], {}])],
        capture_output=True, text=True, check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    claims, runs, before, after = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    results: dict[str, list[dict]] = {"before": [], "after": [], "floor": []}
    for _ in range(runs):
        for key, tree, name in (("before", before, "verify"), ("after", after, "verify"),
                                ("floor", after, "verify_floor")):
            result = run(tree, name, claims)
            results[key].append(result)
            print(key, round(result["seconds"], 2), round(result.get("peak_mb", 0)), flush=True)
    median = {k: statistics.median(r["seconds"] for r in v) for k, v in results.items()}
    peak = {k: round(max(r.get("peak_mb", 0) for r in v)) for k, v in results.items()}
    floor = median["floor"]
    print(f"{claims}: before {median['before']:.2f} s ({median['before'] / floor:.1f}x), "
          f"after {median['after']:.2f} s ({median['after'] / floor:.1f}x), floor {floor:.2f} s; "
          f"peak MB {peak}")


if __name__ == "__main__":
    main()
