#!/usr/bin/env bash
# A loaded database for the query benchmark: the real pipeline (simulate at full speed, then
# the ledger and the sink over the backlog) into topics "<name>." and database <name>, kept
# afterwards (bench.sh's BENCH_QUERY_DATABASES runs the query pack on it).
#
#   deploy/local/bench-load.sh NAME CLIENTS
#
# Heavy at 1M clients (about ten times the 100k run's records): not part of `make bench`.
# Environment: TASKOLE_BIN (bin/taskole), BENCH_LOAD_PORT (19480, first of two metrics ports),
# BENCH_LOAD_TIMEOUT (90m, the wait for both groups to catch up), the usual TASKOLE_* addresses.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
name=${1:?usage: bench-load.sh NAME CLIENTS}
clients=${2:?usage: bench-load.sh NAME CLIENTS}
bin=${TASKOLE_BIN:-bin/taskole}
port=${BENCH_LOAD_PORT:-19480}
export TASKOLE_TOPIC_PREFIX=$name. TASKOLE_CLICKHOUSE_DATABASE=$name
export TASKOLE_KAFKA_BROKERS=${TASKOLE_KAFKA_BROKERS:-127.0.0.1:9092}
export TASKOLE_CLICKHOUSE_ADDR=${TASKOLE_CLICKHOUSE_ADDR:-127.0.0.1:9000}
export TASKOLE_INSTANCE=$name TASKOLE_LEAVE_GROUP=true
out=.run/bench-load/$name
mkdir -p "$out"
log() { echo "$(date -u +%FT%TZ) bench-load.sh: $*" >&2; }
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

log "reset, topics, migrate ($name)"
"$bin" reset >"$out/reset.log" 2>&1 || true
"$bin" topics create >"$out/topics.log" 2>&1
"$bin" migrate >"$out/migrate.log" 2>&1
log "simulate --preset demo --clients $clients"
TIMEFORMAT='%R %U %S'
{ time "$bin" simulate --preset demo --clients "$clients" >"$out/simulate.txt" 2>"$out/simulate.log"; } 2>"$out/simulate.time"
log "simulate: $(cat "$out/simulate.time") (wall user sys s)"
TASKOLE_METRICS_ADDR=127.0.0.1:$port "$bin" ledger >"$out/ledger.log" 2>&1 &
pids+=($!)
TASKOLE_METRICS_ADDR=127.0.0.1:$((port + 1)) "$bin" sink >"$out/sink.log" 2>&1 &
pids+=($!)
start=$(date +%s)
"$bin" lag --wait --timeout "${BENCH_LOAD_TIMEOUT:-90m}" --groups taskole-ledger,taskole-sink >"$out/lag.log" 2>&1
log "ledger and sink caught up in $(($(date +%s) - start)) s; database $name kept"
