#!/usr/bin/env bash
# Booking → commission latency of a live ledger in its steady state, several probe runs in a row
# (the method of bench.sh's steps 2f–2g', on a namespace of its own and without the load run):
# one `taskole ledger` on topics "<name>."; per run a small kick simulation goes through it, the
# ledger's group catches up, then `taskole probe --rate RATE --duration 20s --per-second`.
#
#   deploy/local/bench-latency.sh NAME RATE [RUNS]
#
# The first run on freshly created topics pays their first produces (seconds); take the runs
# after it. Environment: TASKOLE_BIN (bin/taskole), BENCH_LATENCY_PORT (19490, the ledger's
# metrics port), BENCH_LATENCY_LEDGER_FLAGS (extra `taskole ledger` flags, e.g.
# "--commit-interval 50ms"), the usual TASKOLE_* addresses. Output: one line per run, and the
# probe's and the ledger's outputs in .run/bench-latency/<name>/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
name=${1:?usage: bench-latency.sh NAME RATE [RUNS]}
rate=${2:?usage: bench-latency.sh NAME RATE [RUNS]}
runs=${3:-3}
bin=${TASKOLE_BIN:-bin/taskole}
port=${BENCH_LATENCY_PORT:-19490}
export TASKOLE_TOPIC_PREFIX=$name.
export TASKOLE_KAFKA_BROKERS=${TASKOLE_KAFKA_BROKERS:-127.0.0.1:9092}
out=.run/bench-latency/$name
mkdir -p "$out"
load() { cut -d' ' -f1 /proc/loadavg; }
"$bin" topics create >"$out/topics.txt" 2>&1 || { cat "$out/topics.txt" >&2; exit 1; }
# shellcheck disable=SC2086 # the extra flags are words
TASKOLE_METRICS_ADDR=127.0.0.1:$port "$bin" ledger ${BENCH_LATENCY_LEDGER_FLAGS:-} >"$out/ledger.log" 2>&1 &
ledger=$!
trap 'kill -TERM "$ledger" 2>/dev/null || true; wait "$ledger" 2>/dev/null || true' EXIT
for _ in $(seq 120); do
  curl -fs "127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$ledger" 2>/dev/null || { tail -20 "$out/ledger.log" >&2; exit 1; }
  sleep 0.5
done
for run in $(seq "$runs"); do
  "$bin" simulate --preset small --seed $((100 + run)) --clients 300 --months 2 --duplicate-rate -1 \
    --malformed-rate -1 >"$out/kick$run.txt" 2>&1
  "$bin" lag --wait --timeout 2m --groups taskole-ledger >>"$out/kick$run.txt" 2>&1
  l0=$(load)
  "$bin" probe --rate "$rate" --duration 20s --per-second >"$out/probe$run.txt" 2>"$out/probe$run.log"
  curl -fsS "127.0.0.1:$port/metrics" >"$out/ledger$run.metrics" 2>/dev/null || true
  echo "run $run (load $l0..$(load)): $(grep '^probe: sent=' "$out/probe$run.txt")"
  echo "  max by second: $(sed -n 's/^probe: second=\([0-9]*\) max=\(.*\)/\1:\2/p' "$out/probe$run.txt" | tr '\n' ' ')"
done
