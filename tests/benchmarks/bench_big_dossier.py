"""Benchmark: publish a ledger where one person holds tens of thousands of claims.

    .venv/bin/python tests/benchmarks/bench_big_dossier.py [--claims 10000,50000]
        [--formats md,html] [--workdir /tmp/ledger-bench-big] [--baseline-tree DIR]
        [--rounds 1]

Issue 17 item 14: a dossier of one person with 50,000 claims must publish as HTML under
500 MB. For each size this builds (once, cached in `--workdir`) a ledger by the bulk import
of a bundle in which every claim is about one person, "Big Person": two attributions each
(quoting the sources' stored text), a target on one claim in three, a claimant on one in
four, a response by the subject on one in two and a reply request on one in four; a few
other people, who also answer and allege a few claims, and 200 sources.

Then it publishes the whole site (`ledger.publish.publish`, `jobs=1`, `drafts=True`: the
ledger has no reviews) as Markdown and as HTML, each in a child process of its own, and
prints the child's peak resident memory (`ru_maxrss` from `os.wait4`, so the figure is that
child's alone), wall seconds and CPU seconds (user + system):

    RESULT claims=50000 format=html tree=this peak_mb=... wall_s=... cpu_s=... files=...

`--baseline-tree DIR` (a checkout of an older commit, e.g. `git worktree add DIR main`)
runs the same publishes with that tree's `ledger` first on the path, alternating with this
tree's round by round, so the two are measured under the same load. The ledgers are built
with this tree's code (the schema must be the same). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIG = "Big Person"
OTHERS = 20
SOURCES = 200
KINDS = ("denial", "partial-denial", "confirmation", "no-comment", "official-response", "action")


def _words(n: int, seed: int) -> str:
    return " ".join(f"w{(seed * 7919 + k * 104729) % 5000}" for k in range(n))


def records(claims: int):
    """The bundle records: one person with `claims` claims, a few others, 200 sources."""
    yield {"type": "person", "name": BIG, "kind": "person", "description": "Holds every claim."}
    for i in range(1, OTHERS + 1):
        yield {"type": "person", "name": f"Other {i}", "kind": "person"}
    texts = {}
    for i in range(1, SOURCES + 1):
        texts[i] = _words(200, i)
        record = {
            "type": "source",
            "key": f"src-{i}",
            "title": f"Report number {i}",
            "publisher": f"Outlet {i % 20}",
            "published": f"2023-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
            "kind": "article",
            "url": f"https://news{i % 20}.example/story/{i}",
            "text": texts[i],
        }
        if i > 1 and i % 3 != 1:
            record["cites"] = [f"src-{i - 1}"]
        yield record
    for i in range(1, claims + 1):
        attributions = []
        for k in (1, 13):
            source = (i * k) % SOURCES + 1
            words = texts[source].split(" ")
            start = (i * 7 + k) % (len(words) - 10)
            attributions.append(
                {
                    "source": f"src-{source}",
                    "quote": " ".join(words[start : start + 8]),
                    "voice": "two unnamed officials" if k == 1 else "a minister",
                    "sourcing": "anonymous" if k == 1 else "named",
                }
            )
        record = {
            "type": "claim",
            "ref": f"c{i}",
            "statement": f"Big Person did thing {i}: {_words(10, i)}",
            "about": [BIG],
            "occurred": f"20{20 + i % 4}-{i % 12 + 1:02d}",
            "status": "disputed" if i % 5 else "unverified",
            "attributions": attributions,
        }
        if i % 3 == 0:
            record["targets"] = [f"Other {i % OTHERS + 1}"]
        if i % 4 == 0:
            record["claimant"] = f"Other {(i * 7) % OTHERS + 1}"
        yield record
        if i % 2 == 0:
            yield {
                "type": "response",
                "claim": f"c{i}",
                "by": BIG,
                "kind": KINDS[i % len(KINDS)],
                "date": "2023-04-01",
                "source": f"src-{i % SOURCES + 1}",
                "quote": f"I deny claim {i}",
                "summary": "Denies it.",
            }
        if i % 4 == 0:
            yield {
                "type": "reply",
                "claim": f"c{i}",
                "to": BIG,
                "sent": "2023-03-01",
                "deadline": "2023-03-08",
                "channel": "email",
            }
    # What Big Person says and alleges about others: the first page's statements.
    for i in range(1, 51):
        yield {
            "type": "claim",
            "ref": f"o{i}",
            "statement": f"Other {i % OTHERS + 1} did {i}",
            "about": [f"Other {i % OTHERS + 1}"],
            "claimant": BIG,
            "attributions": [{"source": f"src-{i}", "voice": "a spokesperson"}],
        }
        yield {
            "type": "response",
            "claim": f"o{i}",
            "by": BIG,
            "kind": "official-response",
            "date": "2023-05-01",
            "summary": f"Comment {i}.",
        }


def build(db: Path, claims: int) -> float:
    """Write the bundle and import it into a new ledger at `db`; returns seconds."""
    from ledger.db import open_ledger, transaction
    from ledger.io.bundle import import_file

    started = time.perf_counter()
    bundle = db.with_suffix(".jsonl")
    with bundle.open("w", encoding="utf-8") as out:
        for record in records(claims):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    part = db.with_suffix(".part.db")
    part.unlink(missing_ok=True)
    engine = open_ledger(str(part))
    with transaction(engine, actor="bench") as session:
        import_file(session, bundle)
    engine.dispose()
    part.replace(db)
    bundle.unlink()
    return time.perf_counter() - started


def child(db: Path, out: Path, fmt: str) -> dict:
    """One publish, in this (child) process."""
    import ledger
    from ledger.db import open_ledger
    from ledger.publish import publish

    engine = open_ledger(str(db))
    started = time.perf_counter()
    result = publish(engine, out, html=fmt == "html", jobs=1, drafts=True)
    return {
        "wall_s": round(time.perf_counter() - started, 2),
        "files": len(result.files),
        "code": str(Path(ledger.__file__).parent.parent),
    }


def measure(db: Path, out: Path, fmt: str, tree: Path | None) -> dict:
    """Run `child` in a fresh interpreter; its peak RSS and CPU from `os.wait4`."""
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(tree), env.get("PYTHONPATH"))))
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        fmt,
        "--db",
        str(db),
        "--out",
        str(out),
    ]
    started = time.perf_counter()
    # Output to files, not pipes: `os.wait4` (the child's own rusage) never reads a pipe.
    with (
        open(out.with_suffix(".stdout"), "w+b") as stdout,
        open(out.with_suffix(".stderr"), "w+b") as stderr,
    ):
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env, cwd=tree or ROOT)
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read().decode(), stderr.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"publish child failed:\n{errors}")
    figures = json.loads(output.strip().splitlines()[-1])
    figures.update(
        peak_mb=round(usage.ru_maxrss / 1024),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 2),
        process_wall_s=round(wall, 2),
    )
    shutil.rmtree(out, ignore_errors=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--claims", default="10000,50000", help="comma-separated sizes (claims of the one person)"
    )
    parser.add_argument("--formats", default="md,html")
    parser.add_argument("--workdir", default="/tmp/ledger-bench-big")
    parser.add_argument("--baseline-tree", help="an older checkout to measure alternately")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--trees",
        default="this,baseline",
        help="which trees to measure, in this order (baseline needs --baseline-tree)",
    )
    parser.add_argument("--child", choices=("md", "html"), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.db), Path(args.out), args.child)), flush=True)
        return
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    known = {"this": None}
    if args.baseline_tree:
        known["baseline"] = Path(args.baseline_tree).resolve()
    trees = [(name, known[name]) for name in args.trees.split(",") if name in known]
    for claims in (int(c) for c in args.claims.split(",")):
        db = work / f"big-{claims}.db"
        if not db.exists():
            print(f"building {db} ...", file=sys.stderr, flush=True)
            print(f"built in {build(db, claims):.1f} s", file=sys.stderr, flush=True)
        for _round in range(args.rounds):
            for fmt in args.formats.split(","):
                for name, tree in trees:
                    figures = measure(db, work / f"out-{claims}-{fmt}-{name}", fmt, tree)
                    fields = " ".join(f"{k}={v}" for k, v in figures.items())
                    print(f"RESULT claims={claims} format={fmt} tree={name} {fields}", flush=True)


if __name__ == "__main__":
    main()
