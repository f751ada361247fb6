#!/usr/bin/env bash
# The one command that runs the main job with no mail account and no server
# installed: a sample company mailbox is served on loopback (IMAP and SMTP), added
# as the account "demo", synced, linked to contacts and threaded, and summarised.
#   bash scripts/demo.sh                 # run once and stop the servers
#   bash scripts/demo.sh --keep-running  # leave the servers up for a mail client
# Data (SQLite, raw mail, the demo mailbox) goes to $MAILSERVICE_DATA_DIR, ./data
# by default. Needs python3 with the venv module; no Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export MAILSERVICE_DATA_DIR="${MAILSERVICE_DATA_DIR:-data}"
exec .venv/bin/mailservice demo "$@"
