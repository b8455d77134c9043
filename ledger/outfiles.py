"""Files the ledger writes for others to read: atomically, with the mode the umask gives.

A published page, an export or a dossier written with `--out` is served by a web server or
read by another user, so it gets the mode any new file gets (0644 under umask 022), not the
0600 of `tempfile.mkstemp`. It is written to a temporary file beside its target and renamed
into place, so a reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path

# What open(2) is asked for; the umask takes away the rest, as for any new file.
NEW_FILE_MODE = 0o666


def create_new(path: Path) -> int:
    """Open a new file for writing at `path` (refused if anything is there, a symlink too)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    return os.open(path, flags | getattr(os, "O_CLOEXEC", 0), NEW_FILE_MODE)


def write_new(path: Path, data: bytes) -> None:
    """Write `data` to a new file at `path` (see `create_new`)."""
    with os.fdopen(create_new(path), "wb") as stream:
        stream.write(data)


def write_atomically(path: Path, chunks: Iterable[bytes], *, durable: bool = False) -> None:
    """Write the chunks to a temporary file beside `path`, then rename it into place.

    `durable` fsyncs the file before the rename (an export a user keeps); published pages
    skip it, because the next publish regenerates them and an fsync each costs more than
    rendering the page.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        temp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            handle = create_new(temp)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(handle, "wb") as stream:
            for chunk in chunks:
                stream.write(chunk)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def new_file_mode() -> int:
    """The permission bits a new file gets under the current umask (0o644 under 022)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return NEW_FILE_MODE & ~mask
