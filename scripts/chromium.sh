#!/usr/bin/env bash
# Chromium from Debian packages, for the dashboard's browser test (tests/dashboard/): playwright
# drives this binary; its own browser download (`playwright install`) is never used.
#
#   scripts/chromium.sh [path]   install Chromium with apt-get when /usr/bin/chromium is missing,
#                                then print the binary's path and version. Exit 1 when it cannot.
#
# Installing needs root (or a Chromium already there); like scripts/postgres.sh, a test that needs
# it fails with this script's message rather than skipping.
set -euo pipefail

BIN=/usr/bin/chromium

log() { echo "chromium.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ ! -x "$BIN" ]]; then
    [[ "$(id -u)" == "0" ]] || die "Chromium is not installed at $BIN and installing it needs root (apt-get install chromium)"
    command -v apt-get >/dev/null 2>&1 || die "Chromium is not installed at $BIN and apt-get is not available"
    log "installing Chromium from Debian packages..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends chromium fonts-liberation >&2 || die "apt-get install chromium failed"
    [[ -x "$BIN" ]] || die "chromium installed but $BIN is not there"
fi
echo "$BIN"
"$BIN" --version 2>/dev/null || die "$BIN does not run"
