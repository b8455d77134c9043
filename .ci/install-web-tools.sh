#!/bin/sh
# Install the Debian packages the web tests run: cmark-gfm (GitHub's Markdown renderer, for the
# front-matter check) and chromium (the headless browser the published pages are tested in).
# Idempotent: a package already on the machine is not installed again.
set -eu
missing=""
command -v cmark-gfm >/dev/null 2>&1 || missing="$missing cmark-gfm"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
