#!/usr/bin/env bash
# Instructions a server executes per `GET /health/live`, counted by valgrind's callgrind: repeatable to about
# 0.3–0.6 % on a quiet host where req/s moved by ±15 % between rounds (bench/RESULTS.md). The server runs under
# callgrind with instrumentation off; autocannon (outside valgrind) warms it up with 3 000 requests, then
# instrumentation is switched on for N requests only. User-space instructions only: the kernel's share of a
# request is not in the count, and neither are cache misses, so the ratio of two counts is not a ratio of req/s.
# Background timers run while the requests are counted and a loaded host makes each request take longer, so
# measure on a quiet host.
#
#   bench/instructions.sh <port> <N> node --single-threaded <server.js> [args…]
#
# e.g. (after `npm run build && npm run bench:build`):
#   bench/instructions.sh 4301 6000 node --single-threaded dist/bench/bench/servers.js express 4301
#   bench/instructions.sh 4302 6000 node --single-threaded dist/bench/bench/servers.js nest-express 4302
#   API_PORT=4303 API_HOST=127.0.0.1 LOG_LEVEL=warn SWAGGER_ENABLED=false POLLING_ENABLED=false MPCB_ENABLED=false \
#     DATABASE_URL=… REDIS_URL=… CREDENTIALS_ENCRYPTION_KEY=… \
#     bench/instructions.sh 4303 6000 node --single-threaded dist/apps/api/src/main.js
set -euo pipefail
port=$1
count=$2
shift 2
url="http://127.0.0.1:${port}/health/live"
autocannon="$(dirname "$0")/../node_modules/.bin/autocannon"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

valgrind --tool=callgrind --instr-atstart=no --smc-check=all-non-file \
  --callgrind-out-file="$work/callgrind.out" "$@" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do
  curl -sf "$url" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 1
done
"$autocannon" -c 10 -a 3000 "$url" >/dev/null 2>&1
callgrind_control -i on "$server" >/dev/null 2>&1
sleep 2
"$autocannon" -c 10 -a "$count" -j "$url" >"$work/autocannon.json" 2>/dev/null
callgrind_control -i off "$server" >/dev/null 2>&1
sleep 1
kill -TERM "$server"
wait "$server" || true
collected=$(awk '/Collected/ {print $4}' "$work/server.log")
[ -n "$collected" ] || { echo "valgrind printed no count:" >&2; cat "$work/server.log" >&2; exit 1; }
answered=$(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(`${r["2xx"]} of ${r.requests.total} answered 2xx`)' "$work/autocannon.json")
echo "$(( collected / count )) instructions per request ($collected over $count requests; $answered)"
