#!/usr/bin/env bash
# Make sure PostgreSQL server binaries (initdb, pg_ctl, postgres) exist for the test suite,
# which starts its own throwaway clusters (tests/pgcluster.py). Called from .ci/run.
#
# - initdb on PATH or in /usr/lib/postgresql/*/bin (highest version): nothing to install.
# - otherwise: apt-get install postgresql (Debian bookworm gives 15), without starting the
#   distro's service and without creating its default "main" cluster.
# - makes sure the unprivileged `postgres` user exists (initdb/postgres refuse to run as root;
#   the tests run them as that user when they run as root).
# All messages go to stderr; stdout stays empty.
set -euo pipefail

log() { printf 'ensure-postgres: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Print the directory holding initdb/pg_ctl/postgres, or nothing.
find_pg_bin() {
    local initdb dir best=""
    if initdb=$(command -v initdb 2>/dev/null); then
        for dir in "$(dirname "$initdb")" "$(dirname "$(readlink -f "$initdb")")"; do
            if [[ -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
                printf '%s\n' "$dir"
                return 0
            fi
        done
    fi
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]] || continue
        best+="$dir"$'\n'
    done
    if [[ -n "$best" ]]; then
        printf '%s' "$best" | sort -V | tail -n 1
    fi
}

as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "need root (or passwordless sudo) to run: $*"
    fi
}

install_postgres() {
    command -v apt-get >/dev/null 2>&1 \
        || die "PostgreSQL server binaries not found and apt-get is unavailable; install PostgreSQL (initdb, pg_ctl, postgres) manually"
    log "initdb not found on PATH or in /usr/lib/postgresql/*/bin; installing the postgresql package"

    # Do not let the package start the distro's service: a policy-rc.d that denies every action
    # (the usual container setup). Only add (and later remove) one if none exists yet.
    local policy=/usr/sbin/policy-rc.d added_policy=""
    if [[ ! -e "$policy" ]]; then
        as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
        added_policy=1
    fi
    # Nor create the default "main" cluster (postgresql-common reads createcluster.conf).
    if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
        as_root sh -c 'mkdir -p /etc/postgresql-common &&
            printf "create_main_cluster = false\n" > /etc/postgresql-common/createcluster.conf'
    fi

    local rc=0
    as_root apt-get update >&2 || rc=$?
    if [[ $rc -eq 0 ]]; then
        as_root env DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 \
            apt-get install -y --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            postgresql >&2 || rc=$?
    fi
    if [[ -n "$added_policy" ]]; then
        as_root rm -f "$policy"
    fi
    [[ $rc -eq 0 ]] || die "apt-get failed (exit $rc) while installing postgresql"
}

ensure_postgres_user() {
    if id -u postgres >/dev/null 2>&1; then
        log "user postgres exists (uid $(id -u postgres))"
        return 0
    fi
    if [[ $(id -u) -ne 0 ]]; then
        log "user postgres does not exist; not root, so not creating it (only needed when tests run as root)"
        return 0
    fi
    local nologin=/usr/sbin/nologin
    [[ -x "$nologin" ]] || nologin=/bin/false
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell "$nologin" postgres
    log "created system user postgres (uid $(id -u postgres))"
}

main() {
    local bindir
    bindir=$(find_pg_bin)
    if [[ -z "$bindir" ]]; then
        install_postgres
        bindir=$(find_pg_bin)
        [[ -n "$bindir" ]] || die "postgresql installed but initdb/pg_ctl/postgres still not found"
    fi
    log "PostgreSQL server binaries: $bindir ($("$bindir/postgres" --version))"
    ensure_postgres_user
}

main "$@"
