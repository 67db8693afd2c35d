#!/usr/bin/env bash
# make demo: simulate a Taskole marketplace year end to end on the local servers and show what
# it earned. Steps: reset the demo namespace (topics under "demo.", database taskole_demo),
# create topics, migrate, start ledger + payouts + sink as processes, simulate, wait until every
# consumer has caught up, print the terminal report and write the HTML report, stop.
# Running it twice works: each run starts from a clean namespace. Two demos side by side need
# their own TASKOLE_TOPIC_PREFIX, TASKOLE_CLICKHOUSE_DATABASE, TASKOLE_DEMO_DIR and
# TASKOLE_DEMO_METRICS_PORT (first of three metrics ports, default 9464).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bin=${TASKOLE_BIN:-bin/taskole}
out=${TASKOLE_DEMO_DIR:-.run/demo}
export TASKOLE_TOPIC_PREFIX=${TASKOLE_TOPIC_PREFIX:-demo.}
export TASKOLE_CLICKHOUSE_DATABASE=${TASKOLE_CLICKHOUSE_DATABASE:-taskole_demo}
export TASKOLE_KAFKA_BROKERS=${TASKOLE_KAFKA_BROKERS:-127.0.0.1:9092}
export TASKOLE_CLICKHOUSE_ADDR=${TASKOLE_CLICKHOUSE_ADDR:-127.0.0.1:9000}
preset=${TASKOLE_DEMO_PRESET:-demo}
mkdir -p "$out"

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

pids=()
stop_consumers() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap stop_consumers EXIT

began=$(date +%s)
step "resetting the demo namespace (topics ${TASKOLE_TOPIC_PREFIX}*, database $TASKOLE_CLICKHOUSE_DATABASE)"
"$bin" reset
"$bin" topics create
"$bin" migrate

step "starting ledger, payouts and sink (logs in $out/)"
port=${TASKOLE_DEMO_METRICS_PORT:-9464}
for c in ledger sink payouts; do
  # --leave-group: a static member stopping for good hands its partitions back at once (and
  # the next run's reset can delete the group) instead of holding them for a restart.
  TASKOLE_LEAVE_GROUP=true TASKOLE_METRICS_ADDR=127.0.0.1:$port "$bin" "$c" >"$out/$c.log" 2>&1 &
  pids+=($!)
  echo "  $c: pid $! metrics http://127.0.0.1:$port/metrics" >&2
  port=$((port + 1))
done

step "simulating a marketplace year (preset $preset)"
"$bin" simulate --preset "$preset" --event-order

step "waiting until every consumer has caught up"
"$bin" lag --wait --timeout 10m
for p in "${pids[@]}"; do
  kill -0 "$p" 2>/dev/null || { echo "a consumer exited early; see $out/*.log" >&2; exit 1; }
done
stop_consumers

step "report"
"$bin" report --out "$out/report.html" --text
"$bin" payouts --coverage --log-level warn
echo >&2
echo "HTML report: $out/report.html   ($(( $(date +%s) - began ))s in all)" >&2
echo "Query it yourself: $bin query --list" >&2
