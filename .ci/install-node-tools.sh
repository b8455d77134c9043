#!/bin/sh
# Install the Node tools the tests run (structured-data-testing-tool, which checks the
# ClaimReview JSON-LD in HTML dossiers) from tests/node/package-lock.json.
set -eu
cd "$(dirname "$0")/../tests/node"
if ! command -v npm >/dev/null 2>&1; then
    echo "install-node-tools: npm is not installed; install Node.js 18 or newer" >&2
    exit 1
fi
npm ci --no-audit --no-fund
