#!/usr/bin/env bash
# Installs Debian's chromium when no chromium binary is on PATH, then prints its path.
# Used by the leaderboard's real-browser test (tests/test_leaderboard_browser.py) and by CI.
# Idempotent: a machine that already has chromium only gets the path printed.
set -euo pipefail

find_chromium() {
  command -v chromium || command -v chromium-browser || command -v google-chrome || true
}

bin=$(find_chromium)
if [[ -z "$bin" ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    SUDO=sudo
    command -v sudo >/dev/null || { echo "chromium.sh: chromium is missing and installing it needs root (apt-get install -y chromium)" >&2; exit 1; }
  else
    SUDO=
  fi
  echo "chromium.sh: installing chromium with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
  bin=$(find_chromium)
fi
[[ -n "$bin" ]] || { echo "chromium.sh: chromium still not found after install" >&2; exit 1; }
echo "$bin"
