#!/bin/bash
# Where a stored event's CPU goes: the server under 10 s of the ingest bench's load (20 connections, unique ~3 KB
# transcripts), sampled on-CPU by Linux perf (kernel time included; node --perf-basic-prof names the JavaScript), then
# grouped by bench/profile/perf-categories.py into µs per acknowledged event.
# Usage (from the repository, after `npm run build`): bash bench/profile/perf-ingest.sh LABEL [ENV=VALUE ...]
#   LABEL starting with "bare" profiles bench/bare-server.ts instead; e.g. DATABASE_URL=postgres://… for PostgreSQL.
set -euo pipefail
label=$1; shift
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d /tmp/chatlio-relay-perf-XXXX)
cd "$root"
if [[ $label == bare* ]]; then cmd=(node --perf-basic-prof --import tsx bench/bare-server.ts); else cmd=(node --perf-basic-prof dist/cli.js serve); fi
env "$@" HOST=127.0.0.1 PORT=39301 WEBHOOK_TOKEN=bench-webhook-token-0123456789abcdef API_TOKEN=bench-api-token-0123456789abcdefghij \
  LOG_LEVEL=${LOG_LEVEL:-warn} DATA_DIR="$out/data" "${cmd[@]}" > "$out/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null -XPOST localhost:39301/webhooks/chatlio/transcript && break; sleep 0.2; done
load() {
  node -e "
const autocannon = require('autocannon');
const template = JSON.parse(require('fs').readFileSync('fixtures/valid/transcript/documented.json', 'utf8'));
let n = 0;
autocannon({ url: 'http://127.0.0.1:39301/webhooks/chatlio/transcript?token=bench-webhook-token-0123456789abcdef', connections: 20, duration: Number(process.argv[1]),
  requests: [{ method: 'POST', headers: { 'content-type': 'application/json' }, setupRequest: (r) => ({ ...r, body: JSON.stringify({ ...template, conversationUUID: 'perf-' + process.pid + '-' + n++ }) }) }] })
  .then((r) => console.log(r['2xx'], Math.round(r.requests.average), r.latency.p99));" "$1"
}
load 3 > /dev/null
perf record -q -e cpu-clock -F 1999 -g -p $pid -o "$out/perf.data" 2>/dev/null &
perfpid=$!
sleep 0.3
read -r acknowledged rps p99 < <(load 10)
kill -INT $perfpid; wait $perfpid 2>/dev/null || true
kill -TERM $pid; wait $pid || true
echo "$label: $acknowledged acknowledged, $rps req/s, p99 $p99 ms"
perf script -i "$out/perf.data" 2>/dev/null | python3 bench/profile/perf-categories.py "${TOP:-30}" "$acknowledged"
rm -rf "$out"
