"""The README stays true: its walk-through runs as written, and CI runs its test command."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from conftest import REPO, SEEDS

README = (REPO / "README.md").read_text(encoding="utf-8")


def _walkthrough_commands() -> list[list[str]]:
    section = README.split("## Five minutes", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```\n(.*?)```", section, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #", 1)[0].strip()
            if line.startswith("ledger "):
                commands.append(shlex.split(line)[1:])
    return commands


def test_walkthrough_runs_as_written(tmp_path, capsys, monkeypatch):
    if not SEEDS.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the seed documents are missing: {SEEDS}")
        pytest.skip(f"the seed documents are not beside the project ({SEEDS})")
    from ledger.cli import run

    monkeypatch.chdir(REPO)
    commands = _walkthrough_commands()
    assert len(commands) >= 12
    for args in commands:
        code = run(["--db", str(tmp_path / "walk.db"), *args])
        assert code == 0, f"ledger {' '.join(args)}: {capsys.readouterr().err}"
    out = capsys.readouterr()
    assert "Warning" not in out.err  # every quote in the walk-through is found
    assert "[verified]" in out.out and "ok:" in out.out


def test_ci_runs_the_readme_test_command():
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "<!-- test-command -->" in README and "<!-- test-command -->" in script
    block = README.split("<!-- test-command -->", 1)[1].split("```")[1].strip()
    assert block.endswith("python -m pytest")


def test_readme_opens_with_the_two_commands():
    blocks = re.findall(r"```\n(.*?)```", README, flags=re.S)
    assert "pip install ." in blocks[0] and " demo" in blocks[0]
    assert "pytest" in blocks[1]


@pytest.mark.slow
def test_installed_wheel_ships_migrations_templates_and_example(tmp_path):
    import subprocess
    import sys
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path), str(REPO)], check=True)
    wheel = next(Path(tmp_path).glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for required in ("ledger/migrations/env.py", "ledger/migrations/script.py.mako",
                     "ledger/migrations/versions/0001_initial_schema.py",
                     "ledger/templates/dossier.md.j2", "ledger/examples/story.jsonl",
                     "ledger/cli/__init__.py", "ledger/store/claims.py"):
        assert required in names, required
