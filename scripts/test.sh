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

# The themes are checked against the published guidance kept beside the repository; a clone
# without it skips those tests, and says so here and in pytest's summary.
if ! compgen -G "../shared/seeds/*.txt" >/dev/null; then
  echo "!!! no guidance texts in ../shared/seeds: the theme-vs-guidance tests will be SKIPPED !!!"
fi

# Each run's wall time, in seconds, so that a suite growing slower is noticed.
timings=()
timed_pytest() {
  local db=$1 started=$SECONDS status=0
  shift
  .venv/bin/pytest --db "$db" "$@" || status=$?
  timings+=("pytest --db $db: $((SECONDS - started)) s wall time")
  printf '%s\n' "${timings[@]}"
  return "$status"
}

timed_pytest sqlite "$@"
timed_pytest postgresql "$@"
