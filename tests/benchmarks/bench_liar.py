"""Benchmark: LIAR end to end (12.8k statements, 3.3k speakers): the CSV import into a new
ledger, then every speaker's dossier published as Markdown and as HTML, each step timed (wall
and CPU seconds) in a child process of its own.

    python tests/benchmarks/bench_liar.py [--baseline-commit 080dba1] [--rounds 3]
                                          [--workdir /tmp/ledger-bench/liar] [--keep]

With `--baseline-commit`, that commit's code runs too, from a temporary `git worktree` and a
venv of its own (its `ledger/` and `tests/liar_import.py` first on the path, this venv's
packages behind them), the two alternating step by step (who goes first changes each
round), at the same priority, so both see the same machine. Both trees are compiled to
bytecode first, as an installed package is, and a publish's files are counted after its
clock stops. CPU is each child's with everything it waited for (`RUSAGE_CHILDREN`: the
publish workers too); figures are medians over the rounds.
Each tree runs its own LIAR recipe (`tests/liar_import.py`). Prints each step, the totals and
the ratio of this tree's total to the baseline's (the issue 13 target: under 1/3). The import
floor (the rows the import wrote, copied with raw `executemany` into a new ledger, search
index rebuilt once) is measured for this tree. Not collected by pytest; see
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LIAR = ROOT.parent / "shared" / "data" / "liar"
STEPS = ("import", "publish_md", "publish_html")


# --- in the child: one tree's code, one run -----------------------------------------------------


def peak_mb() -> float:
    """This process's peak resident memory in MB (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _publish(engine, out: Path, *, html: bool):
    """`ledger.publish.publish` as this tree has it: drafts included where the tree only
    publishes reviewed claims (LIAR has no reviews), every core where it runs in parallel."""
    import inspect

    from ledger.publish import publish

    options = inspect.signature(publish).parameters
    extra = {"drafts": True} if "drafts" in options else {}
    return publish(engine, out, html=html, **extra)


def child(tree: Path, out: Path, step: str) -> dict:
    """Run one step with `tree`'s code (its ledger package is first on sys.path)."""
    sys.path.insert(0, str(tree / "tests"))
    db = out / "liar.db"
    wall, cpu = time.perf_counter(), time.process_time()
    figures: dict = {}
    if step == "import":
        from liar_import import import_liar

        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        figures["created"] = import_liar(str(db), LIAR)
    else:
        from ledger.db import open_ledger

        site = out / step
        shutil.rmtree(site, ignore_errors=True)
        engine = open_ledger(str(db))
        result = _publish(engine, site, html=step == "publish_html")
        engine.dispose()
        figures["dossiers"] = result.people
    figures.update(wall=time.perf_counter() - wall, cpu=time.process_time() - cpu)
    if step != "import":
        # Counted after the clock stops: the walk is the benchmark's check, not the step.
        figures["files"] = sum(1 for p in site.rglob("*") if p.is_file())
    import ledger

    figures.update(peak_mb=peak_mb(), ledger=str(Path(ledger.__file__).parent))
    return figures


def child_import_floor(out: Path) -> dict:
    """The import's floor on the ledger the import just wrote (see run_all.copy_floor)."""
    sys.path.insert(0, str(HERE))
    from run_all import copy_floor

    return copy_floor(out / "liar.db", out / "floor.db")


# --- in the parent ------------------------------------------------------------------------------


def baseline_tree(commit: str, workdir: Path) -> tuple[Path, Path]:
    """A worktree of `commit` and a python that runs its code: (tree, python).

    The venv holds no packages of its own: a .pth puts the worktree first and this venv's
    site-packages behind it (same third-party versions; this tree's editable install is not
    loaded, since a .pth inside an added folder is not read).
    """
    tree = workdir / f"tree-{commit}"
    if not tree.exists():
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit],
            check=True,
            capture_output=True,
        )
    venv = workdir / f"venv-{commit}"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        site = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        ours = sysconfig_purelib()
        Path(site, "baseline.pth").write_text(f"{tree}\n{ours}\n", encoding="utf-8")
    return tree, python


def sysconfig_purelib() -> str:
    """This venv's site-packages."""
    import sysconfig

    return sysconfig.get_paths()["purelib"]


def run_child(python: Path, tree: Path, out: Path, step: str) -> dict:
    """One step in a child process at this process's priority. Its CPU is what the system
    counted for the child and everything it waited for (RUSAGE_CHILDREN: publish workers
    included), start-up included, the same for both trees; wall is the step's own."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = _run_child(python, tree, out, step)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return figures


def _run_child(python: Path, tree: Path, out: Path, step: str) -> dict:
    command = [
        str(python),
        str(Path(__file__).resolve()),
        "--child",
        step,
        "--tree",
        str(tree),
        "--out",
        str(out),
    ]
    # Bytecode written, as for an installed ledger (run_all.command_env): without it each
    # child compiles the tree's modules from source again, which no installed ledger does,
    # and the tree with more code pays more. Both trees are compiled before the first round.
    sys.path.insert(0, str(HERE))
    from run_all import command_env

    env = command_env(PYTHONPATH=str(tree))
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{step} with {tree} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def show(name: str, step: str, figures: dict) -> None:
    print(
        f"  {name:<10} {step:<13} {figures['wall']:8.1f} s wall "
        f"{figures['cpu']:8.1f} s CPU {figures['peak_mb']:6.0f} MB  "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-commit", help="also run this commit's code (e.g. 080dba1)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/ledger-bench/liar"))
    parser.add_argument("--keep", action="store_true", help="keep the baseline worktree")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "import_floor":
            print(json.dumps(child_import_floor(args.out)))
        else:
            print(json.dumps(child(args.tree, args.out, args.child)))
        return 0
    if not (LIAR / "train.tsv").exists():
        sys.exit(f"no LIAR data at {LIAR}")
    args.workdir.mkdir(parents=True, exist_ok=True)
    trees = {"this tree": (ROOT, Path(sys.executable))}
    if args.baseline_commit:
        trees["baseline"] = baseline_tree(args.baseline_commit, args.workdir)
    for tree, python in trees.values():  # as pip leaves an installed package: compiled
        subprocess.run([str(python), "-m", "compileall", "-q", str(tree / "ledger")],
                       check=True, stdout=subprocess.DEVNULL)
    results: dict[str, list[dict[str, dict]]] = {name: [] for name in trees}
    floors = []
    try:
        for round_ in range(args.rounds):
            # Step by step, the trees alternating (whoever goes first changes round by
            # round), so both see the same machine; each tree publishes its own import.
            order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
            outs = {name: Path(tempfile.mkdtemp(prefix="run-", dir=args.workdir)) for name in trees}
            try:
                runs: dict[str, dict[str, dict]] = {name: {} for name in trees}
                for step in STEPS:
                    for name in order:
                        tree, python = trees[name]
                        runs[name][step] = run_child(python, tree, outs[name], step)
                        show(name, step, runs[name][step])
                for name in trees:
                    results[name].append(runs[name])
                tree, python = trees["this tree"]
                floors.append(run_child(python, tree, outs["this tree"], "import_floor"))
            finally:
                for out in outs.values():
                    shutil.rmtree(out, ignore_errors=True)
    finally:
        if args.baseline_commit and not args.keep:
            tree = trees["baseline"][0]
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                capture_output=True,
            )
    print()
    print(
        f"LIAR end to end, {args.rounds} round(s), median wall (CPU) seconds; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    totals = {}
    for name, runs in results.items():
        cells = []
        for step in (*STEPS, "total"):
            if step == "total":
                wall = statistics.median(sum(r[s]["wall"] for s in STEPS) for r in runs)
                cpu = statistics.median(sum(r[s]["cpu"] for s in STEPS) for r in runs)
                totals[name] = (wall, cpu)
            else:
                wall = statistics.median(r[step]["wall"] for r in runs)
                cpu = statistics.median(r[step]["cpu"] for r in runs)
            cells.append(f"{step} {wall:.1f} ({cpu:.1f})")
        print(f"  {name:<10} " + "  ".join(cells))
    if floors:
        floor = statistics.median(f["seconds"] for f in floors)
        ours = statistics.median(r["import"]["wall"] for r in results["this tree"])
        print(
            f"  import floor (raw executemany of its {floors[0]['rows']:,} rows + FTS "
            f"rebuild): {floor:.2f} s; import {ours:.2f} s, ratio {ours / floor:.2f}x"
        )
    if "baseline" in totals:
        (ours, ours_cpu), (old, old_cpu) = totals["this tree"], totals["baseline"]
        print(
            f"  this tree / baseline {args.baseline_commit}: {ours / old:.2f}x wall, "
            f"{ours_cpu / old_cpu:.2f}x CPU (target: under 0.33x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
