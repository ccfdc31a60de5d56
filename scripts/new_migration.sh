#!/usr/bin/env bash
# Autogenerate a migration against a scratch PostgreSQL database brought to head.
# Usage: scripts/new_migration.sh "what changed"   (review the file before committing)
set -euo pipefail
cd "$(dirname "$0")/.."
admin="${JTAI_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
name="jtai_autogen_$$"
url="${admin%/*}/$name"
.venv/bin/python - "$admin" "$name" create <<'PY'
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with engine.connect() as c:
    c.execute(text(f'CREATE DATABASE "{sys.argv[2]}"'))
PY
trap '.venv/bin/python - "$admin" "$name" <<PY
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1], isolation_level="AUTOCOMMIT")
with engine.connect() as c:
    c.execute(text(f"DROP DATABASE IF EXISTS \"{sys.argv[2]}\" WITH (FORCE)"))
PY' EXIT
JTAI_DATABASE_URL="$url" .venv/bin/alembic upgrade head
JTAI_DATABASE_URL="$url" .venv/bin/alembic revision --autogenerate -m "$1"
.venv/bin/ruff format migrations -q
