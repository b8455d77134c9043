"""Publish's file writer: a lock on the output folder, a staging folder swapped in at the end,
and files with the mode the umask gives a new file (issue 17 item 12, issue 11 item 1)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from reviewing import approve_all


def _snapshot(folder: Path) -> dict[str, object]:
    """Every entry under `folder`: a file's bytes, a symlink's target, a folder's name."""
    found: dict[str, object] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root, name)
            relative = str(path.relative_to(folder))
            if path.is_symlink():
                found[relative] = ("symlink", os.readlink(path))
            elif path.is_dir():
                found[relative] = "folder"
            else:
                found[relative] = path.read_bytes()
    return found


@pytest.fixture
def umask():
    def set_mask(mask: int) -> None:
        os.umask(mask)

    previous = os.umask(0o022)
    yield set_mask
    os.umask(previous)


@pytest.mark.parametrize(
    ("mask", "file_mode", "folder_mode"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)]
)
def test_published_and_exported_files_get_the_umask_mode(
    story, tmp_path, umask, mask, file_mode, folder_mode
):
    umask(mask)
    out = tmp_path / "site"
    story.ok("publish", "--out", str(out), "--html")
    for path in [out, *out.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (folder_mode if path.is_dir() else file_mode), (path, oct(mode))
    story.ok("export", "--out", str(tmp_path / "ledger.jsonl"))
    story.ok("dossier", "Han Dong", "--out", str(tmp_path / "han-dong.md"))
    for name in ("ledger.jsonl", "han-dong.md"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == file_mode


def test_an_older_0600_page_gets_the_umask_mode_on_the_next_publish(story, tmp_path, umask):
    out = tmp_path / "site"
    story.ok("publish", "--out", str(out))
    (out / "index.md").chmod(0o600)
    story.ok("publish", "--out", str(out))
    assert stat.S_IMODE((out / "index.md").stat().st_mode) == 0o644


def test_a_second_publish_into_the_folder_is_refused_naming_the_first(story, tmp_path):
    import fcntl

    out = tmp_path / "site"
    story.ok("publish", "--out", str(out))
    before = _snapshot(out)
    with open(tmp_path / ".site.publish-lock", "w", encoding="utf-8") as lock:
        lock.write("pid 4242, started 2026-12-01 21:00:00 UTC")
        lock.flush()
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = story("publish", "--out", str(out), "--html")
    assert result.code == 1
    assert result.err == (
        f"Error: another publish (pid 4242, started 2026-12-01 21:00:00 UTC) "
        f"is writing {str(out)!r}; wait for it to finish, then publish "
        "again\n"
    )
    assert _snapshot(out) == before
    story.ok("publish", "--out", str(out), "--html")  # the lock is gone with its holder


def test_a_publish_that_has_just_locked_is_named_once_it_writes_its_pid(tmp_path):
    import fcntl
    import threading

    from ledger.publish import PublishFailed, _take_lock

    out = tmp_path / "site"
    with open(tmp_path / ".site.publish-lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # locked, its pid not yet written
        late = threading.Timer(0.02, lambda: (lock.write("pid 4242"), lock.flush()))
        late.start()
        with pytest.raises(PublishFailed, match=r"^another publish \(pid 4242\) is writing "):
            _take_lock(tmp_path / ".site.publish-lock", out)
        late.join()
    with open(tmp_path / ".site.publish-lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # and one that never writes it
        with pytest.raises(PublishFailed, match=r"^another publish \(starting\) is writing "):
            _take_lock(tmp_path / ".site.publish-lock", out)


def _ledger(*args: str) -> list[str]:
    return [sys.executable, "-c", "from ledger.cli import main; main()", *args]


def test_two_publishes_at_once_leave_a_consistent_folder(story, tmp_path):
    out = tmp_path / "site"
    runs = [
        subprocess.Popen(
            _ledger("--db", story.db, "publish", "--out", str(out), *extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for extra in (["--html"], [], ["--html"])
    ]
    results = [(run.wait(timeout=120), run.stderr.read()) for run in runs]
    for code, err in results:
        # the loser names the holder, or says it is starting if it has not written its pid yet
        assert code == 0 or (code == 1 and err.startswith("Error: another publish (")
                             and "wait for it to finish" in err), err
    assert any(code == 0 for code, _ in results)
    import json

    listed = json.loads((out / ".ledger-publish.json").read_text(encoding="utf-8"))["files"]
    on_disk = sorted(
        str(p.relative_to(out))
        for p in out.rglob("*")
        if p.is_file() and p.name != ".ledger-publish.json"
    )
    assert listed == on_disk
    assert not list(tmp_path.glob(".site.publish-*"))


def test_a_killed_publish_changes_nothing(story, tmp_path):
    out = tmp_path / "site"
    story.ok("publish", "--out", str(out), "--html")
    before = _snapshot(out)
    story.ok("person", "add", "Jenny Kwan")
    story.ok("claim", "add", "Kwan was targeted.", "--about", "Jenny Kwan")
    approve_all(story.db)
    killer = (
        "import os, signal\n"
        "from ledger.db import open_ledger\n"
        "from ledger.publish import publish\n"
        f"publish(open_ledger({story.db!r}), {str(out)!r}, html=True, batch_size=1,\n"
        "        progress=lambda *_a: os.kill(os.getpid(), signal.SIGKILL))\n"
    )
    run = subprocess.run([sys.executable, "-c", killer], capture_output=True, timeout=120)
    assert run.returncode == -signal.SIGKILL
    assert _snapshot(out) == before
    assert (tmp_path / ".site.publish-staging").is_dir()  # half a site, beside, unseen
    result = story.ok("publish", "--out", str(out), "--html")
    assert "Jenny Kwan" in (out / "index.md").read_text(encoding="utf-8")
    assert "0 removed" in result.err
    assert not list(tmp_path.glob(".site.publish-*"))


def test_a_refusal_part_way_leaves_the_folder_as_before(story, tmp_path):
    out, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    story.ok("publish", "--out", str(out))
    (out / "sources").rename(elsewhere)
    (out / "sources").symlink_to(elsewhere, target_is_directory=True)
    before, outside = _snapshot(out), _snapshot(elsewhere)
    story.ok("person", "add", "Jenny Kwan")  # changes the index and every page's anchor
    result = story("publish", "--out", str(out))
    assert result.code == 1
    assert result.err.startswith("Error: refusing to write through the symlink 'sources' in ")
    assert "Nothing was changed" in result.err
    assert _snapshot(out) == before
    assert _snapshot(elsewhere) == outside
    assert not list(tmp_path.glob(".site.publish-*"))


def test_everything_publish_does_not_manage_is_carried_over(story, tmp_path):
    out = tmp_path / "site"
    story.ok("publish", "--out", str(out))
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (out / "people" / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "latest").symlink_to("index.md")
    (out / "CNAME").write_text("ledger.example.org\n", encoding="utf-8")
    story.ok("person", "add", "Jenny Kwan")
    story.ok("publish", "--out", str(out))
    assert (out / ".git" / "HEAD").read_text(encoding="utf-8") == "ref: refs/heads/main\n"
    assert (out / "people" / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert os.readlink(out / "latest") == "index.md"
    assert (out / "CNAME").read_text(encoding="utf-8") == "ledger.example.org\n"
    assert (out / "people" / "jenny-kwan.md").is_file()
