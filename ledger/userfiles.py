"""Reading a file the user named: one place for the friendly errors.

Every command that reads a user's file (a bundle, a CSV and its mapping, ClaimReview, a
source's text) reads it here, so a missing file, a directory, a file that is not UTF-8 or one
that cannot be read gives the same one-line error (`ReadFailed`, exit 1) naming the option
and the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ledger.errors import ReadFailed

ICONV = "convert it first, e.g. with iconv"


def read_text(
    path: str | Path, *, option: str | None = None, encoding: str = "utf-8", hint: str = ICONV
) -> str:
    """The file's text; `option` names where it came from (`--text-file`), `hint` says what
    to do with a file that is not UTF-8. `encoding="utf-8-sig"` drops a byte-order mark."""
    shown = repr(str(path))
    label = f"{option} {shown}" if option else shown
    try:
        return Path(path).read_text(encoding=encoding)
    except FileNotFoundError:
        raise ReadFailed(f"{option + ': ' if option else ''}no file {shown}") from None
    except IsADirectoryError:
        raise ReadFailed(f"{label} is a folder; give a file") from None
    except UnicodeDecodeError as exc:
        raise ReadFailed(
            f"{label} is not UTF-8 text ({exc.reason} at byte {exc.start}); {hint}"
        ) from None
    except OSError as exc:
        raise ReadFailed(f"cannot read {label}: {exc.strerror}") from None


def read_lines(path: str | Path, *, option: str | None = None, hint: str = ICONV) -> Iterator[str]:
    """The file's UTF-8 lines, one at a time (so a large file is never held whole), split on
    \\n only and without it (a \\r before it is kept); the same errors as `read_text`, the
    byte offset of bad UTF-8 counted from the start of the file."""
    shown = repr(str(path))
    label = f"{option} {shown}" if option else shown
    try:
        handle = open(path, "rb")  # noqa: SIM115  (closed below; lines are yielded meanwhile)
    except FileNotFoundError:
        raise ReadFailed(f"{option + ': ' if option else ''}no file {shown}") from None
    except IsADirectoryError:
        raise ReadFailed(f"{label} is a folder; give a file") from None
    except OSError as exc:
        raise ReadFailed(f"cannot read {label}: {exc.strerror}") from None
    offset = 0
    with handle:
        while True:
            try:
                raw = handle.readline()
            except IsADirectoryError:
                raise ReadFailed(f"{label} is a folder; give a file") from None
            except OSError as exc:
                raise ReadFailed(f"cannot read {label}: {exc.strerror}") from None
            if not raw:
                return
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ReadFailed(
                    f"{label} is not UTF-8 text ({exc.reason} at byte {offset + exc.start}); {hint}"
                ) from None
            offset += len(raw)
            yield line.removesuffix("\n")
