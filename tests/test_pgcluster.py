"""The throwaway PostgreSQL cluster used by the test suite (tests/pgcluster.py)."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import pytest
import sqlalchemy as sa

try:
    import pgcluster
except ModuleNotFoundError:  # tests/ turned into a package
    from tests import pgcluster


def _port_is_free(port: int) -> bool:
    # Nothing accepts connections any more ...
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        refused = probe.connect_ex(("127.0.0.1", port)) == errno.ECONNREFUSED
    # ... and the port can be bound again (SO_REUSEADDR, as a server would, so connections of
    # the stopped server lingering in TIME_WAIT do not count as "in use").
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return refused


def _postmaster_pid(cluster: pgcluster.PgCluster) -> int:
    return int((cluster.data_dir / "postmaster.pid").read_text().splitlines()[0])


@pytest.mark.postgres
def test_throwaway_cluster_lifecycle() -> None:
    pgcluster.require_postgres()

    with pgcluster.throwaway_cluster() as cluster:
        assert cluster.running
        base, port = cluster.base_dir, cluster.port
        assert base is not None and base.is_dir() and port is not None
        assert (base / f".s.PGSQL.{port}").exists(), "unix socket lives in the temp dir"
        pid = _postmaster_pid(cluster)

        url_a = cluster.create_database()
        url_b = cluster.create_database("second_db")
        assert url_a.startswith(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test_")
        assert url_b == f"postgresql+psycopg://postgres@127.0.0.1:{port}/second_db"

        engines = [sa.create_engine(url_a), sa.create_engine(url_b)]
        try:
            for i, engine in enumerate(engines):
                with engine.begin() as conn:
                    version = conn.execute(sa.text("SELECT version()")).scalar_one()
                    assert version.startswith("PostgreSQL ")
                    assert conn.execute(sa.text("SHOW listen_addresses")).scalar_one() == (
                        "127.0.0.1"
                    )
                    assert conn.execute(sa.text("SHOW fsync")).scalar_one() == "off"
                    conn.execute(sa.text("CREATE TABLE t (id integer PRIMARY KEY, v text)"))
                    conn.execute(
                        sa.text("INSERT INTO t VALUES (:id, :v)"), {"id": i, "v": f"db{i}"}
                    )
                with engine.connect() as conn:
                    rows = conn.execute(sa.text("SELECT id, v FROM t")).all()
                    assert [tuple(r) for r in rows] == [(i, f"db{i}")]  # databases are separate
        finally:
            for engine in engines:
                engine.dispose()

        cluster.drop_database("second_db")
        with sa.create_engine(cluster.url()).connect() as conn:
            names = conn.execute(sa.text("SELECT datname FROM pg_database")).scalars().all()
        assert "second_db" not in names
        assert url_a.rsplit("/", 1)[1] in names

    assert not cluster.running
    assert not base.exists(), "temp dir removed"
    assert not pgcluster._pid_alive(pid), "postmaster stopped"
    assert _port_is_free(port), "port released"


@pytest.mark.postgres
def test_cluster_cleaned_up_on_keyboard_interrupt() -> None:
    pgcluster.require_postgres()

    seen: dict[str, object] = {}
    with pytest.raises(KeyboardInterrupt), pgcluster.throwaway_cluster() as cluster:
        seen.update(base=cluster.base_dir, port=cluster.port, pid=_postmaster_pid(cluster))
        raise KeyboardInterrupt

    base, port, pid = seen["base"], seen["port"], seen["pid"]
    assert isinstance(base, Path) and isinstance(port, int) and isinstance(pid, int)
    assert not base.exists()
    assert not pgcluster._pid_alive(pid)
    assert _port_is_free(port)


def test_find_pg_bin_matches_reason() -> None:
    # Either binaries are found, or skip_or_fail_reason explains why not.
    if pgcluster.find_pg_bin() is None:
        assert pgcluster.skip_or_fail_reason()
    else:
        assert pgcluster._has_binaries(pgcluster.find_pg_bin())


def test_missing_binaries_skip_locally_fail_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgcluster, "find_pg_bin", lambda: None)
    pgcluster.skip_or_fail_reason.cache_clear()
    try:
        reason = pgcluster.skip_or_fail_reason()
        assert reason is not None and "initdb" in reason

        monkeypatch.setenv("CI", "true")
        with pytest.raises(pytest.fail.Exception, match="PostgreSQL required under CI"):
            pgcluster.require_postgres()

        monkeypatch.delenv("CI")
        with pytest.raises(pytest.skip.Exception, match="PostgreSQL not available"):
            pgcluster.require_postgres()
    finally:
        pgcluster.skip_or_fail_reason.cache_clear()


def test_rejects_odd_database_names() -> None:
    cluster = object.__new__(pgcluster.PgCluster)  # no server needed for the name check
    with pytest.raises(ValueError, match="unsupported database name"):
        pgcluster.PgCluster.create_database(cluster, "bad-name; DROP")
