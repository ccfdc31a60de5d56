#!/usr/bin/env bash
# A schemathesis pass against `jtai serve` on PostgreSQL, with NUL-bearing strings, as an
# operator, the lead inspector, a CQC inspector and two agencies; fails on any 5xx.
#
#   .venv/bin/pip install schemathesis   # not a project dependency: a run takes ~30 minutes
#   scripts/fuzz/run.sh [extra schemathesis run options, e.g. --max-examples 20]
#
# PostgreSQL: JTAI_TEST_POSTGRES_URL or postgresql+psycopg://postgres@127.0.0.1:5432/postgres;
# a database of its own is created and dropped. Reports go to var/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/../.."
ADMIN_URL="${JTAI_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
OUT=var/fuzz
rm -rf "$OUT" && mkdir -p "$OUT/var"
DB="jtai_fuzz_$(date +%s)"
PY=.venv/bin/python

database() {  # database create|drop: a database of this run's own on the server
  "$PY" - "$ADMIN_URL" "$DB" "$1" <<'PY'
import sys
from sqlalchemy import create_engine, text
admin_url, name, action = sys.argv[1:]
statement = f'CREATE DATABASE "{name}"' if action == "create" else f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
with create_engine(admin_url, isolation_level="AUTOCOMMIT").connect() as connection:
    connection.execute(text(statement))
PY
}
database create
export JTAI_DATABASE_URL="${ADMIN_URL%/*}/$DB" JTAI_VAR_DIR="$OUT/var"
export JTAI_SWEEP_INTERVAL_SECONDS=0 JTAI_TOKEN_TTL_SECONDS=3600

.venv/bin/jtai demo > "$OUT/world.json"
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/jtai serve --port "$PORT" > "$OUT/serve.log" 2>&1 &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  database drop || true
}
trap cleanup EXIT
for _ in $(seq 60); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 1; done

"$PY" - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
world = json.load(open(f"{out}/world.json"))
inspection = world["inspections"]["mental-health"]
# Once with only the inspection fixed (every other parameter generated), once with real keys
# too, so that requests get past "no such milestone/list/child" to the code behind them.
open(f"{out}/wide.toml", "w").write(f'[parameters]\n"path.inspection_id" = "{inspection}"\n')
deep = {"inspection_id": inspection, "milestone_key": "selection", "selection_key": "tracked",
        "list_key": "children-in-need", "kind": "joint", "child_id": "DEMO001"}
lines = "".join(f'"path.{name}" = "{value}"\n' for name, value in deep.items())
open(f"{out}/deep.toml", "w").write("[parameters]\n" + lines)
PY

status=0
for caller in operator lead_inspector cqc_inspector local_authority health; do
  token=$("$PY" - "$OUT" "$PORT" "$caller" <<'PY'
import json, sys, httpx
out, port, caller = sys.argv[1:]
credentials = json.load(open(f"{out}/world.json"))["clients"][caller]
form = {"grant_type": "client_credentials", **credentials}
print(httpx.post(f"http://127.0.0.1:{port}/v1/auth/token", data=form).json()["access_token"])
PY
)
  for config in wide deep; do
    echo "== $caller, $config"
    PYTHONPATH=scripts/fuzz SCHEMATHESIS_HOOKS=nul_hooks .venv/bin/schemathesis \
      --config-file "$OUT/$config.toml" run "http://127.0.0.1:$PORT/openapi.json" \
      -H "Authorization: Bearer $token" --checks not_a_server_error \
      --phases examples,coverage,fuzzing --generation-allow-x00 true --max-examples 40 \
      --workers 2 --no-color --report ndjson --report-dir "$OUT/report-$caller-$config" "$@" \
      > "$OUT/$caller-$config.txt" 2>&1 || status=1
    grep -E "generated|^_+ " "$OUT/$caller-$config.txt" || true
  done
done
exit $status
