#!/usr/bin/env bash
# Everything CI checks: lint, format, types, then the whole suite on SQLite and on PostgreSQL.
# PostgreSQL: JTAI_TEST_POSTGRES_URL, else 127.0.0.1:5432 (user postgres), else a throwaway
# server from the pgserver package; each run creates a fresh database and drops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
.venv/bin/python scripts/export_openapi.py --check

.venv/bin/pytest --db sqlite "$@"
.venv/bin/pytest --db postgresql "$@"
