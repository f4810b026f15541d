#!/usr/bin/env bash
# Install, show one shipped recording becoming a teller's case, then serve the
# customer page (/) and the teller console (/console) on the embedded defaults,
# in demo mode.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
echo "== frontdesk handle on a shipped sample (one Case as JSON)"
.venv/bin/frontdesk handle tests/data/audio/transfer_50k.wav --customer-id demo-elderly-01
echo "== frontdesk serve --demo (Ctrl-C to stop)"
# --demo: demo staff accounts (passwords in ~/.local/share/frontdesk/demo-accounts.txt)
# and a customer page that mints a call token for the demo customer by itself.
exec .venv/bin/frontdesk serve --demo "$@"
