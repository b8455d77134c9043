"""Layers you can see from the file list: only the store (ledger/store/) and ledger/db.py
touch SQL; nothing outside the store writes a row or an event; the store's modules import
one another without a cycle, and without function-level imports hiding one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[1] / "ledger"
# Where SQL may be written: the store, the engine and migrations, the table definitions.
SQL_ALLOWED = ("store/", "db.py", "models.py")
# Query builders and session calls that run SQL.
SQL_BUILDERS = {"select", "insert", "update", "delete", "text", "func", "or_", "and_"}
SESSION_CALLS = {
    "add",
    "add_all",
    "delete",
    "merge",
    "execute",
    "exec",
    "exec_driver_sql",
    "get",
    "connection",
    "scalar",
    "scalars",
    "flush",
    "commit",
    "bulk_save_objects",
}
SQL_TEXT = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
    r"CREATE\s+(TABLE|TRIGGER|INDEX)|DROP\s+(TABLE|TRIGGER))\b",
    re.DOTALL,
)


def _modules(outside: tuple[str, ...] = (), library: Path = LIBRARY):
    for path in sorted(library.rglob("*.py")):
        relative = path.relative_to(library).as_posix()
        if relative.startswith(outside):
            continue
        yield relative, ast.parse(path.read_text(encoding="utf-8"))


def _receiver(node: ast.AST) -> str:
    while isinstance(node, ast.Attribute):
        node = node.value
    if isinstance(node, ast.Call):
        return _receiver(node.func)
    return node.id if isinstance(node, ast.Name) else ""


def _sql_outside_the_store(library: Path) -> list[str]:
    offenders = []
    for relative, tree in _modules(outside=SQL_ALLOWED, library=library):
        for node in ast.walk(tree):
            where = f"{relative}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
                "sqlalchemy",
                "sqlmodel",
            ):
                builders = {a.name for a in node.names} & SQL_BUILDERS
                if builders:
                    offenders.append(f"{where} imports {', '.join(sorted(builders))}")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                receiver = _receiver(node.func.value)
                if node.func.attr in SESSION_CALLS and receiver in (
                    "session",
                    "connection",
                    "engine",
                ):
                    offenders.append(f"{where} calls {receiver}.{node.func.attr}")
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and SQL_TEXT.search(node.value)
            ):
                offenders.append(f"{where} holds SQL text")
    return offenders


def test_no_sql_and_no_writes_outside_the_store():
    assert _sql_outside_the_store(LIBRARY) == []


def test_the_checks_find_what_they_look_for(tmp_path):
    """The scan above is not blind: a module that queries and writes is caught."""
    bad = tmp_path / "ledger"
    bad.mkdir()
    (bad / "bad.py").write_text(
        "from sqlmodel import select\n"
        "def f(session):\n"
        "    session.add(object())\n"
        "    session.exec(select(1))\n"
        "    return 'SELECT id FROM claim'\n",
        encoding="utf-8",
    )
    found = " ".join(_sql_outside_the_store(bad))
    for what in ("imports select", "calls session.add", "calls session.exec", "holds SQL text"):
        assert what in found


def _store_imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for relative, tree in _modules():
        if not relative.startswith("store/"):
            continue
        name = "ledger." + relative[:-3].replace("/", ".")
        targets: set[str] = set()
        for node in tree.body:  # module level only; function-level ones are tested below
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ledger.store."):
                targets.add(node.module)
        graph[name] = targets
    return graph


def test_store_modules_import_one_another_without_a_cycle():
    graph = _store_imports()
    visiting, done = set(), set()

    def visit(node: str, path: list[str]) -> None:
        if node in done:
            return
        assert node not in visiting, "import cycle: " + " -> ".join([*path, node])
        visiting.add(node)
        for target in sorted(graph.get(node, ())):
            visit(target, [*path, node])
        visiting.discard(node)
        done.add(node)

    for module in sorted(graph):
        visit(module, [])


def test_no_function_level_import_of_another_store_module():
    offenders = []
    for relative, tree in _modules():
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.ImportFrom)
                    and (node.module or "").startswith("ledger.store.")
                    and relative.startswith("store/")
                ):
                    offenders.append(f"{relative}:{node.lineno} {node.module}")
    assert offenders == []
