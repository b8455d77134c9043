"""Start-up cost of the command line, beside its peers, measured in the same run.

    python tests/benchmarks/bench_cli.py [--runs 15]

Prints the median wall time of `ledger --help` beside `sqlite-utils --help`, and of
`ledger claim add` beside the floor of this stack, `python -c "import sqlmodel, typer"`.
Targets: --help at most 1.2x its peer; claim add at most 1.3x the floor.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def median_wall(command: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    sqlite_utils = shutil.which("sqlite-utils", path=str(BIN)) or shutil.which("sqlite-utils")
    if sqlite_utils is None:
        sys.exit("sqlite-utils is needed as the --help peer: pip install sqlite-utils")
    ledger = str(BIN / "ledger")
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, LEDGER_DB=str(Path(folder) / "bench.db"), LEDGER_ACTOR="bench")
        subprocess.run([ledger, "person", "add", "Han Dong"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        counter = iter(range(10**6))

        def claim_add() -> list[str]:
            return [ledger, "claim", "add", f"Claim {next(counter)}", "--about", "Han Dong"]

        rows = []
        for label, ours, peer_label, peer in [
            ("ledger --help", [ledger, "--help"], "sqlite-utils --help",
             [sqlite_utils, "--help"]),
            ("ledger claim add", None, "import sqlmodel, typer",
             [sys.executable, "-c", "import sqlmodel, typer"]),
        ]:
            peer_time = median_wall(peer, args.runs, env)
            if ours is None:
                times = []
                for _ in range(args.runs):
                    command = claim_add()
                    start = time.perf_counter()
                    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
                    times.append(time.perf_counter() - start)
                our_time = statistics.median(times)
            else:
                our_time = median_wall(ours, args.runs, env)
            rows.append((label, our_time, peer_label, peer_time))
    print(f"{'operation':<20} {'ledger ms':>10}   {'baseline':<24} {'ms':>8} {'ratio':>6}")
    for label, ours, peer_label, peer in rows:
        print(f"{label:<20} {ours * 1000:>10.1f}   {peer_label:<24} {peer * 1000:>8.1f} "
              f"{ours / peer:>6.2f}")


if __name__ == "__main__":
    main()
