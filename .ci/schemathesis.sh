#!/usr/bin/env bash
# API fuzz: schemathesis against a live server. Every operation in the OpenAPI document, bounded examples and a fixed
# seed (reproducible, a few minutes), on a fresh SQLite database in a temporary directory and a gunicorn on a free
# port of 127.0.0.1. Fails on any 5xx and on any response whose status or body the document does not describe.
# Throttles are off (a fuzzer is not abuse); the server is always stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-15}"
SEED="${SCHEMATHESIS_SEED:-20261204}"
TIMEOUT_SECONDS="${SCHEMATHESIS_TIMEOUT:-600}"

WORKDIR="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORKDIR"
}
trap cleanup EXIT

export DJANGO_SETTINGS_MODULE=config.settings.local
export DEBUG=false
export SECRET_KEY=schemathesis-only
export ALLOWED_HOSTS=127.0.0.1,localhost
export DATABASE_URL="sqlite:///$WORKDIR/db.sqlite3"
export CACHE_URL=locmemcache://
# Events are published to an in-process queue no worker reads: the fuzz tests the HTTP surface only.
export CELERY_BROKER_URL="memory://"
export API_DOCS_PUBLIC=true
# The vendor dialects too (their operations are in the document only when mounted); Antavo's Escher signatures are
# tested in tests/compat/antavo, here its unsigned api_key is allowed so the fuzzer reaches the views.
export COMPAT_ADAPTERS=antavo,capillary,loyaltylion
export COMPAT_ANTAVO_ALLOW_UNSIGNED=true
export API_THROTTLE_RATES="clienteling=off,scan_and_go=off,loyalty:read=off,loyalty:write=off,privacy=off"
export API_FAILED_AUTHENTICATION_RATE=off

.venv/bin/python manage.py migrate --noinput >/dev/null
.venv/bin/python manage.py seed_demo --force --customers 20 >/dev/null
API_KEY="$(.venv/bin/python manage.py create_api_key schemathesis \
    --scopes=clienteling,scan_and_go,loyalty:read,loyalty:write,privacy)"
.venv/bin/python manage.py spectacular --file "$WORKDIR/openapi.yaml" --validate

PORT="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# No request-line or header size limits here: gunicorn's own (4094 and 8190 bytes) answer an HTML 414 or 400 before
# the app sees the request, and long generated query strings would hit them at random; the app's limits are tested.
.venv/bin/gunicorn config.wsgi --bind "127.0.0.1:$PORT" --workers 2 --timeout 30 --no-control-socket \
    --limit-request-line 0 --limit-request-field_size 0 --error-logfile "$WORKDIR/gunicorn.log" &
SERVER_PID=$!
healthy() {
    .venv/bin/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "http://127.0.0.1:$PORT/healthz" 2>/dev/null
}
for _ in $(seq 1 60); do
    healthy && break
    sleep 0.5
done
healthy || { echo "the server did not answer /healthz; its log:" >&2; cat "$WORKDIR/gunicorn.log" >&2; exit 1; }

status=0
# One worker: Hypothesis parses source with ast.parse while describing strategies, and on Python 3.11 two threads
# doing that at once can raise "SystemError: AST constructor recursion depth mismatch", failing the run at random.
# From the temporary directory: schemathesis keeps a cache of past failures (.schemathesis/) in the working directory,
# and replaying them would make a run depend on the ones before it.
REPO="$PWD"
(cd "$WORKDIR" && timeout "$TIMEOUT_SECONDS" "$REPO/.venv/bin/schemathesis" run "$WORKDIR/openapi.yaml" \
    --url "http://127.0.0.1:$PORT" \
    --header "Authorization: Bearer $API_KEY" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance \
    --max-examples "$MAX_EXAMPLES" --seed "$SEED" \
    --generation-database none \
    --workers 1) || status=$?
if [ "$status" -ne 0 ]; then
    echo "schemathesis failed (exit $status); server log:" >&2
    tail -n 50 "$WORKDIR/gunicorn.log" >&2 || true
fi
exit "$status"
