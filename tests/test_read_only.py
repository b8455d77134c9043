"""A ledger this process cannot write (a backup made read-only, a ledger in a read-only
folder) is opened read-only: every read works, and a write says the file is read-only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import EXAMPLE

LEDGER = [sys.executable, "-c", "from ledger.cli import main; main()"]


def _as_other_user() -> list[str]:
    """A prefix that runs a command as a user without write access (root writes anything)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        if os.environ.get("CI") == "true":
            pytest.fail("setpriv (util-linux) is missing: CI must be able to drop root")
        pytest.skip(
            "running as root without setpriv: cannot drop to a user that lacks write access"
        )
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def folder():
    path = Path(tempfile.mkdtemp(prefix="ledger-read-only-"))
    path.chmod(0o755)
    yield path
    path.chmod(0o755)
    shutil.rmtree(path)


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*_as_other_user(), *LEDGER, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={**os.environ, "LEDGER_ACTOR": "reader"},
    )


@pytest.mark.parametrize("how", ["read-only copy", "read-only folder"])
def test_a_read_only_ledger_can_be_read_and_says_so_on_a_write(folder, how):
    subprocess.run([*LEDGER, "init", str(folder / "live.db")], check=True, capture_output=True)
    subprocess.run(
        [*LEDGER, "--db", str(folder / "live.db"), "import", str(EXAMPLE)],
        check=True,
        capture_output=True,
    )
    if how == "read-only copy":
        subprocess.run(
            [*LEDGER, "--db", str(folder / "live.db"), "backup", str(folder / "ledger.db")],
            check=True,
            capture_output=True,
        )
    else:
        (folder / "live.db").rename(folder / "ledger.db")  # in WAL mode, with its -wal file
    for path in folder.iterdir():
        path.chmod(0o444)
    if how == "read-only folder":
        folder.chmod(0o555)
    before = sorted(p.name for p in folder.iterdir())
    for command in (["person", "list"], ["verify"], ["export"], ["search", "Dong"]):
        result = _run("--db", "ledger.db", *command, cwd=folder)
        assert result.returncode == 0, (command, result.stderr)
        assert result.stdout
    write = _run("--db", "ledger.db", "person", "add", "Michael Chong", cwd=folder)
    assert write.returncode == 1
    assert write.stderr == (
        "Error: the ledger 'ledger.db' is read-only here (the file or its "
        "folder cannot be written); reads work. To change it, make it "
        "writable (chmod u+w) or work on a writable copy\n"
    )
    assert sorted(p.name for p in folder.iterdir()) == before
