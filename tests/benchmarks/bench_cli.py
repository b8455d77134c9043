"""Start-up cost of the command line, beside its peers, measured in the same run.

    python tests/benchmarks/bench_cli.py [--runs 15]

Prints the median wall time of `ledger --help` beside `sqlite-utils --help`, and of
`ledger claim add` beside the floor of this stack, `python -c "import os, sqlmodel, typer;
os._exit(0)"` (the ledger's console script ends with os._exit too), run alternately.
Targets: --help at most 1.2x its peer; claim add at most 1.1x the floor.
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


# The floor of `ledger claim add`: the stack's import, ended the way the ledger's console
# script ends (os._exit, no interpreter teardown).
FLOOR = "import os, sqlmodel, typer; os._exit(0)"


def wall(command: list[str], env: dict[str, str]) -> float:
    """The wall time of one run of `command`."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def median_wall(command: list[str], runs: int, env: dict[str, str]) -> float:
    return statistics.median(wall(command, env) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    sqlite_utils = shutil.which("sqlite-utils", path=str(BIN)) or shutil.which("sqlite-utils")
    if sqlite_utils is None:
        sys.exit("sqlite-utils is needed as the --help peer: pip install sqlite-utils")
    ledger = str(BIN / "ledger")
    with tempfile.TemporaryDirectory() as folder:
        # Bytecode written, as for an installed ledger (see run_all.command_env).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(LEDGER_DB=str(Path(folder) / "bench.db"), LEDGER_ACTOR="bench")
        subprocess.run([ledger, "init"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run([ledger, "person", "add", "Han Dong"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        counter = iter(range(10**6))

        def claim_add() -> list[str]:
            return [ledger, "claim", "add", f"Claim {next(counter)}", "--about", "Han Dong"]

        rows = []
        for label, ours, peer_label, peer in [
            ("ledger --help", [ledger, "--help"], "sqlite-utils --help",
             [sqlite_utils, "--help"]),
            ("ledger claim add", None, "import sqlmodel, typer; _exit",
             [sys.executable, "-c", FLOOR]),
        ]:
            peer_times, our_times = [], []
            for _ in range(args.runs):  # alternately, so both see the same load
                peer_times.append(wall(peer, env))
                our_times.append(wall(ours or claim_add(), env))
            peer_time, our_time = statistics.median(peer_times), statistics.median(our_times)
            rows.append((label, our_time, peer_label, peer_time))
    print(f"{'operation':<20} {'ledger ms':>10}   {'baseline':<24} {'ms':>8} {'ratio':>6}")
    for label, ours, peer_label, peer in rows:
        print(f"{label:<20} {ours * 1000:>10.1f}   {peer_label:<24} {peer * 1000:>8.1f} "
              f"{ours / peer:>6.2f}")


if __name__ == "__main__":
    main()
