#!/usr/bin/env bash
# Run the service on the embedded default (SQLite and a local object store under ./var/),
# after creating demo organisations, clients and inspections and printing their credentials.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/jtai serve --demo "$@"
