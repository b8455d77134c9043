"""Guards when recording: each refusal or warning, its exit code, and an unchanged ledger."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from conftest import Cli

TEXT = (
    "Dong told the House of Commons that he will sit as an Independent. "
    "Global News alleged he advised a diplomat that Beijing should hold off on freeing "
    'Michael Kovrig and Michael Spavor. Dong said: "What has been reported is false." '
    "The PMO said it learned of it «after Mr. Dong told us». "
    "He called it 「a smear」 and spoke of a “so-called” inquiry."
)


@pytest.fixture
def recorded(cli, tmp_path) -> Cli:
    text = tmp_path / "cbc.txt"
    text.write_text(TEXT, encoding="utf-8")
    cli.ok("person", "add", "Han Dong", "--alias", "Hang Dong")
    cli.ok("source", "add", "--key", "cbc", "--title", "CBC", "--text-file", str(text))
    cli.ok("claim", "add", "Dong advised a diplomat to delay the release", "--about", "Han Dong")
    return cli


def refused(cli: Cli, code: int, *args: str) -> str:
    """Run a command that must be refused: the exit code, one Error: line, nothing written."""
    before = cli.ok("export").out
    events = cli.json("log", "--limit", "1000000")
    result = cli(*args)
    assert result.code == code, (result.code, result.err)
    assert result.err.startswith("Error: ") and len(result.err.strip().splitlines()) == 1
    assert cli.ok("export").out == before
    assert cli.json("log", "--limit", "1000000") == events
    return result.err


# --- a ledger that is not there ---------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["person", "list"],
        ["claim", "show", "1"],
        ["audit"],
        ["verify"],
        ["export"],
        ["db", "current"],
        ["person", "add", "Han Dong"],
        ["import", "bundle.jsonl"],
        ["source", "add", "--title", "T"],
    ],
)
def test_a_missing_ledger_is_never_created(tmp_path, capsys, monkeypatch, command) -> None:
    from ledger.cli import run

    monkeypatch.chdir(tmp_path)
    (tmp_path / "bundle.jsonl").write_text('{"type": "person", "name": "A"}\n')
    typo = tmp_path / "exmaple.db"
    capsys.readouterr()
    assert run(["--db", str(typo), *command]) == 1
    err = capsys.readouterr().err
    assert err == f"Error: no ledger at {typo}; run `ledger init {typo}` to create one\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.jsonl"]


def test_only_init_and_demo_create(tmp_path, capsys) -> None:
    from ledger.cli import run

    path = tmp_path / "new.db"
    assert run(["init", str(path)]) == 0 and path.exists()
    assert run(["--db", str(path), "person", "list"]) == 0
    demo = tmp_path / "demo.db"
    assert run(["--db", str(demo), "demo", "--out", str(tmp_path / "site")]) == 0
    assert demo.exists()


# --- people who are already recorded ----------------------------------------------------------


@pytest.mark.parametrize(
    "name, what",
    [
        ("hang dong", "alias 'Hang Dong'"),  # an existing alias, lowercased
        ("HAN DONG", "'Han Dong'"),  # case
        ("Hán Dông", "'Han Dong'"),  # accents
        ("Ｈａｎ Ｄｏｎｇ", "'Han Dong'"),  # full width
        ("Han\u200bDong", "'Han Dong'"),  # a zero-width space
        ("H\u0430n Dong", "'Han Dong'"),  # a Cyrillic а
        ("han-dong", "'Han Dong'"),  # the slug
    ],
)
def test_a_name_that_folds_to_a_recorded_one_is_refused(recorded, name, what) -> None:
    err = refused(recorded, 1, "person", "add", name)
    assert f"{name!r} looks like 'Han Dong'" in err and "id 1, slug han-dong" in err
    assert what in err and "--distinct" in err
    # The same name as an alias of a new person is refused too.
    refused(recorded, 1, "person", "add", "Someone Else", "--alias", name)


def test_distinct_records_a_different_person(recorded) -> None:
    new = recorded.json("person", "add", "han-dong", "--distinct")
    assert new["slug"] == "han-dong-2"
    # The older slug and alias are never shadowed by the newer name.
    assert recorded.json("person", "show", "han-dong")["id"] == 1
    other = recorded.json("person", "add", "Hang Dong", "--distinct")
    assert recorded.json("person", "show", "Hang Dong")["id"] == 1
    assert recorded.json("person", "show", other["slug"])["id"] == other["id"]
    assert recorded.json("person", "show", str(other["id"]))["name"] == "Hang Dong"


def test_import_refuses_a_look_alike(recorded, tmp_path) -> None:
    bundle = tmp_path / "people.jsonl"
    bundle.write_text(
        '{"type": "person", "name": "Zhao Wei"}\n{"type": "person", "name": "han dong"}\n',
        encoding="utf-8",
    )
    err = refused(recorded, 1, "import", str(bundle))
    assert "line 2" in err and "'han dong' looks like 'Han Dong'" in err
    bundle.write_text('{"type": "person", "name": "han dong", "distinct": true}\n')
    recorded.ok("import", str(bundle))  # the bundle's --distinct
    assert recorded.json("person", "show", "han dong")["slug"] == "han-dong-2"


# --- quotes -------------------------------------------------------------------------------------


def test_response_quotes_are_checked_like_attribution_quotes(recorded) -> None:
    err = refused(
        recorded,
        1,
        "response",
        "add",
        "1",
        "--by",
        "Han Dong",
        "--kind",
        "denial",
        "--source",
        "cbc",
        "--quote",
        "I never met any Chinese diplomat",
        "--strict",
    )
    assert "not in the stored text of 'cbc'" in err and "--strict" in err
    warned = recorded(
        "response",
        "add",
        "1",
        "--by",
        "Han Dong",
        "--kind",
        "denial",
        "--source",
        "cbc",
        "--quote",
        "I never met any Chinese diplomat",
        "--json",
    )
    assert warned.code == 0 and "Warning: the quote is not in the stored text" in warned.err
    assert json.loads(warned.out)["quote_status"] == "not-found"
    found = recorded.json(
        "response",
        "add",
        "1",
        "--by",
        "Han Dong",
        "--kind",
        "denial",
        "--source",
        "cbc",
        "--quote",
        "What has been reported is false.",
    )
    assert found["quote_status"] == "verified"
    audit = json.loads(recorded("audit", "--json").out)
    assert [f["detail"].get("response") for f in audit if f["code"] == "quote-not-found"] == [
        warned and json.loads(warned.out)["id"]
    ]


@pytest.mark.parametrize(
    "pasted, stored",
    [
        ("“Beijing should hold off on freeing”", "Beijing should hold off on freeing"),
        ('"Beijing should hold off on freeing"', "Beijing should hold off on freeing"),
        ("«after Mr. Dong told us»", "after Mr. Dong told us"),
        ("「a smear」", "a smear"),
        ("‘Beijing should hold off’", "Beijing should hold off"),
        (
            'Dong said: "What has been reported is false."',
            'Dong said: "What has been reported is false."',
        ),  # inner marks stay
        ("spoke of a “so-called” inquiry", "spoke of a “so-called” inquiry"),
        ("“spoke of a “so-called” inquiry”", "spoke of a “so-called” inquiry"),
    ],
)
def test_surrounding_quotation_marks_are_stripped(recorded, pasted, stored) -> None:
    claim = recorded.json("claim", "cite", "1", "--source", "cbc", "--quote", pasted)
    [attribution] = claim["attributions"]
    assert attribution["quote"] == stored and attribution["quote_status"] == "verified"
    [event] = recorded.json("log", "--limit", "1")
    assert event["state"]["quote"] == stored  # the event records the cleaned value


def test_a_repeated_attribution_is_refused(recorded) -> None:
    recorded.ok(
        "claim", "cite", "1", "--source", "cbc", "--quote", "Beijing should hold off on freeing"
    )
    for again in (
        "“Beijing should hold off on freeing”",
        "Beijing  should hold off\non freeing",
        "Beijing should hold off on freeing",
    ):
        err = refused(recorded, 1, "claim", "cite", "1", "--source", "cbc", "--quote", again)
        assert "claim 1 already cites 'cbc' with that quote (attribution 1" in err


def test_whitespace_runs_collapse_on_every_path(recorded, tmp_path) -> None:
    claim = recorded.json(
        "claim",
        "add",
        "Dong  advised\n      a diplomat",
        "--about",
        "Han Dong",
        "--source",
        "cbc",
        "--quote",
        "hold off\n   on  freeing",
    )
    assert claim["statement"] == "Dong advised a diplomat"
    assert claim["attributions"][0]["quote"] == "hold off on freeing"
    assert claim["attributions"][0]["quote_status"] == "verified"
    edited = recorded.json("claim", "edit", str(claim["id"]), "--statement", "Dong\tadvised  it")
    assert edited["statement"] == "Dong advised it"
    bundle = tmp_path / "b.jsonl"
    bundle.write_text(
        json.dumps(
            {
                "type": "claim",
                "ref": "c",
                "statement": "A\n  bundled  claim",
                "about": ["Han Dong"],
                "attributions": [{"source": "cbc", "quote": "“Michael  Kovrig”"}],
            }
        )
        + "\n"
    )
    recorded.ok("import", str(bundle))
    imported = recorded.json("claim", "list")[-1]
    assert imported["statement"] == "A bundled claim"
    shown = recorded.json("claim", "show", str(imported["id"]))
    assert shown["attributions"][0]["quote"] == "Michael Kovrig"
    states = [e["state"] for e in recorded.json("log", "--entity", "claim", "--limit", "100")]
    assert "A bundled claim" in {s["statement"] for s in states}


def test_sourcing_is_unknown_unless_given(recorded) -> None:
    cited = recorded.json("claim", "cite", "1", "--source", "cbc")
    assert cited["attributions"][-1]["sourcing"] == "unknown"
    cited = recorded.json(
        "claim",
        "cite",
        "1",
        "--source",
        "cbc",
        "--quote",
        "Michael Kovrig",
        "--voice",
        "Global News",
    )
    assert cited["attributions"][-1]["sourcing"] == "named"
    cited = recorded.json(
        "claim",
        "cite",
        "1",
        "--source",
        "cbc",
        "--quote",
        "Michael Spavor",
        "--voice",
        "two unnamed sources",
        "--anonymous",
    )
    assert cited["attributions"][-1]["sourcing"] == "anonymous"


def test_anonymous_only_counts_unknown_as_not_on_the_record(recorded) -> None:
    recorded.ok(
        "claim",
        "cite",
        "1",
        "--source",
        "cbc",
        "--quote",
        "Michael Kovrig",
        "--voice",
        "two unnamed national security sources",
        "--anonymous",
    )
    recorded.ok("claim", "cite", "1", "--source", "cbc", "--quote", "Michael Spavor")
    recorded.ok("claim", "cite", "1", "--source", "cbc", "--quote", "hold off on freeing")
    audit = json.loads(recorded("audit", "--json").out)
    assert [f["subject"]["id"] for f in audit if f["code"] == "anonymous-only"] == [1]


# --- slugs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, slug",
    [
        ("Ørsted", "orsted"),
        ("Łukasz", "lukasz"),
        ("赵伟", "zhao-wei"),
        ("Чжао Вэй", "chzhao-vei"),
        ("Mélanie Joly", "melanie-joly"),
        ("Prime Minister's Office", "prime-minister-s-office"),
    ],
)
def test_slugs_transliterate(cli, name, slug) -> None:
    assert cli.json("person", "add", name)["slug"] == slug


def test_existing_slugs_never_change(cli, engine) -> None:
    from sqlalchemy import text

    cli.ok("person", "add", "Ørsted")
    with engine.begin() as connection:  # as an older version made it
        connection.execute(text("UPDATE person SET slug = 'rsted' WHERE name = 'Ørsted'"))
    cli.ok("person", "edit", "rsted", "--description", "A company")
    assert cli.json("person", "show", "Ørsted")["slug"] == "rsted"


# --- help examples ------------------------------------------------------------------------------


def _shell_commands(line: str) -> list[list[str]]:
    """The commands of a shell line, as the shell splits them (`&&`, `|`, `;`), with
    redirections (`> file`) left out."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    tokens = list(lexer)
    skip = False
    for token in tokens:
        if skip:
            skip = False
        elif token in ("&&", "||", ";", "|"):
            commands.append([])
        elif token in (">", ">>", "<", "2>"):
            skip = True
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def _examples() -> list[tuple[str, list[str]]]:
    """Every command's --help example, as a user would paste it."""
    import typer.main

    from ledger.cli import app

    found = []

    def walk(command, path: list[str]) -> None:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
            return
        helptext = command.help or ""
        assert re.search(r"Examples?:", helptext), f"`ledger {' '.join(path)}` has no example"
        block = re.split(r"Examples?:", helptext, maxsplit=1)[1]
        lines = [ln for ln in block.splitlines() if ln.strip()]
        pasted = "\n".join(ln.strip() for ln in lines)
        for command_line in re.split(r"(?<!\\)\n", pasted):
            for argv in _shell_commands(command_line.replace("\\\n", " ")):
                if argv[0] == "ledger":
                    found.append((" ".join(path), argv))

    walk(typer.main.get_command(app), [])
    return found


def test_every_help_example_can_be_pasted(story, tmp_path, monkeypatch) -> None:
    """Each example parses as the shell would read it, every value is well-formed (never
    exit 2) and nothing pasted carries a newline into a value."""
    from ledger.io.capture import read_capture  # noqa: F401  (the capture stack imports)

    monkeypatch.chdir(tmp_path)
    (tmp_path / "cbc.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "cbc.html").write_text(f"<html><body><p>{TEXT}</p></body></html>")
    (tmp_path / "cbc-2023-04-02.html").write_text(f"<html><body><p>{TEXT} More.</p></body></html>")
    story.ok("export", "--out", str(tmp_path / "bundle.jsonl"))
    examples = _examples()
    assert len(examples) >= 30
    for name, argv in examples:
        assert argv[0] == "ledger"
        assert not any("\n" in a for a in argv), (name, argv)
        if name in ("demo", "backup", "init", "db upgrade", "publish"):
            continue  # they write outside the ledger; each has its own tests
        result = story(*argv[1:])
        assert result.code != 2, (name, argv, result.err)


def test_whitespace_collapses_in_csv_and_claimreview(cli, tmp_path) -> None:
    sheet = tmp_path / "claims.csv"
    sheet.write_text('Claim,Person\n"Alice  took\n   a bribe",Alice Example\n', encoding="utf-8")
    cli.ok(
        "import",
        str(sheet),
        "--map",
        "statement=Claim",
        "--map",
        "about=Person",
        "--create-missing",
    )
    review = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": "https://checker.example/fc/1",
        "claimReviewed": "The moon\n\tis  made of cheese",
        "reviewRating": {"@type": "Rating", "alternateName": "False"},
        "itemReviewed": {
            "@type": "Claim",
            "author": {"@type": "Person", "name": "Wallace Example"},
        },
    }
    page = tmp_path / "review.json"
    page.write_text(json.dumps(review), encoding="utf-8")
    cli.ok("import", str(page), "--format", "claimreview")
    statements = [c["statement"] for c in cli.json("claim", "list")]
    assert statements == ["Alice took a bribe", "The moon is made of cheese"]
    cli.ok("import", str(sheet), "--map", "statement=Claim", "--map", "about=Person")
    assert len(cli.json("claim", "list")) == 2  # the same claim again: matched, not added
