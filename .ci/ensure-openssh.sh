#!/usr/bin/env bash
# Make sure ssh-keygen (Debian's openssh-client) exists: the tests check that a checkpoint the
# ledger signs verifies with `ssh-keygen -Y verify`, and that ssh-keygen's signatures verify in
# the ledger. Called from .ci/run; does nothing when ssh-keygen is already on PATH.
set -euo pipefail

if command -v ssh-keygen >/dev/null 2>&1; then
    exit 0
fi
echo "ensure-openssh: installing openssh-client" >&2
if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-client >&2
else
    sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-client >&2
fi
command -v ssh-keygen >/dev/null 2>&1 || { echo "ensure-openssh: ssh-keygen still missing" >&2; exit 1; }
