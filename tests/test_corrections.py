"""Corrections readers see (updates on dossiers), `ledger changes`, and signed checkpoints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from reviewing import approve_all
from sqlalchemy import text
from test_tamper import Log, _rehash

ROOT = Path(__file__).resolve().parents[1]
DEMO_PUBLIC_KEY = ROOT / "ledger" / "examples" / "demo-key.pub"


def _clock(day: str):
    return lambda: f"{day}T09:00:00.000000Z"


def _write(engine, day: str, action):
    from ledger.db import transaction

    with transaction(engine, actor="tester", clock=_clock(day)) as session:
        return action(session)


@pytest.fixture
def corrected(engine):
    """A claim recorded on 2024-01-01, then changed in every way over the next days."""
    from ledger import store

    def first(session):
        store.add_person(session, name="Han Dong")
        store.add_person(session, name="Han Tao")
        store.add_person(session, name="Global News", kind="organization")
        store.add_source(
            session, key="cbc", title="CBC report", publisher="CBC News", published="2023-02-27"
        )
        claim = store.add_claim(
            session,
            statement="Han Dong advised a diplomat to delay",
            about=["Han Dong"],
            claimant="Global News",
        )
        store.cite(session, claim=claim, source=store.get_source(session, "cbc"))
        store.add_response(
            session, claim=claim, by="Han Dong", kind="denial", date="2023-03-22"
        )  # recorded with the claim: not an update
        return claim.id

    claim_id = _write(engine, "2024-01-01", first)

    def claim(session):
        return store.get_claim(session, claim_id)

    _write(engine, "2024-01-02", lambda s: store.edit_claim(s, claim(s), status="disputed"))
    _write(
        engine,
        "2024-01-03",
        lambda s: store.edit_claim(
            s, claim(s), statement="Han Dong advised a diplomat to delay the release"
        ),
    )
    _write(
        engine,
        "2024-01-04",
        lambda s: store.edit_claim(
            s, claim(s), statement="Han Dong advised a diplomat to delay the releases", minor=True
        ),
    )
    _write(engine, "2024-01-05", lambda s: store.edit_claim(s, claim(s), add_mentioned=["Han Tao"]))
    _write(
        engine,
        "2024-01-06",
        lambda s: store.edit_source(s, store.get_source(s, "cbc"), published="2023-03"),
    )
    _write(
        engine,
        "2024-01-07",
        lambda s: store.add_response(
            s, claim=claim(s), by="Global News", kind="confirmation", date="2023-03-25"
        ),
    )
    _write(
        engine,
        "2024-01-08",
        lambda s: store.request_reply(
            s, claim=claim(s), to="Han Dong", sent="2023-03-26", deadline="2023-03-28"
        ),
    )
    _write(
        engine,
        "2024-01-09",
        lambda s: store.retract_claim(s, claim(s), reason="the sources withdrew the account"),
    )
    approve_all(engine)  # as it stands after every change, so its dossier shows it
    return claim_id


def _updates(markdown: str) -> list[str]:
    section = markdown.split("#### Updates\n\n", 1)[1].split("\n\n", 1)[0]
    return section.splitlines()


def test_every_kind_of_change_is_an_update_in_markdown_and_html(engine, corrected):
    from ledger.db import reading
    from ledger.publish import dossier

    with reading(engine) as session:
        markdown = dossier(session, "Han Dong")
        html = dossier(session, "Han Dong", fmt="html")
    lines = _updates(markdown)
    assert [line.split(":", 1)[0] for line in lines] == [
        "- 2024-01-02 (event 8)",
        "- 2024-01-03 (event 9)",
        "- 2024-01-05 (event 11)",
        "- 2024-01-06 (event 12)",
        "- 2024-01-07 (event 13)",
        "- 2024-01-08 (event 14)",
        "- 2024-01-09 (event 15)",
    ]
    assert "Status changed: unverified → disputed." in lines[0]
    assert "Before: “Han Dong advised a diplomat to delay”" in lines[1]
    assert "Now: “Han Dong advised a diplomat to delay the release”" in lines[1]
    assert "the releases" not in "\n".join(lines)  # the minor edit (event 10) is left out
    assert "People concerned: added Han Tao (mentioned)." in lines[2]
    assert "corrected: publication date 2023-02-27 → 2023-03." in lines[3]
    assert "Response recorded: Confirmation by Global News" in lines[4]
    assert "Reply requested from Han Dong, sent 2023-03-26" in lines[5]
    assert "Retracted. Reason: the sources withdrew the account" in lines[6]
    assert "Denial" not in "\n".join(lines)  # recorded on the claim's own day
    assert "**Retracted.**" in markdown  # the retracted claim stays, with its notice
    assert ">Updates</h4>" in html
    assert "2024-01-02 (event 8): Status changed: unverified → disputed." in html
    assert "Retracted. Reason: the sources withdrew the account" in html


def test_as_of_cuts_the_updates_and_hide_retracted_drops_the_claim(engine, corrected):
    from ledger.db import reading
    from ledger.publish import dossier

    with reading(engine) as session:
        lines = _updates(dossier(session, "Han Dong", as_of="2024-01-03"))
        hidden = dossier(session, "Han Dong", include_retracted=False)
    assert [line.split(" (", 1)[0] for line in lines] == ["- 2024-01-02", "- 2024-01-03"]
    assert "Han Dong advised" not in hidden


def test_minor_edit_is_in_the_hashed_event(engine, corrected):
    from ledger import store
    from ledger.db import reading

    with reading(engine) as session:
        events = store.list_events(session, entity="claim", limit=None, newest_first=False)
        assert [e.action for e in events] == [
            "add",
            "edit",
            "edit",
            "minor-edit",
            "edit",
            "retract",
        ]
        assert store.verify(session).ok


def test_changes_since_lists_exactly_what_changed(cli):
    cli.ok("person", "add", "Han Dong")
    cli.ok("claim", "add", "Han Dong advised a diplomat", "--about", "Han Dong")
    anchor = cli.ok("verify").out.split("head ")[1].split(";")[0].strip()
    cli.ok("claim", "edit", "1", "--status", "disputed")
    cli.ok("person", "add", "Han Tao")
    cli.ok("claim", "edit", "1", "--statement", "Han Dong advised a Chinese diplomat")
    report = cli.json("changes", "--since", anchor)
    assert report["since"] == anchor and report["events"] == 3
    assert [(r["entity"], r["id"], [e["seq"] for e in r["events"]]) for r in report["records"]] == [
        ("claim", 1, [3, 5]),
        ("person", 2, [4]),
    ]
    claim_events = report["records"][0]["events"]
    assert [e["changes"] for e in claim_events] == [
        [{"field": "status", "before": "unverified", "after": "disputed"}],
        [
            {
                "field": "statement",
                "before": "Han Dong advised a diplomat",
                "after": "Han Dong advised a Chinese diplomat",
            }
        ],
    ]
    markdown = cli.ok("changes", "--since", anchor).out
    assert markdown.startswith("# Changes since event 2\n")
    assert "## claim 1: Han Dong advised a Chinese diplomat" in markdown
    assert "edit: status “unverified” → “disputed”" in markdown
    assert "## person 2: Han Tao" in markdown
    head = cli.ok("verify").out.split("head ")[1].split(";")[0].strip()
    nothing = cli.json("changes", "--since", head)
    assert nothing["records"] == []


def test_changes_refuses_an_anchor_that_does_not_verify(cli):
    cli.ok("person", "add", "Han Dong")
    result = cli("changes", "--since", f"1:{'0' * 64}")
    assert result.code == 1 and result.err.startswith("Error: the anchor does not verify")
    assert cli("changes", "--since", "nonsense").code == 2


# --- checkpoints ---------------------------------------------------------------------------


def _ssh_keygen() -> str:
    found = shutil.which("ssh-keygen")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ssh-keygen is missing (.ci/ensure-openssh.sh installs openssh-client)")
        pytest.skip("ssh-keygen (Debian's openssh-client) is not installed")
    return found


def _ssh_verify(keygen: str, public_key: Path, checkpoint: Path, tmp_path: Path):
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(
        f'newsroom namespaces="fact-ledger-checkpoint" {public_key.read_text().strip()}\n'
    )
    with checkpoint.open("rb") as stdin:
        return subprocess.run(
            [
                keygen,
                "-Y",
                "verify",
                "-f",
                str(allowed),
                "-I",
                "newsroom",
                "-n",
                "fact-ledger-checkpoint",
                "-s",
                f"{checkpoint}.sig",
            ],
            stdin=stdin,
            capture_output=True,
            text=True,
            check=False,
        )


@pytest.fixture
def signed(cli, tmp_path):
    """A small ledger, a key pair and a checkpoint of its head, written to head.txt(.sig)."""
    key = tmp_path / "newsroom-key"
    assert "key SHA256:" in cli.ok("key", "generate", "--out", str(key)).out
    for i in range(6):
        cli.ok("person", "add", f"Person {i}")
    cli.ok(
        "checkpoint", "--key", str(key), "--name", "Newsroom", "--out", str(tmp_path / "head.txt")
    )
    return key, tmp_path / "head.txt"


def test_a_checkpoint_verifies_with_ssh_keygen_and_in_the_ledger(cli, signed, tmp_path):
    keygen = _ssh_keygen()
    key, checkpoint = signed
    result = _ssh_verify(keygen, Path(f"{key}.pub"), checkpoint, tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'Good "fact-ledger-checkpoint" signature for newsroom' in result.stdout
    assert checkpoint.read_text().startswith(
        "fact-ledger checkpoint v1\nledger: Newsroom\nsequence: 6\n"
    )
    assert (
        "1 signed checkpoint verified"
        in cli.ok("verify", "--checkpoint", str(checkpoint), "--public-key", f"{key}.pub").out
    )
    # The same head and key again: nothing new is signed.
    assert cli.ok("checkpoint", "--key", str(key)).out.startswith("Already signed")


def test_a_signature_made_by_ssh_keygen_verifies_in_the_ledger(signed, tmp_path):
    from ledger.checkpoint import load_public_key, verify_signature

    keygen = _ssh_keygen()
    key, checkpoint = signed
    theirs = tmp_path / "theirs.txt"
    theirs.write_bytes(checkpoint.read_bytes())
    subprocess.run(
        [keygen, "-Y", "sign", "-f", str(key), "-n", "fact-ledger-checkpoint", str(theirs)],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    public = load_public_key(Path(f"{key}.pub").read_bytes())
    verify_signature(theirs.read_bytes(), Path(f"{theirs}.sig").read_text(), public)
    # Ed25519 is deterministic: ssh-keygen's signature is byte for byte the ledger's.
    assert Path(f"{theirs}.sig").read_bytes() == Path(f"{checkpoint}.sig").read_bytes()


def _bad(cli, *args: str) -> str:
    result = cli("verify", *args)
    assert result.code == 1, result.out
    assert result.err.startswith("Error: ") and result.err.count("\n") == 1
    return result.err


def test_truncation_rewrite_and_forgeries_are_caught(cli, signed, tmp_path, db):
    key, checkpoint = signed
    args = ("--checkpoint", str(checkpoint), "--public-key", f"{key}.pub")
    log = Log(db)
    rows = log.original

    # The tail cut off: the chain alone still verifies (the replay of the tables would
    # not), the checkpoint does not.
    log.execute(("DELETE FROM event WHERE seq > :keep", {"keep": 4}))
    cli.ok("verify", "--chain-only")
    assert "before the checkpoint's event 6: it was truncated" in _bad(cli, *args)
    log.restore()

    # Rewritten wholesale from the first event, every hash recomputed.
    changed = [dict(r) for r in rows]
    changed[0]["actor"] = "someone else"
    log.replace(_rehash(changed))
    cli.ok("verify", "--chain-only")
    assert "sequence number 6" in _bad(cli, *args)
    log.restore()
    cli.ok("verify", *args)

    # Another key: its public key does not match the signature.
    other = tmp_path / "other-key"
    cli.ok("key", "generate", "--out", str(other))
    assert "signed with another key" in _bad(
        cli, "--checkpoint", str(checkpoint), "--public-key", f"{other}.pub"
    )
    # A forged checkpoint signed with another key, presented with that key's public half,
    # names a head that is not in this log.
    forged = tmp_path / "forged.txt"
    forged.write_text(checkpoint.read_text().replace(rows[5]["hash"], "f" * 64))
    from ledger.checkpoint import load_private_key, sign

    forged_key = load_private_key(other.read_bytes())
    Path(f"{forged}.sig").write_text(sign(forged.read_bytes(), forged_key))
    assert "says ffffffffffff" in _bad(
        cli, "--checkpoint", str(forged), "--public-key", f"{other}.pub"
    )
    # The head altered in a signed checkpoint: the signature no longer matches.
    Path(f"{forged}.sig").write_text(Path(f"{checkpoint}.sig").read_text())
    assert "does not match the checkpoint's text" in _bad(
        cli, "--checkpoint", str(forged), "--public-key", f"{key}.pub"
    )


def test_a_folder_of_checkpoints_shows_the_log_only_grew(cli, signed, tmp_path):
    from ledger.checkpoint import Checkpoint, CheckpointInvalid
    from ledger.store.checkpoints import check_growth

    key, _checkpoint = signed
    site = tmp_path / "site"
    cli.ok("person", "add", "Later")
    cli.ok("checkpoint", "--key", str(key))
    cli.ok("publish", "--out", str(site))
    folder = site / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == [
        "checkpoint-6.txt",
        "checkpoint-6.txt.sig",
        "checkpoint-7.txt",
        "checkpoint-7.txt.sig",
    ]
    assert (site / "checkpoint.txt").read_bytes() == (folder / "checkpoint-7.txt").read_bytes()
    page = (site / "people" / "later.md").read_text()
    footer = page.split("\nVerify this page: ", 1)[1].splitlines()[2]  # in the page's footer
    assert footer.startswith(
        "Signed checkpoint: [checkpoint-7.txt](<../checkpoints/checkpoint-7.txt>), event 7"
    )
    assert (
        "2 signed checkpoints verified"
        in cli.ok("verify", "--checkpoint", str(folder), "--public-key", f"{key}.pub").out
    )

    head = "a" * 64
    early = Checkpoint(ledger="N", sequence=9, head_hash=head, time="2026-01-01T00:00:00Z")
    later = Checkpoint(ledger="N", sequence=5, head_hash=head, time="2026-01-02T00:00:00Z")
    with pytest.raises(CheckpointInvalid, match="the log shrank"):
        check_growth([early, later])
    with pytest.raises(CheckpointInvalid, match="different heads"):
        check_growth(
            [
                early,
                Checkpoint(ledger="N", sequence=9, head_hash="b" * 64, time="2026-01-03T00:00:00Z"),
            ]
        )


def test_checkpoint_errors_are_one_line(cli, tmp_path):
    assert cli("checkpoint").err.startswith("Error: --key is required")
    key = tmp_path / "k"
    cli.ok("key", "generate", "--out", str(key))
    assert cli("key", "generate", "--out", str(key)).code == 1
    assert cli("checkpoint", "--key", str(key), "--name", "N").err.startswith(
        "Error: the ledger is empty"
    )
    cli.ok("person", "add", "A")
    assert cli("checkpoint", "--key", str(key)).err.startswith(
        "Error: the first checkpoint needs the ledger's name"
    )
    assert cli("checkpoint", "--key", f"{key}.pub", "--name", "N").code == 1
    assert cli("verify", "--checkpoint", "x.txt").code == 2
    with pytest.raises(AssertionError):
        cli.ok("verify", "--checkpoint", str(tmp_path / "none.txt"), "--public-key", f"{key}.pub")


def test_the_demo_checkpoint_is_in_reports_and_verifies(tmp_path):
    keygen = _ssh_keygen()
    reports = ROOT / "reports"
    result = _ssh_verify(keygen, DEMO_PUBLIC_KEY, reports / "checkpoint.txt", tmp_path)
    assert result.returncode == 0, result.stderr
    han = (reports / "people" / "han-dong.md").read_text()
    assert "Status changed: unverified → disputed." in han
    assert "publication date 2023-02-27 → 2023-03" in han
    sequence = (reports / "checkpoint.txt").read_text().splitlines()[2]
    assert f"ledger_sequence: {sequence.split(': ')[1]}\n" in han


def test_checkpoint_table_holds_text_and_signature(engine, signed):
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT seq, text, signature FROM checkpoint")).all()
    assert len(rows) == 1 and rows[0][0] == 6
    assert json.dumps(rows[0][1]).startswith('"fact-ledger checkpoint v1')
    assert rows[0][2].startswith("-----BEGIN SSH SIGNATURE-----\n")


def test_a_standalone_dossier_names_the_checkpoint_without_a_link(cli, signed):
    page = cli.ok("dossier", "Person 1").out
    assert (
        page.rstrip()
        .splitlines()[-1]
        .startswith("Signed checkpoint: checkpoint-6.txt, event 6 of the ledger “Newsroom”")
    )


def test_demo_force_never_signs_a_ledger_of_ones_own(cli, tmp_path):
    cli.ok("person", "add", "Someone")
    cli.ok("demo", "--force", "--out", str(tmp_path / "site"))
    assert not (tmp_path / "site" / "checkpoint.txt").exists()
    assert cli.ok("dossier", "Han Dong").out.count("#### Updates") == 0
