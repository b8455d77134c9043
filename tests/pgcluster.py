"""Throwaway PostgreSQL clusters for the test suite.

Project rule: tests start their own throwaway cluster in a temp folder on a free loopback port
and stop it afterwards; under CI (``CI=true``) a missing PostgreSQL is a failure, elsewhere those
tests skip with a clear reason.

Usage::

    from pgcluster import require_postgres, throwaway_cluster

    require_postgres()                      # skip (or fail under CI) when PostgreSQL is missing
    with throwaway_cluster() as cluster:    # initdb + pg_ctl start; always stopped and removed
        url = cluster.create_database()     # "postgresql+psycopg://postgres@127.0.0.1:<port>/<db>"
        ...
        cluster.drop_database(name)

For pytest fixtures (conftest.py), wrap the generator helpers ``pg_cluster_fixture()`` (one
cluster, e.g. session scope) and ``pg_database_fixture(cluster)`` (one fresh database per test).

Running as root: ``initdb``/``postgres`` refuse to run as root, so every server command is run
as an unprivileged user (``postgres`` by default, ``FACT_LEDGER_PG_USER`` overrides; created with
``useradd`` if missing) via ``subprocess``'s ``user=``/``group=``/``extra_groups=`` arguments, and
the temp dir is chowned to that user. Only stdlib and psycopg are used.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import itertools
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

SUPERUSER = "postgres"
HOST = "127.0.0.1"
DEFAULT_OS_USER = "postgres"
_REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")
# Unix socket paths are limited to 107 bytes on Linux (sun_path is 108 with the NUL).
_MAX_SOCKET_PATH = 107
_DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_db_counter = itertools.count(1)

# Settings for a fast, disposable cluster. Durability is irrelevant: the cluster is thrown away.
FAST_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_connections": "100",
    "shared_buffers": "32MB",
    "autovacuum": "off",
    "jit": "off",
    "timezone": "'UTC'",
    "log_timezone": "'UTC'",
    "logging_collector": "off",
    "log_min_messages": "warning",
}


class PgClusterError(RuntimeError):
    """Raised when the throwaway cluster cannot be created, started or stopped."""


# --------------------------------------------------------------------------- binaries / user


def _has_binaries(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in _REQUIRED_BINARIES)


def _version_key(path: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<ver>/bin -> <ver> ("15", "9.6")
    parts = re.findall(r"\d+", path.parent.name)
    return tuple(int(p) for p in parts) if parts else (-1,)


def find_pg_bin() -> Path | None:
    """Return the directory holding initdb/pg_ctl/postgres, or None.

    Looks at ``FACT_LEDGER_PG_BIN`` (explicit override), then PATH, then the highest version
    under ``/usr/lib/postgresql/*/bin`` (Debian/Ubuntu layout, not on PATH by default).
    """
    override = os.environ.get("FACT_LEDGER_PG_BIN")
    if override:
        path = Path(override)
        return path if _has_binaries(path) else None
    initdb = shutil.which("initdb")
    if initdb:
        for candidate in (Path(initdb).parent, Path(initdb).resolve().parent):
            if _has_binaries(candidate):
                return candidate
    debian = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if _has_binaries(p)]
    if debian:
        return max(debian, key=_version_key)
    return None


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass(frozen=True)
class _RunAs:
    """The unprivileged account server commands run as (only used when we are root)."""

    name: str
    uid: int
    gid: int

    def subprocess_kwargs(self) -> dict[str, Any]:
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def _os_user_name() -> str:
    return os.environ.get("FACT_LEDGER_PG_USER") or DEFAULT_OS_USER


def _ensure_os_user() -> _RunAs:
    """When root, return the unprivileged user to run PostgreSQL as, creating it if missing."""
    name = _os_user_name()
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        if not os.access(useradd, os.X_OK):
            raise PgClusterError(
                f"running as root, user {name!r} does not exist and useradd is not available"
            ) from None
        proc = subprocess.run(
            [useradd, "--system", "--user-group", "--no-create-home",
             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode not in (0, 9):  # 9: created concurrently by someone else
            raise PgClusterError(
                f"running as root and could not create user {name!r}: {proc.stderr.strip()}"
            ) from None
        entry = pwd.getpwnam(name)
    if entry.pw_uid == 0:
        raise PgClusterError(f"user {name!r} is root; PostgreSQL refuses to run as root")
    return _RunAs(name=name, uid=entry.pw_uid, gid=entry.pw_gid)


def _server_env(home: Path) -> dict[str, str]:
    # Drop libpq/PG* variables (PGDATA, PGPORT, PGHOST, ...) so the caller's environment cannot
    # redirect initdb/pg_ctl; use a neutral locale.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update({"LC_ALL": "C", "LANG": "C", "TZ": "UTC", "HOME": str(home)})
    return env


@functools.cache
def skip_or_fail_reason() -> str | None:
    """None when a throwaway cluster can be started here, otherwise a human-readable reason.

    Cheap static checks (cached): psycopg importable, server binaries found and runnable, and
    when root an unprivileged user to run them as. Tests use it via ``require_postgres()``.
    """
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        return f"psycopg (v3) is not installed ({exc}); install the 'test' extra"
    pg_bin = find_pg_bin()
    if pg_bin is None:
        return (
            "PostgreSQL server binaries not found (need initdb, pg_ctl and postgres on PATH, "
            "in /usr/lib/postgresql/*/bin or in $FACT_LEDGER_PG_BIN); "
            "run .ci/ensure-postgres.sh or install the 'postgresql' package"
        )
    kwargs: dict[str, Any] = {}
    if _is_root():
        try:
            kwargs = _ensure_os_user().subprocess_kwargs()
        except PgClusterError as exc:
            return str(exc)
    try:
        proc = subprocess.run(
            [str(pg_bin / "initdb"), "--version"],
            capture_output=True, text=True, timeout=30, check=False, cwd="/", **kwargs,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot run {pg_bin / 'initdb'}: {exc}"
    if proc.returncode != 0:
        return f"{pg_bin / 'initdb'} --version failed: {(proc.stderr or proc.stdout).strip()}"
    return None


def is_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def skip_or_fail(reason: str) -> NoReturn:
    """Fail the current test under CI (CI=true), otherwise skip it, with ``reason``."""
    import pytest

    if is_ci():
        pytest.fail(f"PostgreSQL required under CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason}")


def require_postgres() -> None:
    """Call at the start of a PostgreSQL test or fixture: skip/fail when unavailable."""
    reason = skip_or_fail_reason()
    if reason is not None:
        skip_or_fail(reason)


# --------------------------------------------------------------------------- helpers


def free_port(host: str = HOST) -> int:
    """A currently free TCP port on ``host`` (bind to port 0 and let the kernel choose)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _world_traversable(path: Path) -> bool:
    """True when every directory from / to ``path`` is searchable by 'other' users."""
    for directory in (path, *path.parents):
        try:
            if not os.stat(directory).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def _temp_parent(run_as: _RunAs | None) -> Path:
    parent = Path(tempfile.gettempdir()).resolve()
    # "<parent>/pgcluster-XXXXXXXX/.s.PGSQL.65535" must fit in sun_path.
    too_long = len(str(parent)) + len("/pgcluster-XXXXXXXX/.s.PGSQL.65535.lock") > _MAX_SOCKET_PATH
    if too_long or (run_as is not None and not _world_traversable(parent)):
        return Path("/tmp")
    return parent


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie waiting for its (non-us) parent to reap it is as good as gone
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in {"Z", "X"}
    except (OSError, IndexError):
        return True


def _pids_using(data_dir: Path) -> list[int]:
    """Postmaster processes whose command line mentions ``data_dir`` (Linux /proc scan)."""
    needle = str(data_dir).encode()
    pids = []
    proc = Path("/proc")
    if not proc.is_dir():
        return pids
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline.split(b"\0"):
            pids.append(int(entry.name))
    return pids


# --------------------------------------------------------------------------- the cluster


_live_clusters: set[PgCluster] = set()


class PgCluster:
    """One throwaway cluster: initdb into a temp dir, listen on 127.0.0.1:<free port>.

    Prefer ``throwaway_cluster()``; the class is also a context manager.
    """

    def __init__(self, *, pg_bin: Path | None = None, settings: dict[str, str] | None = None):
        found = pg_bin or find_pg_bin()
        if found is None:
            raise PgClusterError("PostgreSQL server binaries (initdb, pg_ctl) not found")
        self.pg_bin: Path = found
        self.settings = {**FAST_SETTINGS, **(settings or {})}
        self.host = HOST
        self.user = SUPERUSER
        self.port: int | None = None
        self.base_dir: Path | None = None  # temp dir; also the unix socket directory
        self._run_as: _RunAs | None = _ensure_os_user() if _is_root() else None
        self._started = False
        self.startup_seconds: float | None = None

    # -- paths

    @property
    def data_dir(self) -> Path:
        return self._base / "data"

    @property
    def socket_dir(self) -> Path:
        return self._base

    @property
    def log_file(self) -> Path:
        return self._base / "server.log"

    @property
    def _base(self) -> Path:
        if self.base_dir is None:
            raise PgClusterError("cluster not started")
        return self.base_dir

    @property
    def running(self) -> bool:
        return self._started

    def _run(self, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        kwargs = self._run_as.subprocess_kwargs() if self._run_as else {}
        return subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, check=False,
            cwd=self._base, env=_server_env(self._base), stdin=subprocess.DEVNULL, **kwargs,
        )  # fmt: skip

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    # -- lifecycle

    def start(self) -> PgCluster:
        if self._started or self.base_dir is not None:
            raise PgClusterError("cluster already started")
        t0 = time.monotonic()
        self.base_dir = Path(tempfile.mkdtemp(prefix="pgcluster-", dir=_temp_parent(self._run_as)))
        _live_clusters.add(self)
        if self._run_as:
            os.chown(self.base_dir, self._run_as.uid, self._run_as.gid)
        os.chmod(self.base_dir, 0o700)

        proc = self._run(
            [str(self.pg_bin / "initdb"), "-D", str(self.data_dir), "-U", self.user,
             "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"],
        )  # fmt: skip
        if proc.returncode != 0:
            raise PgClusterError(f"initdb failed ({proc.returncode}):\n{proc.stderr.strip()}")
        (self.data_dir / "pg_hba.conf").write_text(
            "# throwaway test cluster: trust, loopback and the private unix socket only\n"
            "local all all trust\n"
            f"host all all {HOST}/32 trust\n"
        )
        lines = [f"{key} = {value}" for key, value in self.settings.items()]
        lines += [
            f"listen_addresses = '{HOST}'",
            f"unix_socket_directories = '{self.socket_dir}'",
            "unix_socket_permissions = 0700",
        ]
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# --- throwaway test cluster (tests/pgcluster.py) ---\n")
            conf.write("\n".join(lines) + "\n")

        # The port comes from bind(0) and is passed on the command line; another process can grab
        # it between our probe and the server's bind, so retry with a new port a few times.
        last_error = ""
        for _attempt in range(3):
            port = free_port()
            proc = self._run(
                [str(self.pg_bin / "pg_ctl"), "start", "-w", "-t", "30", "-D", str(self.data_dir),
                 "-l", str(self.log_file), "-o", f"-p {port}"],
            )  # fmt: skip
            if proc.returncode == 0:
                self.port = port
                self._started = True
                self.startup_seconds = time.monotonic() - t0
                return self
            last_error = f"{proc.stderr.strip()}\n--- server log ---\n{self._log_tail()}"
            self._kill_leftovers()
            if "already in use" not in last_error:
                break
        raise PgClusterError(f"pg_ctl start failed:\n{last_error}")

    def stop(self) -> None:
        """Stop the server (fast, then immediate, then SIGKILL) and remove the temp dir."""
        base = self.base_dir
        if base is None:
            _live_clusters.discard(self)
            return
        try:
            for mode in ("fast", "immediate"):
                if not (self.data_dir / "postmaster.pid").exists():
                    break
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    proc = self._run(
                        [str(self.pg_bin / "pg_ctl"), "stop", "-w", "-t", "15", "-m", mode,
                         "-D", str(self.data_dir)],
                        timeout=30,
                    )  # fmt: skip
                    if proc.returncode == 0:
                        break
            self._kill_leftovers()
        finally:
            self._started = False
            shutil.rmtree(base, ignore_errors=True)
            if base.exists():  # e.g. a file appeared during removal; try once more
                time.sleep(0.1)
                shutil.rmtree(base, ignore_errors=True)
            self.base_dir = None
            _live_clusters.discard(self)  # only now: an interrupted stop is retried at exit

    def _kill_leftovers(self) -> None:
        """SIGKILL any postmaster still running on our data dir (e.g. interrupted start)."""
        if self.base_dir is None:
            return
        pids = set(_pids_using(self.data_dir))
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid_file = (self.data_dir / "postmaster.pid").read_text().splitlines()
            pids.add(int(pid_file[0]))
        pids = {pid for pid in pids if pid > 0 and pid != os.getpid()}
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(_pid_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.02)

    def __enter__(self) -> PgCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- databases

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL for ``dbname`` on this cluster (psycopg 3 driver, TCP loopback)."""
        if self.port is None:
            raise PgClusterError("cluster not started")
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string for ``dbname`` (for psycopg.connect)."""
        if self.port is None:
            raise PgClusterError("cluster not started")
        return (
            f"host={self.host} port={self.port} user={self.user} dbname={dbname} connect_timeout=10"
        )

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(self.conninfo("postgres"), autocommit=True)

    @staticmethod
    def new_database_name() -> str:
        return f"test_{next(_db_counter)}_{secrets.token_hex(4)}"

    def create_database(self, name: str | None = None) -> str:
        """Create a fresh, empty database and return its SQLAlchemy URL."""
        from psycopg import sql

        name = name or self.new_database_name()
        if not _DB_NAME_RE.match(name):
            raise ValueError(f"unsupported database name {name!r} (use [A-Za-z_][A-Za-z0-9_]*)")
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name`` (if it exists), terminating any connections still open to it."""
        from psycopg import sql

        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def __repr__(self) -> str:
        return f"<PgCluster {self.host}:{self.port} dir={self.base_dir} running={self._started}>"


@contextlib.contextmanager
def throwaway_cluster(**kwargs: Any) -> Iterator[PgCluster]:
    """Start a throwaway cluster; always stop it and remove its temp dir on exit.

    Cleanup runs on normal exit, on exceptions and on KeyboardInterrupt (also when the start
    itself is interrupted). Raises PgClusterError when the cluster cannot be started; call
    ``require_postgres()`` first to get the skip/fail behaviour.
    """
    cluster = PgCluster(**kwargs)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


# --------------------------------------------------------------------------- pytest helpers


def pg_cluster_fixture() -> Iterator[PgCluster]:
    """Generator body for a (session-scoped) cluster fixture; skips/fails when unavailable.

    In conftest.py::

        @pytest.fixture(scope="session")
        def pg_cluster():
            yield from pgcluster.pg_cluster_fixture()
    """
    require_postgres()
    with throwaway_cluster() as cluster:
        yield cluster


def pg_database_fixture(cluster: PgCluster) -> Iterator[str]:
    """Generator body for a per-test database fixture: yields a URL, drops the db afterwards.

    In conftest.py::

        @pytest.fixture
        def pg_url(pg_cluster):
            yield from pgcluster.pg_database_fixture(pg_cluster)
    """
    name = cluster.new_database_name()
    url = cluster.create_database(name)
    try:
        yield url
    finally:
        if cluster.running:
            cluster.drop_database(name)


@atexit.register
def _stop_leftover_clusters() -> None:
    # Last resort for clusters whose context manager / fixture was never finalised.
    for cluster in list(_live_clusters):
        with contextlib.suppress(Exception):
            cluster.stop()
