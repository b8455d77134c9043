"""What every command shares: the state from the global options, output helpers, options.

This module and the command modules import only the standard library, typer and the ledger's
errors at start-up; the database stack is imported inside command bodies, so `--help` stays
fast.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session


def new_app(help_text: str) -> typer.Typer:
    """A sub-app with the settings every noun shares."""
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None,
                       add_completion=False, pretty_exceptions_enable=False)


def default_actor() -> str:
    """LEDGER_ACTOR, else the login name."""
    actor = os.environ.get("LEDGER_ACTOR")
    if actor:
        return actor
    import getpass  # with termios and pwd: only when the login name is needed

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass
class State:
    """The global options, and the ledger they open (lazily, once)."""

    db: str | None = None
    actor: str = field(default_factory=default_actor)
    _engine: Engine | None = None

    def engine(self, *, create: bool = False) -> Engine:
        """The ledger, opened once. Only `ledger init` and `ledger demo` may create one."""
        if self._engine is None:
            from ledger.db import open_ledger

            self._engine = open_ledger(self.db, create=create)
            resume_collector()
        return self._engine

    def close(self) -> None:
        """Close the ledger's pooled connections, if it was opened."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One command, one write transaction."""
        from ledger import values
        from ledger.db import transaction

        actor = values.line(self.actor, field="actor")
        with transaction(self.engine(), actor=actor) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        from ledger.db import reading

        with reading(self.engine()) as session:
            yield session


# Whether `pause_collector` turned the cycle collector off (and `resume_collector` has not yet
# turned it back on): only then does resuming touch it.
_collector = {"paused": False}


def pause_collector() -> None:
    """Python's cycle collector off while the console script starts up.

    Start-up is imports (SQLAlchemy, pydantic, SQLModel, the ledger's tables), which allocate
    hundreds of thousands of objects and free almost none: the collector's passes over them
    (about 160 during `ledger claim add`) find nothing to reclaim and were a tenth of the
    command. `resume_collector` turns it back on when the ledger is open.
    """
    if gc.isenabled():
        gc.disable()
        _collector["paused"] = True


def resume_collector() -> None:
    """The cycle collector back on, if `pause_collector` turned it off.

    What start-up made is frozen first (kept out of every later collection, as it lives to
    the end of the process anyway), so the first collections do not walk it all at once.
    """
    if _collector["paused"]:
        _collector["paused"] = False
        gc.freeze()
        gc.enable()


def state(ctx: typer.Context) -> State:
    """The shared state the root callback put on the context."""
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


# Paging for list commands; without --limit the whole list is printed (and --json stays one
# array of everything).
PageLimit = Annotated[int | None, typer.Option(
    "--limit", min=1, help="Show at most this many.", show_default=False)]
PageOffset = Annotated[int, typer.Option("--offset", min=0, help="Skip this many first.")]


@contextmanager
def progress_bar(description: str) -> Iterator[Any]:
    """A progress bar on stderr while a long command runs, only when stderr is a terminal.

    Yields a callback for the library, `callback(stage, done, total)` (total 0: unknown), or
    None when stderr is not a terminal, so pipes, files and tests get no progress output.
    The bar is rich's (Typer installs it), imported only here.
    """
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    # Data may go to stdout meanwhile (export): it must not be routed through the bar.
    with Progress(*columns, console=Console(stderr=True), transient=True,
                  redirect_stdout=False, redirect_stderr=False) as bar:
        tasks: dict[str, Any] = {}

        def callback(stage: str, done: int, total: int = 0) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{description}: {stage}", total=total or None)
            bar.update(tasks[stage], completed=done, total=total or None)

        yield callback


# Characters a terminal would act on, or that hide or reorder text: controls, format
# characters (bidirectional overrides and isolates, zero-width ones), lone surrogates and the
# Unicode line and paragraph separators. Every human-readable output shows them as <U+XXXX>,
# as the dossiers do, so a name cannot clear the screen or forge a line of `ledger log`.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_JOINERS = frozenset("\u200c\u200d")


def visible(text: str, *, keep_lines: bool = True) -> str:
    """`text` as it is safe to print: hidden characters (see `_HIDDEN`) as `<U+XXXX>`.

    Newlines and tabs stay unless `keep_lines` is false (one line of a listing: see
    `one_line`); ZWNJ and ZWJ stay between two visible non-ASCII characters (Persian, Indic
    scripts, emoji sequences), as in the dossiers.
    """
    if text.isprintable():
        return text
    import unicodedata

    kept = "\n\t" if keep_lines else ""

    def shown(index: int, char: str) -> str:
        if char in kept or unicodedata.category(char) not in _HIDDEN:
            return char
        if char in _JOINERS and 0 < index < len(text) - 1 and all(
                ord(c) > 0x7F and c.isprintable() for c in (text[index - 1], text[index + 1])):
            return char
        return f"<U+{ord(char):04X}>"

    return "".join(shown(index, char) for index, char in enumerate(text))


def one_line(text: str) -> str:
    """`text` made visible as one line: a newline in a value cannot start a forged line."""
    return visible(text, keep_lines=False)


def _json_escape(match: Any) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # as a surrogate pair, as JSON writes characters outside the BMP
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def emit_json(data: Any) -> None:
    """Print JSON only, to stdout. Hidden characters are written as \\u escapes (the JSON
    means the same), so the raw output is safe on a terminal too."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if not text.isascii():
        import re

        hidden = "".join(c for c in text if not c.isprintable() and c != "\n")
        if hidden:
            text = re.sub("[" + re.escape(hidden) + "]", _json_escape, text)
    sys.stdout.write(text + "\n")


def emit_json_array(records: list[Any]) -> None:
    """Print a long list as one JSON array, a record a line (the C encoder: indenting would
    take the pure-Python one, several times slower on a large ledger)."""
    encode = json.JSONEncoder(ensure_ascii=False).encode
    if not records:
        sys.stdout.write("[]\n")
        return
    sys.stdout.write("[\n" + ",\n".join(encode(record) for record in records) + "\n]\n")


def out(line: str = "") -> None:
    """Print data to stdout (hidden characters made visible)."""
    sys.stdout.write(visible(line) + "\n")


def warn(message: str) -> None:
    """Print a warning to stderr (hidden characters made visible)."""
    sys.stderr.write(f"Warning: {visible(message)}\n")


def info(message: str) -> None:
    """Print progress to stderr (hidden characters made visible)."""
    sys.stderr.write(visible(message) + "\n")


def table(rows: list[list[Any]], headers: list[str]) -> None:
    """Print rows as a plain aligned table (no colour: it goes into files and pipes)."""
    cells = [[one_line("" if v is None else str(v)) for v in row] for row in rows]
    widths = [min(60, max([len(h)] + [len(r[i]) for r in cells])) for i, h in enumerate(headers)]

    def fit(value: str, width: int) -> str:
        return value if len(value) <= width else value[: width - 1] + "…"

    out("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        out("  ".join(fit(v, w).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


Json = Annotated[bool, typer.Option("--json", help="Print JSON only (the record with its id).")]
PersonRef = Annotated[str, typer.Argument(help="Id (#12), slug, name, alias.", show_default=False)]
SourceRef = Annotated[str, typer.Argument(help="Source key (or id).", show_default=False)]
ClaimId = Annotated[str, typer.Argument(help="Claim id.", show_default=False)]
Quote = Annotated[str | None, typer.Option("--quote", help="The exact words in the source.")]
Voice = Annotated[str | None, typer.Option(
    "--voice", help='Who speaks inside the source, e.g. "two unnamed national security sources".')]
Anonymous = Annotated[bool, typer.Option("--anonymous", help="Short for --sourcing anonymous.")]
Sourcing = Annotated[str | None, typer.Option(
    "--sourcing", help="named | anonymous | document | official-record | unknown (default: "
    "named with --voice, else unknown).")]
Strict = Annotated[bool, typer.Option(
    "--strict", help="Refuse a quote that is not in the source's stored text.")]


def sourcing_of(sourcing: str | None, anonymous: bool) -> str | None:
    """--anonymous is the short form of --sourcing anonymous."""
    if anonymous and sourcing not in (None, "anonymous"):
        from ledger.errors import InvalidValue

        raise InvalidValue(f"--anonymous contradicts --sourcing {sourcing}")
    return "anonymous" if anonymous else sourcing


def report_quote(attribution: Any, source_key: str) -> None:
    """Warn at once when a recorded quote (an attribution's or a response's) is not in the
    source's stored text."""
    if attribution.quote_status == "not-found":
        warn(f"the quote is not in the stored text of {source_key!r}; it is recorded as "
             "not found (`ledger audit` shows the closest passage, --strict refuses it)")
    elif attribution.quote_status == "unverifiable":
        warn(f"{source_key!r} has no stored text, so the quote cannot be verified "
             "(add it with `ledger source edit KEY --text-file F`)")
