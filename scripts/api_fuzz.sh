#!/usr/bin/env bash
# schemathesis against the JSON API (ADR 24): a fresh demo city in a temporary home, served by
# gunicorn as production does, a write token of the demo's superuser, and every operation of
# /api/openapi.json fuzzed (examples, coverage, fuzzing and stateful phases) with the checks
# not_a_server_error, response_schema_conformance and status_code_conformance. Any failure fails
# the run. `make test-api` runs it after installing what it needs; EXAMPLES=N sets the examples
# per operation (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
EXAMPLES=${EXAMPLES:-60}
HOME_DIR=$(mktemp -d)
PORT=$("$BIN/python" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
export DATABASE_URL="sqlite:///$HOME_DIR/api.sqlite3" MEDIA_ROOT="$HOME_DIR/media" \
  SECRET_KEY="api-fuzz-$(date +%s)-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  DEBUG=false HTTPS=false ALLOWED_HOSTS=127.0.0.1 CIVICMARK_API_RATE=1000000
# This checkout's code, whichever environment runs it.
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$HOME_DIR"
}
trap cleanup EXIT

echo "== the demo city in $HOME_DIR =="
"$BIN/civicmark" migrate --verbosity 0
"$BIN/civicmark" demo --no-serve >/dev/null
"$BIN/civicmark" collectstatic --noinput --verbosity 0
TOKEN=$("$BIN/civicmark" shell -c "
from datetime import timedelta
from django.utils import timezone
from civicmark.accounts.models import User
from civicmark.accounts.tokens import token_create
now = timezone.now()
# The operator makes the fuzzer's token (verified: he runs this on the server itself).
_t, secret = token_create(actor=User.objects.get(username='admin'), name='schemathesis',
    expires_at=now + timedelta(days=1), scope='write', now=now, verified=True)
print(secret)
" | tail -n 1 | tr -d '[:space:]')

"$BIN/gunicorn" civicmark.config.wsgi -b "127.0.0.1:$PORT" -w 2 --log-level warning &
SERVER=$!
for _ in $(seq 100); do
  "$BIN/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/health/', timeout=1)" 2>/dev/null && break
  sleep 0.2
done

echo "== schemathesis: every operation, $EXAMPLES examples each =="
"$BIN/schemathesis" run "http://127.0.0.1:$PORT/api/openapi.json" \
  -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance \
  --max-examples "$EXAMPLES" \
  --generation-allow-x00 true \
  --request-timeout 30 \
  --seed "${SEED:-2026}"

# The first pass mostly meets 404 where a path names a campaign, round or community: random
# values name nothing. The second pass fixes those path values to the demo's own (its campaign,
# its open November round, a community of the pilot town, a published standard), so the query
# and body values reach the reading, checking and writing code behind them.
read -r SLUG NUMBER CODE STANDARD < <("$BIN/civicmark" shell -c "
from civicmark.campaigns.models import Campaign
from civicmark.standards.models import Standard
c = Campaign.objects.order_by('id').first()
r = c.rounds.filter(finalised_at__isnull=True).order_by('-number').first() or c.rounds.order_by('-number').first()
e = c.enrollments.order_by('community__code').first()
s = Standard.objects.exclude(published_at=None).order_by('id').first()
print(c.slug, r.number, e.community.code, s.public_id)
" | tail -n 1)
cat > "$HOME_DIR/schemathesis.toml" <<TOML
[parameters]
"path.slug" = "$SLUG"
"path.number" = $NUMBER
"path.code" = "$CODE"
"path.id" = "$STANDARD"
TOML
echo "== schemathesis again: the operations with path values, fixed to $SLUG round $NUMBER $CODE =="
"$BIN/schemathesis" --config-file "$HOME_DIR/schemathesis.toml" run \
  "http://127.0.0.1:$PORT/api/openapi.json" \
  -H "Authorization: Bearer $TOKEN" \
  --include-path-regex '[{]' \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance \
  --max-examples "$(( (EXAMPLES + 1) / 2 ))" \
  --generation-allow-x00 true \
  --request-timeout 30 \
  --seed "${SEED:-2026}"

