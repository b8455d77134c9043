"""`ledger checkpoint`, `ledger key generate` and `ledger changes`: signed checkpoints of the
log's head, and what changed since an anchor."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import Json, emit_json, new_app, out, state

key_app = new_app("Ed25519 key pairs for signed checkpoints.")

KeyFile = Annotated[
    str | None,
    typer.Option(
        "--key",
        envvar="LEDGER_KEY",
        help="The Ed25519 private key (OpenSSH format, from `ledger "
        "key generate` or `ssh-keygen -t ed25519`); env LEDGER_KEY. A key with a passphrase "
        "reads it from LEDGER_KEY_PASSPHRASE.",
    ),
]


def read_private_key(path: str | None):
    """The private key --key names (the one place the CLI reads it)."""
    from ledger.checkpoint import load_private_key
    from ledger.errors import InvalidValue, ReadFailed

    if not path:
        raise InvalidValue(
            "--key is required: the Ed25519 private key that signs checkpoints "
            "(make one with `ledger key generate`)"
        )
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ReadFailed(f"--key {path!r}: {exc.strerror}") from None
    return load_private_key(
        data, passphrase=os.environ.get("LEDGER_KEY_PASSPHRASE"), where=f"--key {path!r}"
    )


def read_public_key(path: str):
    """The public key --public-key names."""
    from ledger.checkpoint import load_public_key
    from ledger.errors import ReadFailed

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ReadFailed(f"--public-key {path!r}: {exc.strerror}") from None
    return load_public_key(data, where=f"--public-key {path!r}")


def checkpoint(
    ctx: typer.Context,
    key: KeyFile = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="The ledger's name in the checkpoint (needed the first "
            "time; later checkpoints keep it).",
        ),
    ] = None,
    out_file: Annotated[
        str | None,
        typer.Option(
            "--out", help="Also write the checkpoint to FILE and its signature to FILE.sig."
        ),
    ] = None,
    json: Json = False,
) -> None:
    """Sign the log's head (sequence number, head hash, UTC time, ledger name) and keep it.

    The signature is an OpenSSH signature (namespace fact-ledger-checkpoint), which
    `ssh-keygen -Y verify` checks with the public key; `ledger publish` writes every
    checkpoint beside the pages. Signing a head already signed with this key changes nothing.

    \b
    Example:
      ledger key generate --out newsroom-key
      ledger checkpoint --key newsroom-key --name "Newsroom ledger" --out head.txt
      ssh-keygen -Y verify -f allowed_signers -I newsroom \\
        -n fact-ledger-checkpoint -s head.txt.sig < head.txt
    """
    from ledger.checkpoint import fingerprint, signature_path
    from ledger.publish import write_atomically
    from ledger.store.checkpoints import add_checkpoint

    private_key = read_private_key(key)
    with state(ctx).write() as session:
        record, created = add_checkpoint(session, private_key=private_key, name=name)
        text, signature = record.text, record.signature
        seq, head_hash, signed_at = record.seq, record.head_hash, record.signed_at
    if out_file:
        path = Path(out_file)
        write_atomically(path, text.encode("utf-8"))
        write_atomically(signature_path(path), signature.encode("utf-8"))
    if json:
        emit_json(
            {
                "sequence": seq,
                "head_hash": head_hash,
                "time": signed_at,
                "created": created,
                "text": text,
                "signature": signature,
                "key": fingerprint(private_key.public_key()),
            }
        )
        return
    verb = "Signed" if created else "Already signed:"
    out(
        f"{verb} checkpoint of event {seq} ({head_hash}) at {signed_at}, key "
        f"{fingerprint(private_key.public_key())}"
    )


@key_app.command("generate")
def generate(
    out_file: Annotated[
        str,
        typer.Option(
            "--out",
            help="The private key file to write (mode 0600); the public key goes to "
            "FILE.pub. Neither may exist.",
        ),
    ] = "ledger-checkpoint-key",
) -> None:
    """Make an Ed25519 key pair for signing checkpoints (OpenSSH format, no passphrase).

    Keep the private key safe and publish the public key where readers can find it. An
    existing OpenSSH Ed25519 key (`ssh-keygen -t ed25519`) works too.

    \b
    Example:
      ledger key generate --out newsroom-key
    """
    from ledger.checkpoint import write_key_pair

    public_path, print_ = write_key_pair(Path(out_file))
    out(f"Wrote {out_file} (private, keep it safe) and {public_path} (public), key {print_}")


def changes(
    ctx: typer.Context,
    since: Annotated[
        str,
        typer.Option(
            "--since",
            help="SEQ:HASH: an anchor from a dossier, `ledger verify` or an earlier publish.",
            show_default=False,
        ),
    ],
    json: Json = False,
) -> None:
    """What changed since an anchor, grouped by record, field by field (Markdown).

    The anchor must verify first: the event it names must still be in the log, unchanged.

    \b
    Example:
      ledger changes --since 42:3f5c...e1
    """
    from ledger import store
    from ledger.changes_report import to_json, to_markdown
    from ledger.store.changes import changes_since

    anchor = store.parse_anchor(since)
    with state(ctx).read() as session:
        report = changes_since(session, anchor=anchor)
    if json:
        emit_json(to_json(report))
    else:
        out(to_markdown(report).rstrip("\n"))
