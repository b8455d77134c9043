"""The command line's promises: every command has help with an example; the library never
imports typer, click or rich; --help imports nothing heavy."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from ledger.cli import app

LIBRARY = Path(__file__).resolve().parents[1] / "ledger"


def _commands(typer_app: typer.Typer, prefix: tuple[str, ...] = ()):
    for info in typer_app.registered_commands:
        yield (*prefix, info.name or info.callback.__name__), info.callback
    for group in typer_app.registered_groups:
        yield from _commands(group.typer_instance, (*prefix, group.name))


COMMANDS = sorted(_commands(app), key=lambda item: item[0])


@pytest.mark.parametrize("path, callback", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help_with_an_example(path, callback, capsys):
    from ledger.cli import run

    assert callback.__doc__ and "Example" in callback.__doc__, f"{path} needs an example"
    assert run([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Example" in out and "ledger " in out


def test_library_never_imports_cli_frameworks():
    offenders = []
    for path in LIBRARY.rglob("*.py"):
        if "cli" in path.relative_to(LIBRARY).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] in {"typer", "click", "rich"} for n in names):
                offenders.append(str(path.relative_to(LIBRARY)))
    assert offenders == []


def test_help_imports_nothing_heavy():
    code = ("import sys; from ledger.cli import run; run(['--help']); "
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'sqlalchemy','sqlmodel','alembic','jinja2','markdown_it','rich','yaml','pydantic'})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    heavy = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert "Usage" in result.stdout
    assert heavy == "" or heavy.startswith("Usage") or not any(
        name in heavy.split() for name in ("sqlalchemy", "sqlmodel", "alembic", "jinja2",
                                           "markdown_it", "rich", "pydantic")), heavy


def test_python_dash_m_works():
    result = subprocess.run([sys.executable, "-m", "ledger", "--help"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0 and "claim" in result.stdout


def _commands_in_a_fresh_python(db: str, commands: list[list[str]], probe: str):
    """Run `commands` through `ledger.cli.run` in one new interpreter; its last stdout line
    prints `probe` (Python over `codes`, the exit codes, and `sys`)."""
    code = (
        "import json, sys; from ledger.cli import run; "
        f"codes = [run(['--db', sys.argv[1], *words]) for words in {commands!r}]; "
        f"print({probe})"
    )
    return subprocess.run([sys.executable, "-c", code, db], capture_output=True, text=True,
                          check=False, timeout=60)


def test_claim_add_imports_only_what_it_uses(tmp_path):
    """`ledger claim add` is the command people type most: it leaves out the quote matcher,
    the templates, the migrations and the renderers (their imports were a third of what it
    cost beyond Python and its stack), and still records the claim."""
    db = str(tmp_path / "ledger.db")
    done = _commands_in_a_fresh_python(
        db,
        [["init"], ["person", "add", "Han Dong"], ["claim", "add", "A claim", "--about",
                                                    "Han Dong"]],
        "codes, sorted({m.split('.')[0] for m in sys.modules} & {'rapidfuzz', 'jinja2', "
        "'alembic', 'markdown_it', 'cmarkgfm', 'trafilatura', 'rich', 'lxml', 'yaml'})",
    )
    assert done.stdout.splitlines()[-1] == "[0, 0, 0] []", done.stdout + done.stderr
    assert "Added claim 1: A claim" in done.stdout


def test_a_command_imports_only_its_own_cli_module(tmp_path):
    """`ledger claim add` imports the claim commands and nothing of the other groups' (ten
    modules, a few ms of every command); `--help` still lists every group."""
    from ledger.cli import run

    db = str(tmp_path / "ledger.db")
    assert run(["--db", db, "init"]) == 0
    assert run(["--db", db, "person", "add", "Han Dong"]) == 0
    done = _commands_in_a_fresh_python(
        db, [["claim", "add", "A claim", "--about", "Han Dong"]],
        "codes, sorted(m for m in sys.modules if m.startswith('ledger.cli.'))",
    )
    assert done.stdout.splitlines()[-1] == "[0] ['ledger.cli.claims', 'ledger.cli.common']", (
        done.stdout + done.stderr)
    listed = subprocess.run([sys.executable, "-m", "ledger", "--help"], capture_output=True,
                            text=True, check=True).stdout
    for name in ("person", "claim", "review", "db", "key", "import", "audit", "publish",
                 "backup"):
        assert f" {name} " in listed


def test_dossier_reads_without_the_quote_matcher(tmp_path):
    """`ledger dossier` only reads: it prints the dossier without loading `ledger.quotes`
    (the quote matcher and difflib are loaded by the commands that check quotes)."""
    db = str(tmp_path / "ledger.db")
    done = _commands_in_a_fresh_python(
        db,
        [["init"], ["person", "add", "Han Dong"], ["claim", "add", "A claim", "--about",
                                                    "Han Dong"],
         ["dossier", "Han Dong", "--drafts", "--skip-verify"]],
        "codes, 'ledger.quotes' in sys.modules",
    )
    assert done.stdout.splitlines()[-1] == "[0, 0, 0, 0] False", done.stdout + done.stderr
    assert "A claim" in done.stdout and "Han Dong" in done.stdout


def test_text_options_pass_through_without_pydantic_validators(tmp_path):
    """Typer would build a pydantic validator for every parameter of the command it runs;
    text, lists of text and flags pass through unchanged without one (what pydantic's lax
    mode gives back), and other values still get Typer's own coercion and errors."""
    db = str(tmp_path / "ledger.db")
    done = _commands_in_a_fresh_python(
        db,
        [["init"], ["person", "add", "Han Dong", "--alias", "Hang Dong", "--alias", "H D"],
         ["claim", "add", "A \udcff claim", "--about", "Han Dong"],
         ["claim", "add", "A claim", "--about", "Han Dong", "--target", "Hang Dong",
          "--mentioned", "h d", "--json"]],
        "json.dumps([codes, 'typer._adapters' in sys.modules])",
    )
    codes, built = json.loads(done.stdout.splitlines()[-1])
    assert codes == [0, 0, 2, 0] and built is False, done.stdout + done.stderr
    assert "--statement contains a lone surrogate" in done.stderr
    claim = json.loads("\n".join(done.stdout.splitlines()[2:-1]))
    assert (claim["about"], claim["targets"], claim["mentioned"]) == (
        ["Han Dong"], ["Han Dong"], ["Han Dong"])
    for words, message in ((["claim", "list", "--limit", "many"], "Invalid value for '--limit'"),
                           (["claim", "list", "--limit", "-1"], "Invalid value for '--limit'")):
        result = subprocess.run([sys.executable, "-m", "ledger", "--db", db, *words],
                                capture_output=True, text=True, check=False, timeout=60)
        assert result.returncode == 2 and message in result.stderr, result.stderr


def _full_app(argv: list[str]) -> int:
    """`argv` through the whole command tree, as Typer builds it without `ledger.cli`'s
    slimming; the exit code."""
    try:
        app(args=argv, prog_name="ledger")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


GROUPS = sorted({path[:-1] for path, _ in COMMANDS if len(path) > 1})
SAME_AS_THE_WHOLE_TREE = [
    *[[*path, "--help"] for path, _ in COMMANDS],
    *[[*group, "--help"] for group in GROUPS],
    *[list(group) for group in GROUPS],  # a group alone prints its help
    [], ["--help"], ["--db", "x.db", "claim", "add", "--help"], ["--db=x.db", "init", "--help"],
    ["--actor", "a", "review", "--help"], ["nosuch"], ["claim", "nosuch"], ["claim", "ad"],
    ["claim", "add", "--nosuch"], ["claim", "add"], ["person", "add", "--kind"],
    ["--nosuch", "claim", "add", "x"],
]


@pytest.mark.parametrize("argv", SAME_AS_THE_WHOLE_TREE, ids=" ".join)
def test_the_slimmed_tree_prints_what_the_whole_tree_prints(argv, capsys):
    """`ledger.cli.run` builds only the group and command the command line names (a tenth
    of `ledger claim add`); help, usage errors and exit codes are exactly the whole tree's."""
    from ledger.cli import run

    whole = (_full_app(list(argv)), *capsys.readouterr())
    slim = (run(list(argv)), *capsys.readouterr())
    assert slim == whole
    assert whole[1] or whole[2]


def test_the_console_script_pauses_the_collector_only_until_the_ledger_is_open(tmp_path):
    """`main` turns Python's cycle collector off for start-up (its passes over the imports
    found nothing to free, and were a sixth of `ledger claim add`); opening the ledger
    freezes what start-up made and turns it back on. `run` alone leaves it as it was."""
    db = str(tmp_path / "ledger.db")
    code = (
        "import gc, sys; from ledger.cli import run; from ledger.cli.common import "
        "pause_collector; run(['--db', sys.argv[1], 'init']); "
        "seen = [gc.isenabled(), gc.get_freeze_count() == 0]; pause_collector(); "
        "seen.append(gc.isenabled()); "
        "codes = [run(['--db', sys.argv[1], 'person', 'add', 'Han Dong'])]; "
        "seen += [gc.isenabled(), gc.get_freeze_count() > 0]; "
        "codes.append(run(['--db', sys.argv[1], 'claim', 'add', 'A claim', '--about', "
        "'Han Dong'])); print(codes, seen, gc.isenabled())"
    )
    done = subprocess.run([sys.executable, "-c", code, db], capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.stdout.splitlines()[-1] == "[0, 0] [True, True, False, True, True] True", (
        done.stdout + done.stderr)
