"""Parallel publish (issue 13, item 4): `--jobs N` worker processes, the same bytes whatever N.

The byte-identical reports/ test (tests/test_publish.py) runs with the default (one worker
per core); these compare one worker with several, in both formats, with batches small enough
that every worker renders some, and check the manifest, the verify that runs alongside, and
the refusal of a bad --jobs. On both backends: a publish with workers really renders in
them, and a worker that dies, or cannot open the ledger, fails the publish (exit 1, one
`Error:` line, the folder as it was) instead of waiting for it forever.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("html", [False, True], ids=["markdown", "html"])
def test_one_worker_and_several_give_the_same_bytes(story, tmp_path: Path, html: bool) -> None:
    from ledger.db import open_ledger
    from ledger.publish import publish

    engine = open_ledger(story.db)
    sites = {}
    for jobs in (1, 2, 3):
        out = tmp_path / f"site-{jobs}"
        result = publish(engine, out, html=html, batch_size=4, jobs=jobs)
        assert result.people == 27 and result.sources == 7
        sites[jobs] = snapshot(out)
    engine.dispose()
    assert sites[1] == sites[2] == sites[3]
    manifest = json.loads(sites[2][".ledger-publish.json"])
    assert manifest["files"] == sorted(name for name in sites[2] if name != ".ledger-publish.json")
    assert ("people/han-dong.html" in sites[2]) is html


def test_the_cli_publishes_the_same_site_with_any_jobs(story, tmp_path: Path) -> None:
    story.ok("publish", "--html", "--jobs", "1", "--out", str(tmp_path / "one"))
    result = story.ok("publish", "--html", "--jobs", "2", "--out", str(tmp_path / "two"))
    assert "published 27 dossiers and 7 source pages" in result.err.lower()
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")
    # A second publish into the same folder keeps the unchanged pages (hard links) and
    # writes nothing new, with workers too.
    again = story.ok("publish", "--html", "--jobs", "2", "--out", str(tmp_path / "two"))
    assert "0 file(s) written" in again.err
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")


@pytest.mark.parametrize("jobs", ["0", "-1", "x"])
def test_a_bad_jobs_value_is_refused(story, tmp_path: Path, jobs: str) -> None:
    out = tmp_path / "site"
    result = story("publish", "--jobs", jobs, "--out", str(out))
    assert result.code == 2
    # Click's own check, as for --limit: its usage lines, then the one Error: line.
    errors = [line for line in result.err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "'--jobs'" in errors[0] and "Traceback" not in result.err
    assert not out.exists()


def test_the_library_refuses_a_bad_jobs_value(story, tmp_path: Path) -> None:
    from ledger.db import open_ledger
    from ledger.errors import InvalidValue
    from ledger.publish import publish

    for jobs in (0, -2, True):
        with pytest.raises(InvalidValue, match="--jobs"):
            publish(open_ledger(story.db), tmp_path / "site", jobs=jobs)
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_nothing_is_published_from_a_ledger_that_fails_verify(
    story, tmp_path: Path, jobs: str
) -> None:
    import sqlite3

    if not story.db.endswith(".db"):
        pytest.skip("edits the SQLite file directly")
    out = tmp_path / "site"
    story.ok("publish", "--out", str(out))
    before = snapshot(out)
    with sqlite3.connect(story.db) as connection:
        connection.execute("UPDATE claim SET statement = 'Rewritten behind the log' WHERE id = 1")
    result = story("publish", "--jobs", jobs, "--out", str(out))
    assert result.code == 1
    assert result.err.startswith("Error:") and "publish refuses to build from it" in result.err
    assert snapshot(out) == before
    assert not any(name.startswith(".site.publish") for name in os.listdir(tmp_path))


def test_workers_render_the_pages_on_both_backends(story, tmp_path: Path, monkeypatch) -> None:
    from ledger import publish as publishing

    record = tmp_path / "pids"
    render = publishing._render_batch

    def recording(site, output, session, kind, chunk, people_refs):
        with open(record, "a") as stream:
            stream.write(f"{os.getpid()} {kind}\n")
        return render(site, output, session, kind, chunk, people_refs)

    def renders() -> list[tuple[str, str]]:
        return [tuple(line.split()) for line in record.read_text().splitlines()]

    monkeypatch.setattr(publishing, "_render_batch", recording)
    story.ok("publish", "--jobs", "1", "--out", str(tmp_path / "one"))
    assert {pid for pid, _ in renders()} == {str(os.getpid())}
    record.unlink()
    story.ok("publish", "--jobs", "2", "--out", str(tmp_path / "two"))
    pids = {pid for pid, _ in renders()}
    assert len(pids) == 2 and str(os.getpid()) not in pids  # two workers, none the parent
    # The index's pages too, after every batch (they need the batches' entries and counts).
    kinds = [kind for _, kind in renders()]
    assert "pages" in kinds and kinds.index("pages") > max(
        i for i, kind in enumerate(kinds) if kind in ("people", "sources"))
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")


# Runs one publish in a child process with its workers sabotaged: `kill` makes the worker
# rendering source pages kill itself; `connect` makes opening the ledger fail in a worker.
SABOTAGED_PUBLISH = """
import os, signal, sys
import ledger.db, ledger.publish
from ledger.cli import run

mode, db, out = sys.argv[1:]
parent = os.getpid()
render, reading = ledger.publish._render_batch, ledger.db.reading

def dying(site, output, session, kind, chunk, people_refs):
    if kind == "sources" and os.getpid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)
    return render(site, output, session, kind, chunk, people_refs)

def refused(engine):
    if os.getpid() != parent:
        from sqlalchemy.exc import OperationalError
        raise OperationalError("connect", None, Exception("sorry, too many clients already"))
    return reading(engine)

if mode == "kill":
    ledger.publish._render_batch = dying
else:
    ledger.db.reading = refused
sys.exit(run(["--db", db, "publish", "--jobs", "2", "--out", out]))
"""


@pytest.mark.parametrize("mode", ["kill", "connect"])
def test_a_worker_that_dies_or_cannot_connect_fails_the_publish(
    story, tmp_path: Path, mode: str
) -> None:
    out = tmp_path / "site"
    story.ok("publish", "--out", str(out))
    before = snapshot(out)
    process = subprocess.Popen(
        [sys.executable, "-c", SABOTAGED_PUBLISH, mode, story.db, str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"a publish with a sabotaged worker ({mode}) hung")
    assert process.returncode == 1, err
    assert err.startswith("Error: ") and len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    if mode == "kill":
        assert "worker process ended" in err and "nothing was published" in err
    else:
        assert "too many clients" in err
    assert snapshot(out) == before
    assert not any(name.startswith(".site.publish") for name in os.listdir(tmp_path))
