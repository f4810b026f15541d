#!/usr/bin/env bash
# Install everything (system packages too) and run every check: lint, format,
# types, then the tests — real Whisper on real audio, real SQLite and
# PostgreSQL (a throwaway cluster the tests start), real Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --dev
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
.venv/bin/pytest -q -p no:cacheprovider "$@"
