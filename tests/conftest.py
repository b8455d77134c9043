"""Shared fixtures: a migrated scratch ledger on SQLite and on PostgreSQL, a session, a CLI.

Every test that takes `db` runs twice: on a SQLite file and on a fresh database in a throwaway
PostgreSQL cluster the suite starts itself (a missing PostgreSQL skips those runs, or fails
them when CI=true).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import pgcluster

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO.parent / "shared" / "seeds"
EXAMPLE = REPO / "ledger" / "examples" / "story.jsonl"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="Rewrite golden files (tests/golden/, reports/) instead of comparing.")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was started with --update-golden: refresh, do not compare."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEDGER_ACTOR", "tester")
    monkeypatch.delenv("LEDGER_DB", raising=False)
    monkeypatch.delenv("LEDGER_DEBUG", raising=False)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


# On PostgreSQL the database names each event's actor: the login. The tests log in as
# superusers named as the tests' actors, so the same writes hash the same on both backends
# (and "demo" for the example ledger, which `ledger demo` records as "demo").
TEST_LOGINS = ("tester", "demo", "reviewer")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pgcluster.PgCluster]:
    for cluster in pgcluster.pg_cluster_fixture():
        with cluster._admin() as admin:
            for login in TEST_LOGINS:
                admin.execute(f"CREATE ROLE {login} SUPERUSER LOGIN")
        yield cluster


def login_as(url: str, login: str) -> str:
    """`url` with another PostgreSQL login."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{login}@{rest.split('@', 1)[1]}"


@pytest.fixture(scope="session")
def pg_template(pg_cluster: pgcluster.PgCluster) -> str:
    """A migrated database that each test's database is copied from."""
    from ledger import db

    name = "ledger_template"
    engine = db.make_engine(pg_cluster.create_database(name))
    db.upgrade(engine)
    engine.dispose()
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ledger import db

    path = tmp_path_factory.mktemp("template") / "ledger.db"
    engine = db.make_engine(db.database_url(str(path)))
    db.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The --db value of a fresh, migrated, empty ledger."""
    if request.param == "sqlite":
        path = tmp_path / "ledger.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield str(path)
        return
    cluster: pgcluster.PgCluster = request.getfixturevalue("pg_cluster")
    template = request.getfixturevalue("pg_template")
    name = cluster.new_database_name()
    try:
        with cluster._admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    except Exception as exc:  # the server is gone: say why, from its own log
        pytest.fail(f"the test PostgreSQL cluster is unreachable ({exc}); its log ends:\n"
                    f"{cluster._log_tail(40)}")
    url = login_as(cluster.url(name), "tester")
    yield url.replace("postgresql+psycopg://", "postgresql://")
    _dispose_engines()
    cluster.drop_database(name)


def _dispose_engines() -> None:
    import gc

    from sqlalchemy.engine import Engine

    for obj in gc.get_objects():
        if isinstance(obj, Engine):
            obj.dispose()


def new_ledger(path: Path | str) -> str:
    """A new, migrated SQLite ledger at `path`, as `ledger init PATH` makes it (no other
    command creates one)."""
    from ledger.db import open_ledger

    open_ledger(str(path)).dispose()
    return str(path)


@pytest.fixture
def engine(db: str):
    from ledger.db import open_ledger

    engine = open_ledger(db)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    """A write session; the test commits nothing unless it says so."""
    from ledger.db import transaction

    with transaction(engine, actor="tester") as session:
        yield session


@dataclass
class Result:
    code: int
    out: str
    err: str


class Cli:
    """Runs `ledger` in-process against one database, capturing its output."""

    def __init__(self, db: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.db = db
        self.capsys = capsys

    def __call__(self, *args: str) -> Result:
        from ledger.cli import run

        self.capsys.readouterr()
        code = run(["--db", self.db, *args])
        captured = self.capsys.readouterr()
        return Result(code, captured.out, captured.err)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.code == 0, f"ledger {' '.join(args)} exited {result.code}: {result.err}"
        return result

    def json(self, *args: str):
        import json

        return json.loads(self.ok(*args, "--json").out)


@pytest.fixture
def cli(db: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(db, capsys)


@pytest.fixture
def story(cli: Cli) -> Cli:
    """A ledger holding the bundled example (the seed story), every claim approved by a
    reviewer (only approved claims are published)."""
    from reviewing import approve_all

    cli.ok("import", str(EXAMPLE))
    approve_all(cli.db)
    return cli
