#!/usr/bin/env bash
# The one command that runs the whole test suite on a fresh machine.
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth, database "test") and Redis on 6379;
# installs and starts everything else itself (Dovecot runs from tests' fixtures).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --test
exec .venv/bin/python -m pytest "$@"
