# Sourced by scripts/postgres.sh, scripts/chromium.sh and scripts/spark.sh: install Debian packages for a test's needs.
#
#   apt_install WHAT PACKAGE...   apt-get install PACKAGE... (no recommends), or exit 1 saying why:
#                                 not root, no apt-get, or which apt-get step failed.

apt_install() {
    local what="$1"; shift
    local fail="${what} is not installed and"
    [[ "$(id -u)" == "0" ]] || { echo "error: $fail installing it needs root (apt-get install $*)" >&2; exit 1; }
    command -v apt-get >/dev/null 2>&1 || { echo "error: $fail apt-get is not available" >&2; exit 1; }
    echo "installing ${what} from Debian packages..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || { echo "error: apt-get update failed" >&2; exit 1; }
    apt-get install -y -qq --no-install-recommends "$@" >&2 || { echo "error: apt-get install $* failed" >&2; exit 1; }
}
