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

# shellcheck source=lib/debian.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/debian.sh"

if [[ ! -x "$BIN" ]]; then
    apt_install "Chromium ($BIN)" chromium fonts-liberation
    [[ -x "$BIN" ]] || die "chromium installed but $BIN is not there"
fi
echo "$BIN"
"$BIN" --version 2>/dev/null || die "$BIN does not run"
