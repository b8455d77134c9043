"""Signed checkpoints of the log's head, as OpenSSH signatures (SSHSIG).

A checkpoint is a short text naming the ledger, the newest event's sequence number and hash,
and the UTC time it was signed:

    fact-ledger checkpoint v1
    ledger: Example ledger
    sequence: 87
    head: 3f5c...e1 (64 hex characters)
    time: 2026-01-01T00:00:00Z

Its signature is an OpenSSH signature (the SSHSIG format of OpenSSH's PROTOCOL.sshsig) with
an Ed25519 key, in the namespace `fact-ledger-checkpoint`, armored as `ssh-keygen -Y sign`
writes it. `ssh-keygen -Y verify` checks it with nothing but the public key, and a signature
made by `ssh-keygen -Y sign` verifies here. The wire format (strings with a 4-byte length) is
assembled here; hashing is hashlib's SHA-512 and the signing and verifying are the
`cryptography` package's Ed25519, never hand-written primitives.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import InvalidValue, LedgerError

NAMESPACE = "fact-ledger-checkpoint"
HEADER = "fact-ledger checkpoint v1"
_MAGIC = b"SSHSIG"
_VERSION = 1
_KEY_TYPE = b"ssh-ed25519"
_BEGIN = "-----BEGIN SSH SIGNATURE-----"
_END = "-----END SSH SIGNATURE-----"
_HASHES = {"sha512": hashlib.sha512, "sha256": hashlib.sha256}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class CheckpointInvalid(LedgerError):
    """A checkpoint's signature, text or head does not verify."""


class KeyUnusable(LedgerError):
    """A key file cannot be read or is not an Ed25519 key."""


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint says: the ledger's name, its head (sequence, hash) and the time."""

    ledger: str
    sequence: int
    head_hash: str
    time: str

    @property
    def anchor(self) -> tuple[int, str]:
        return self.sequence, self.head_hash

    def text(self) -> str:
        """The exact text that is signed."""
        return (
            f"{HEADER}\nledger: {self.ledger}\nsequence: {self.sequence}\n"
            f"head: {self.head_hash}\ntime: {self.time}\n"
        )


def ledger_name(value: str) -> str:
    """A ledger's name as a checkpoint carries it: one line of printable text, 1-200 chars."""
    name = " ".join(str(value).split())
    if not name or len(name) > 200 or not name.isprintable():
        raise InvalidValue("--name must be one line of 1 to 200 printable characters")
    return name


def checkpoint_time(at: str) -> str:
    """An event clock's time (`2026-01-01T00:00:00.000000Z`) to the second, UTC."""
    return f"{at[:19]}Z"


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint's text; anything but the five lines it must have is refused."""
    lines = text.split("\n")
    if len(lines) != 6 or lines[0] != HEADER or lines[5] != "":
        raise CheckpointInvalid(
            f"not a checkpoint: it must be the five lines that start with "
            f"{HEADER!r}, each ending in a newline"
        )
    fields = {}
    for line, name in zip(lines[1:5], ("ledger", "sequence", "head", "time"), strict=True):
        prefix = f"{name}: "
        if not line.startswith(prefix):
            raise CheckpointInvalid(f"not a checkpoint: expected a {name!r} line, found {line!r}")
        fields[name] = line[len(prefix) :]
    if (
        not fields["sequence"].isdigit()
        or not _HEX64.match(fields["head"])
        or not _TIME.match(fields["time"])
    ):
        raise CheckpointInvalid("not a checkpoint: its sequence, head or time is malformed")
    return Checkpoint(
        ledger=fields["ledger"],
        sequence=int(fields["sequence"]),
        head_hash=fields["head"],
        time=fields["time"],
    )


# --- keys ----------------------------------------------------------------------------------


def generate_key(comment: str = "fact-ledger checkpoint key") -> tuple[bytes, bytes]:
    """A new Ed25519 key pair: (the private key in OpenSSH's format, the public key line)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return private, public_key_line(key.public_key(), comment)


def public_key_line(public_key, comment: str = "") -> bytes:
    """The OpenSSH public key line (`ssh-ed25519 AAAA... comment`)."""
    from cryptography.hazmat.primitives import serialization

    line = public_key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return line + (b" " + comment.encode("utf-8") if comment else b"") + b"\n"


def load_private_key(data: bytes, *, passphrase: str | None = None, where: str = "--key"):
    """An Ed25519 private key from an OpenSSH (or PEM) private key file's bytes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    password = passphrase.encode("utf-8") if passphrase else None
    try:
        if b"BEGIN OPENSSH PRIVATE KEY" in data:
            key = serialization.load_ssh_private_key(data, password=password)
        else:
            key = serialization.load_pem_private_key(data, password=password)
    except TypeError:
        raise KeyUnusable(
            f"{where} is protected by a passphrase: set LEDGER_KEY_PASSPHRASE"
        ) from None
    except ValueError as exc:
        raise KeyUnusable(
            f"{where} is not a private key this ledger can read ({exc}); make "
            "one with `ledger key generate`"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyUnusable(
            f"{where} is not an Ed25519 key; checkpoints are signed with "
            "Ed25519 (`ledger key generate`, or `ssh-keygen -t ed25519`)"
        )
    return key


def load_public_key(data: bytes, *, where: str = "--public-key"):
    """An Ed25519 public key from an OpenSSH public key line (`ssh-ed25519 AAAA...`)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    line = data.strip().split(b"\n")[0]
    try:
        key = serialization.load_ssh_public_key(b" ".join(line.split()[:2]))
    except (ValueError, IndexError):
        raise KeyUnusable(
            f"{where} is not an OpenSSH public key line (ssh-ed25519 AAAA...)"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyUnusable(f"{where} is not an Ed25519 public key")
    return key


def fingerprint(public_key) -> str:
    """The key's fingerprint as `ssh-keygen -l` prints it (`SHA256:...`)."""
    digest = hashlib.sha256(_public_blob(public_key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


# --- the SSHSIG format -----------------------------------------------------------------------


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _public_blob(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _string(_KEY_TYPE) + _string(raw)


def _signed_data(message: bytes, *, namespace: str, hash_name: str) -> bytes:
    digest = _HASHES[hash_name](message).digest()
    return (
        _MAGIC
        + _string(namespace.encode("utf-8"))
        + _string(b"")
        + _string(hash_name.encode("ascii"))
        + _string(digest)
    )


def sign(message: bytes, private_key, *, namespace: str = NAMESPACE) -> str:
    """The armored OpenSSH signature of `message`, as `ssh-keygen -Y sign -n NAMESPACE`
    writes it (Ed25519 signatures are deterministic: the same key and text, the same bytes)."""
    signature = private_key.sign(_signed_data(message, namespace=namespace, hash_name="sha512"))
    blob = (
        _MAGIC
        + struct.pack(">I", _VERSION)
        + _string(_public_blob(private_key.public_key()))
        + _string(namespace.encode("utf-8"))
        + _string(b"")
        + _string(b"sha512")
        + _string(_string(_KEY_TYPE) + _string(signature))
    )
    encoded = base64.b64encode(blob).decode("ascii")
    lines = [encoded[i : i + 70] for i in range(0, len(encoded), 70)]
    return "\n".join([_BEGIN, *lines, _END]) + "\n"


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, count: int) -> bytes:
        if self.at + count > len(self.data):
            raise CheckpointInvalid("the signature is cut short")
        piece = self.data[self.at : self.at + count]
        self.at += count
        return piece

    def string(self) -> bytes:
        (length,) = struct.unpack(">I", self.take(4))
        return self.take(length)


def verify_signature(
    message: bytes, armored: str, public_key, *, namespace: str = NAMESPACE
) -> None:
    """Check an armored OpenSSH signature of `message` against `public_key`; raise
    CheckpointInvalid, saying why, unless it verifies."""
    from cryptography.exceptions import InvalidSignature

    text = armored.strip()
    if not (text.startswith(_BEGIN) and text.endswith(_END)):
        raise CheckpointInvalid(
            f"the signature file is not an OpenSSH signature ({_BEGIN} ... {_END})"
        )
    try:
        blob = base64.b64decode("".join(text[len(_BEGIN) : -len(_END)].split()), validate=True)
    except ValueError:
        raise CheckpointInvalid("the signature is not valid base64") from None
    reader = _Reader(blob)
    if reader.take(6) != _MAGIC or struct.unpack(">I", reader.take(4))[0] != _VERSION:
        raise CheckpointInvalid("the signature is not an SSHSIG version 1 signature")
    signer = reader.string()
    signed_namespace = reader.string().decode("utf-8", "replace")
    reader.string()  # reserved
    hash_name = reader.string().decode("ascii", "replace")
    signature_blob = _Reader(reader.string())
    if signed_namespace != namespace:
        raise CheckpointInvalid(
            f"the signature is for namespace {signed_namespace!r}, not {namespace!r}"
        )
    if hash_name not in _HASHES:
        raise CheckpointInvalid(f"the signature uses an unknown hash {hash_name!r}")
    if signature_blob.string() != _KEY_TYPE:
        raise CheckpointInvalid("the signature is not an Ed25519 signature")
    if signer != _public_blob(public_key):
        raise CheckpointInvalid(
            "the checkpoint was signed with another key, not the public key given"
        )
    try:
        public_key.verify(
            signature_blob.string(), _signed_data(message, namespace=namespace, hash_name=hash_name)
        )
    except InvalidSignature:
        raise CheckpointInvalid(
            "the signature does not match the checkpoint's text: the text "
            "or the signature was altered"
        ) from None


# --- files ---------------------------------------------------------------------------------


def verify_signed(text: bytes, signature: str, public_key, *, where: str) -> Checkpoint:
    """The checkpoint in `text`, once its signature verifies with `public_key`."""
    try:
        verify_signature(text, signature, public_key)
        return parse_checkpoint(text.decode("utf-8"))
    except CheckpointInvalid as exc:
        raise CheckpointInvalid(f"{where}: {exc}") from None
    except UnicodeDecodeError:
        raise CheckpointInvalid(f"{where}: not UTF-8 text") from None


def signature_path(path: Path) -> Path:
    """Where a checkpoint's signature lives: beside it, with `.sig` added."""
    return path.with_name(path.name + ".sig")


def checkpoint_files(path: Path) -> list[Path]:
    """The checkpoint texts `--checkpoint` names: a file (or its `.sig`), or every `*.txt`
    with a `.sig` beside it in a folder."""
    if path.is_dir():
        found = sorted(
            p for p in path.iterdir() if p.suffix == ".txt" and signature_path(p).is_file()
        )
        if not found:
            raise CheckpointInvalid(
                f"--checkpoint {str(path)!r}: no checkpoint (a .txt with "
                "its .txt.sig) in this folder"
            )
        return found
    if path.name.endswith(".sig"):
        path = path.with_name(path.name[:-4])
    return [path]


def read_signed_files(path: Path, public_key) -> list[Checkpoint]:
    """Every checkpoint `path` names, each verified with `public_key`."""
    from ledger.errors import ReadFailed

    checkpoints = []
    for text_path in checkpoint_files(path):
        try:
            text = text_path.read_bytes()
            signature = signature_path(text_path).read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise ReadFailed(
                f"--checkpoint: no file {exc.filename!r} (a checkpoint is FILE "
                "and its signature FILE.sig)"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ReadFailed(f"--checkpoint {str(text_path)!r}: {exc}") from None
        checkpoints.append(verify_signed(text, signature, public_key, where=str(text_path)))
    return checkpoints


def write_key_pair(path: Path) -> tuple[Path, str]:
    """Make a new Ed25519 key pair: `path` (private, mode 0600) and `path.pub`; neither may
    exist. Returns the public key file and the key's fingerprint."""
    import os

    from ledger.errors import Conflict

    public_path = path.with_name(path.name + ".pub")
    for target in (path, public_path):
        if target.exists():
            raise Conflict(
                f"{str(target)!r} exists; choose another --out (a key is never overwritten)"
            )
    private, public = generate_key()
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "wb") as stream:
            stream.write(private)
        public_path.write_bytes(public)
    except OSError as exc:
        raise KeyUnusable(f"cannot write the key to {str(path)!r}: {exc.strerror}") from None
    return public_path, fingerprint(load_public_key(public))
