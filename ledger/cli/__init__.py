"""The `ledger` command line: one Typer sub-app per noun, plus a few top-level verbs.

`run()` is the one place that turns the ledger's errors into `Error: ...` on stderr and the
documented exit code (2 for a malformed value, 1 for the rest), never a traceback.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from ledger.cli.common import State, new_app, pause_collector

_HELP = (
    "A claim-and-response fact ledger: allegations, their sources and exact quotes, and every "
    "answer to them.\n\nThe database is --db (or LEDGER_DB), default ./ledger.db: a file path "
    "for SQLite, or a postgresql:// URL."
)

# The command tree, in the order `ledger --help` lists it: each group or top-level command
# by name, with the module of `ledger.cli` and the attribute that define it. A command line
# that names one imports that module alone (see `_app_for`); the whole tree imports them all.
_GROUP, _COMMAND = "group", "command"
_PARTS: tuple[tuple[str, str, str, str], ...] = (
    ("person", _GROUP, "people", "app"),
    ("source", _GROUP, "sources", "app"),
    ("claim", _GROUP, "claims", "app"),
    ("response", _GROUP, "claims", "response_app"),
    ("reply", _GROUP, "claims", "reply_app"),
    ("review", _GROUP, "reviews", "app"),
    ("db", _GROUP, "database", "app"),
    ("init", _COMMAND, "database", "init"),
    ("log", _COMMAND, "history", "log"),
    ("verify", _COMMAND, "history", "verify"),
    ("changes", _COMMAND, "integrity", "changes"),
    ("checkpoint", _COMMAND, "integrity", "checkpoint"),
    ("key", _GROUP, "integrity", "key_app"),
    ("import", _COMMAND, "transfer", "import_"),
    ("export", _COMMAND, "transfer", "export"),
    ("audit", _COMMAND, "audit", "audit"),
    ("search", _COMMAND, "search", "search"),
    ("dossier", _COMMAND, "publishing", "dossier"),
    ("publish", _COMMAND, "publishing", "publish"),
    ("demo", _COMMAND, "publishing", "demo"),
)


def _add(target: typer.Typer, part: tuple[str, str, str, str], word: str | None = None) -> None:
    """Add one group or command of `_PARTS` to `target`, importing its module; a group with
    only its command `word` when it has one (see `_group_for`)."""
    import importlib

    name, kind, module, attribute = part
    defined = getattr(importlib.import_module(f"ledger.cli.{module}"), attribute)
    if kind == _GROUP:
        target.add_typer(_group_for(defined, word), name=name)
    else:
        target.command(name)(defined)


def root(ctx: typer.Context,
         db: Annotated[str | None, typer.Option(
             "--db", envvar="LEDGER_DB", help="Ledger file path or postgresql:// URL "
             "[default: ./ledger.db].", show_default=False)] = None,
         actor: Annotated[str | None, typer.Option(
             "--actor", envvar="LEDGER_ACTOR", help="Who is recording, for the history "
             "[default: your login name]. On PostgreSQL the actor is the database login and "
             "this is recorded as on behalf of.", show_default=False)] = None) -> None:
    """A claim-and-response fact ledger."""
    ctx.obj = State(db=db) if actor is None else State(db=db, actor=actor)
    # Close the ledger's connections when the command ends, so `run()` called in a loop
    # (scripts, tests, a worker process) does not hold one open connection per call.
    ctx.call_on_close(ctx.obj.close)


def backup(ctx: typer.Context,
           dest: Annotated[str, typer.Argument(help="The file to write (must not exist).")]
           ) -> None:
    """Copy a SQLite ledger with SQLite's online backup API, safe while others write.

    For a PostgreSQL ledger use pg_dump (`pg_dump --format=custom -f ledger.dump URL`).

    \b
    Example:
      ledger backup backups/ledger-2023-03-24.db
    """
    from ledger.backup import backup_sqlite
    from ledger.cli.common import out, state

    state(ctx).engine()  # the schema check, as for any command
    backup_sqlite(state(ctx).db, dest)
    out(f"Backed up to {dest}")


_GLOBAL_OPTIONS = ("--db", "--actor")


def _whole_app() -> typer.Typer:
    """Every group and command (what `ledger --help` lists), made once."""
    global _WHOLE
    if _WHOLE is None:
        whole = new_app(_HELP)
        whole.callback()(root)
        for part in _PARTS:
            _add(whole, part)
        whole.command("backup")(backup)
        _WHOLE = whole
    return _WHOLE


_WHOLE: typer.Typer | None = None


def __getattr__(name: str):
    # `ledger.cli.app`, the whole tree, is made when first asked for.
    if name == "app":
        return _whole_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _app_for(argv: list[str]) -> typer.Typer:
    """The app to run: only the group or top-level command the command line names, else the
    whole app.

    Typer builds the whole command tree on every call, which costs more than most commands
    do: `ledger claim add` needs the claim group with its `add` alone, and `ledger init`
    needs itself; only the module that defines it is imported. A group named without one of
    its commands (`ledger claim`, `ledger claim --help`, a misspelt command) gets the whole
    group, so its help and errors are the same.
    """
    words = iter(argv)
    name = None
    for word in words:
        if word in _GLOBAL_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            name = word
            break
        elif not word.startswith(tuple(f"{o}=" for o in _GLOBAL_OPTIONS)):
            return _whole_app()  # --help and the like: the whole app
    part = next((p for p in _PARTS if p[0] == name), None)
    if part is None and name != "backup":
        return _whole_app()
    slim = new_app(_HELP)
    slim.callback()(root)
    if part is None:
        slim.command("backup")(backup)
    else:
        _add(slim, part, next(words, None))
    return slim


def _group_for(group: typer.Typer, word: str | None) -> typer.Typer:
    """The group with only the command `word` names, else the whole group."""
    command = next((c for c in group.registered_commands if c.name == word), None)
    if command is None:
        return group
    slim = new_app(group.info.help)
    slim.registered_commands.append(command)
    return slim


def _plain_coercion() -> None:
    """Coerce text and flags the way Typer would, without building a pydantic validator for
    each parameter.

    Typer 0.29 builds a pydantic `TypeAdapter` for every parameter of the command it runs,
    given or not, importing pydantic's validators to do it: a fifth of `ledger claim add`.
    The ledger's options are `str`, `list[str]`, `bool` and `int`; for a `str` (or
    `list[str]`, or `bool`) parameter a string (strings, a bool) comes back unchanged, as
    pydantic's lax mode gives it back. Anything else (an int, an environment variable's text
    for a flag) gets Typer's own coercion, built when a value needs it. Another Typer,
    without these internals, keeps its own everywhere.
    """
    try:
        from typer import core
        from typer._coercion import RuntimeParam
    except ImportError:
        return
    typer_own = getattr(core, "build_runtime_param", None)
    if typer_own is None or getattr(typer_own, "plain", False):
        return

    @dataclass(frozen=True)
    class Plain(RuntimeParam):
        descriptor: Any

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            kind = self.annotation
            if type(value) is kind and kind in (str, bool):
                return value
            if (kind == list[str] and isinstance(value, (list, tuple))
                    and all(type(item) is str for item in value)):
                return list(value)
            return typer_own(self.descriptor)._coerce_value(value, param=param, ctx=ctx)

    def build_runtime_param(descriptor: Any) -> Any:
        if (descriptor.annotation in (str, bool, list[str])
                and descriptor.file_annotation is None
                and getattr(descriptor.parameter_info, "parser", None) is None):
            return Plain(parameter_info=descriptor.parameter_info,
                         annotation=descriptor.annotation, descriptor=descriptor)
        return typer_own(descriptor)

    build_runtime_param.plain = True  # type: ignore[attr-defined]
    core.build_runtime_param = build_runtime_param


_plain_coercion()


def run(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        _app_for(argv)(args=argv, prog_name="ledger")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:
        return _report(exc)
    return 0


def _report(exc: Exception) -> int:
    from ledger.cli.common import visible
    from ledger.errors import LedgerError

    if isinstance(exc, LedgerError):
        sys.stderr.write(f"Error: {visible(str(exc))}\n")
        return exc.exit_code
    if os.environ.get("LEDGER_DEBUG"):
        raise exc
    message = _database_message(exc)
    if message is None and isinstance(exc, OSError):
        message = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    if message is None:
        message = (f"unexpected {type(exc).__name__}: {exc}. Nothing was written. Run again "
                   "with LEDGER_DEBUG=1 for the details, and report it.")
    sys.stderr.write(f"Error: {visible(message)}\n")
    return 1


def _database_message(exc: Exception) -> str | None:
    from sqlalchemy.exc import SQLAlchemyError

    if not isinstance(exc, SQLAlchemyError):
        return None
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return f"the database refused the change ({detail}); nothing was written"


def main() -> None:
    """The console script.

    It ends the process without tearing the interpreter down: by then every file is closed,
    the ledger's connections are closed (see `root`), and the output is flushed here, while
    the teardown (collecting SQLAlchemy's and pydantic's objects) costs about 70 ms, more
    than most commands take. Python's cycle collector is off during start-up (see
    `pause_collector`); it is back on once the ledger is open.
    """
    pause_collector()
    code = run()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader went away (`ledger log | head`): not our error
        code = code or 0
    os._exit(code)
