#!/usr/bin/env bash
# Scale benchmark (a `make bench` section; runs alone too), the figures a user sizing a
# cluster reads:
#
#  A. Ledger instances: 1, 2 and 3 `taskole ledger` processes (distinct --instance and
#     metrics ports) in one group over the same 12-partition backlog, `taskole simulate
#     --preset SCALE_PRESET --clients SCALE_CLIENTS` (seeded: the same input every time)
#     produced into a fresh namespace per run (topics "scaleN.", so each run has a fresh
#     group, changelog and outputs). Measured at the moment the group caught up: input records (the sum of the
#     instances' committed-input counters), their CPU time summed (utime+stime from
#     /proc/<pid>/stat), wall time from the first start, records/s per core and of wall
#     time, the largest peak RSS (VmHWM).
#  B. State size and restore vs clients: the 1-instance run's changelog is the real state of
#     SCALE_CLIENTS clients. A ledger restarted on it measures the real restore; then
#     taskole-statelog (consumers/tools/statelog) writes synthetic changelogs of SCALE_CLIENTS
#     (to validate against the real one) and of each of SCALE_STATE_CLIENTS clients, the real
#     clients' states re-keyed, into namespaces "scale.sN." and a ledger restores each.
#     Per changelog: bytes on disk, records, keys and encoded state bytes after restore
#     (taskole_stream_state_keys, taskole_stream_state_bytes), restore seconds
#     (taskole_stream_restore_seconds), records/s, time to ready, and the ledger's peak RSS.
#
# Prints a markdown table to stdout and writes it to $SCALE_OUT/scale.md. Settings:
# SCALE_CLIENTS (100000), SCALE_PRESET (demo), SCALE_INSTANCES (1,2,3), SCALE_STATE_CLIENTS (1000000,10000000),
# SCALE_PORT (28200, first of 3 metrics ports), SCALE_OUT (.run/bench-scale), SCALE_TIMEOUT
# (900 s per run), SCALE_SOURCE (the namespace of a real changelog of SCALE_CLIENTS clients,
# e.g. scale1. of an earlier run: with SCALE_INSTANCES empty, only B runs), TASKOLE_BIN
# (bin/taskole), STATELOG_BIN (bin/taskole-statelog, built here), TASKOLE_KAFKA_BROKERS.
# It deletes only its own namespaces (scaleN., scale.sN.) and groups.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bin=${TASKOLE_BIN:-bin/taskole}
statelog_bin=${STATELOG_BIN:-bin/taskole-statelog}
clients=${SCALE_CLIENTS:-100000}
preset=${SCALE_PRESET:-demo}
instances=${SCALE_INSTANCES-1,2,3} # empty: none (with SCALE_SOURCE)
state_clients=${SCALE_STATE_CLIENTS-1000000,10000000} # empty: SCALE_CLIENTS only
port=${SCALE_PORT:-28200}
out=${SCALE_OUT:-.run/bench-scale}
timeout=${SCALE_TIMEOUT:-900}
export TASKOLE_KAFKA_BROKERS=${TASKOLE_KAFKA_BROKERS:-127.0.0.1:9092}
export TASKOLE_CLICKHOUSE_DATABASE=scale_bench # reset refuses the default; never created
export TASKOLE_LEAVE_GROUP=true
hz=$(getconf CLK_TCK)
mkdir -p "$out"

log() { printf 'bench-scale: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
[ -x "$bin" ] || die "$bin missing: run make build"
go build -o "$statelog_bin" ./consumers/cmd/taskole-statelog || die "building $statelog_bin failed"

pids=()
# stop_all PID...: TERM, up to 30 s, then KILL; reaps them and drops them from pids.
stop_all() {
  local p i
  for p in "$@"; do
    kill -TERM "$p" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  local keep=() q r drop
  for q in "${pids[@]}"; do
    drop=0
    for r in "$@"; do [ "$q" = "$r" ] && drop=1; done
    ((drop)) || keep+=("$q")
  done
  pids=("${keep[@]}")
}
cleanup() { stop_all "${pids[@]}"; }
trap cleanup EXIT

# shellcheck source=deploy/local/bench-lib.sh
source deploy/local/bench-lib.sh # run from the repository root (cd above)
mib() { calc "$1 / 1048576" %.0f; }
human() { # 100000 → 100k, 1000000 → 1M
  awk -v n="$1" 'BEGIN { if (n % 1000000 == 0) printf "%dM", n / 1000000; else if (n % 1000 == 0) printf "%dk", n / 1000; else printf "%d", n }'
}
# namespace PREFIX: a fresh, empty namespace with every topic (12 partitions).
namespace() {
  export TASKOLE_TOPIC_PREFIX=$1
  "$bin" reset >>"$out/reset.log" 2>&1 || { tail -5 "$out/reset.log" >&2; die "reset of $1 failed"; }
  "$bin" topics create --partitions 12 >>"$out/topics.log" 2>&1 || { tail -5 "$out/topics.log" >&2; die "topics create under $1 failed"; }
}
# ledger NAME INSTANCE PORT: starts `taskole ledger` in the current namespace; pid in $pid.
ledger() {
  TASKOLE_INSTANCE=$2 TASKOLE_METRICS_ADDR=127.0.0.1:$3 "$bin" ledger --partitions 12 >>"$out/$1.log" 2>&1 &
  pid=$!
  pids+=("$pid")
}

declare -A R
load=$(cut -d' ' -f1-3 /proc/loadavg)
log "start: load average $load"

# ---------------------------------------------------------------------------------------------
# A. 1, 2, 3 instances over one backlog each
ns_list=()
IFS=, read -ra ns_list <<<"$instances"
for n in "${ns_list[@]}"; do
  namespace "scale$n."
  log "A. $n instance(s): simulate --clients $clients into ${TASKOLE_TOPIC_PREFIX}"
  "$bin" simulate --preset "$preset" --clients "$clients" >"$out/simulate$n.txt" 2>"$out/simulate$n.log" || { tail -5 "$out/simulate$n.log" >&2; die "simulate failed"; }
  want=$(awk '$1 ~ /^taskole\.(enrollments|bookings)\.v1$/ { s += $2 } END { print s + 0 }' "$out/simulate$n.txt")
  ((want > 0)) || die "no enrollment or booking counts in $out/simulate$n.txt"
  R[a$n.load0]=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(now_ns)
  run=()
  for ((i = 0; i < n; i++)); do
    ledger "scale$n-$i" "scale$n-$i" "$((port + i))"
    run+=("$pid")
  done
  : >"$out/a$n.samples"
  while :; do
    v=0 ticks=0
    for ((i = 0; i < n; i++)); do
      kill -0 "${run[$i]}" 2>/dev/null || { tail -20 "$out/scale$n-$i.log" >&2; die "ledger scale$n-$i exited"; }
      v=$((v + $(metric "$((port + i))" '^taskole_stream_records_in_total')))
      ticks=$((ticks + $(cpu_ticks "${run[$i]}")))
    done
    t=$(now_ns)
    echo "$t $ticks $v" >>"$out/a$n.samples"
    ((v >= want)) && break
    ((t - t0 < timeout * 1000000000)) || die "$n instance(s): $v of $want records after ${timeout}s"
    sleep 0.25
  done
  "$bin" lag --wait --timeout 2m --groups taskole-ledger >>"$out/a$n.lag" 2>&1 || { cat "$out/a$n.lag" >&2; die "group of $n instance(s) did not catch up"; }
  rss=0
  for ((i = 0; i < n; i++)); do
    k=$(vm_hwm_kb "${run[$i]}")
    ((k > rss)) && rss=$k
  done
  R[a$n.records]=$v
  R[a$n.cpu_s]=$(calc "$ticks / $hz" %.2f)
  R[a$n.wall_s]=$(calc "($t - $t0) / 1e9" %.2f)
  R[a$n.per_core]=$(calc "$v / ($ticks / $hz)" %.0f)
  R[a$n.per_wall]=$(calc "$v / (($t - $t0) / 1e9)" %.0f)
  R[a$n.rss]=$(calc "$rss / 1024" %.0f)
  R[a$n.load]=$(cut -d' ' -f1 /proc/loadavg)
  log "  $n instance(s): $v records, ${R[a$n.cpu_s]} s CPU, ${R[a$n.wall_s]} s wall → ${R[a$n.per_core]} records/s per core, ${R[a$n.per_wall]} records/s wall, max peak RSS ${R[a$n.rss]} MiB (load ${R[a$n.load0]} → ${R[a$n.load]})"
  stop_all "${run[@]}"
done

# ---------------------------------------------------------------------------------------------
# B. restore vs clients
# restore KEY: starts one ledger in the current namespace and waits until it restored its
# changelog and is ready; R[KEY.*].
restore() {
  local key=$1 t0 t
  R[$key.load0]=$(cut -d' ' -f1 /proc/loadavg)
  t0=$(now_ns)
  ledger "restore-$key" "restore-$key" "$port"
  while :; do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$out/restore-$key.log" >&2; die "ledger exited during restore ($key)"; }
    if (($(metric "$port" '^taskole_stream_restore_seconds_count') >= 1)) &&
      [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ]; then
      break
    fi
    (($(now_ns) - t0 < timeout * 1000000000)) || die "ledger not ready ${timeout}s after start ($key)"
    sleep 0.05
  done
  t=$(now_ns)
  R[$key.ready_s]=$(calc "($t - $t0) / 1e9" %.2f)
  R[$key.records]=$(metric "$port" '^taskole_stream_restored_records_total')
  R[$key.seconds]=$(metricf "$port" '^taskole_stream_restore_seconds_sum')
  R[$key.per_s]=$(calc "${R[$key.records]} / ${R[$key.seconds]}" %.0f)
  # The restore wakes the idle loop, which then publishes the restored state's size.
  while (($(metric "$port" '^taskole_stream_state_keys') < 1)); do
    kill -0 "$pid" 2>/dev/null || die "ledger exited after its restore ($key)"
    (($(now_ns) - t < 60000000000)) || die "the ledger published no state size within 60s of its restore ($key)"
    sleep 0.1
  done
  R[$key.keys]=$(metric "$port" '^taskole_stream_state_keys')
  R[$key.state_bytes]=$(metric "$port" '^taskole_stream_state_bytes')
  R[$key.rss]=$(calc "$(vm_hwm_kb "$pid") / 1024" %.0f)
  R[$key.disk]=$("$statelog_bin" size --topic "${TASKOLE_TOPIC_PREFIX}taskole.ledger-state.v1" | awk '{ print $(NF - 1) }')
  R[$key.load]=$(cut -d' ' -f1 /proc/loadavg)
  log "  $key: ${R[$key.records]} records (${R[$key.disk]} bytes on disk) restored in ${R[$key.seconds]} s (${R[$key.per_s]}/s), ready ${R[$key.ready_s]} s after start; ${R[$key.keys]} keys, ${R[$key.state_bytes]} state bytes, peak RSS ${R[$key.rss]} MiB (load ${R[$key.load0]} → ${R[$key.load]})"
  stop_all "$pid"
}

first=${ns_list[0]:-}
source_ns=${SCALE_SOURCE:-scale$first.}
[ -n "$first" ] || [ -n "${SCALE_SOURCE:-}" ] || die "SCALE_INSTANCES empty and no SCALE_SOURCE"
source_topic="${source_ns}taskole.ledger-state.v1"
[ -n "${SCALE_SOURCE:-}" ] || [ "$first" = 1 ] || log "note: the real state is the ${first}-instance run's"
export TASKOLE_TOPIC_PREFIX=$source_ns
log "B. real state: ledger restart on $source_topic"
restore real

IFS=, read -ra sizes <<<"$clients,$state_clients"
keys=(real)
for c in "${sizes[@]}"; do
  key=s$(human "$c")
  keys+=("$key")
  namespace "scale.$key."
  log "B. synthetic changelog of $c clients into ${TASKOLE_TOPIC_PREFIX}"
  "$statelog_bin" generate --from "$source_topic" --to-prefix "$TASKOLE_TOPIC_PREFIX" --clients "$c" >"$out/$key.gen.txt" 2>&1 ||
    { cat "$out/$key.gen.txt" >&2; die "generating $c clients failed"; }
  cat "$out/$key.gen.txt" >&2
  R[$key.clients]=$c
  restore "$key"
  # A 10M changelog is GBs: keep the broker's disk for the next size.
  "$bin" reset >>"$out/reset.log" 2>&1 || log "reset of $TASKOLE_TOPIC_PREFIX failed (topics left)"
done

# ---------------------------------------------------------------------------------------------
{
  if ((${#ns_list[@]} > 0)); then
  echo "Ledger instances over one 12-partition backlog (simulate --preset $preset --clients $clients, $(fmt_int "${R[a$first.records]}") input records; each run in a fresh namespace):"
  echo
  echo "| instances | input records | CPU s (all instances) | records/s per core | wall s | records/s wall | peak RSS (largest instance) | load average (start → end) |"
  echo "|---|---|---|---|---|---|---|---|"
  for n in "${ns_list[@]}"; do
    echo "| $n | $(fmt_int "${R[a$n.records]}") | ${R[a$n.cpu_s]} | $(fmt_int "${R[a$n.per_core]}") | ${R[a$n.wall_s]} | $(fmt_int "${R[a$n.per_wall]}") | ${R[a$n.rss]} MiB | ${R[a$n.load0]} → ${R[a$n.load]} |"
  done
  echo
  fi
  echo "State and restore vs clients (one ledger restoring all 12 partitions; *real*: the $clients-client run's own changelog, uncompacted; *synthetic*: \`taskole-statelog generate\`, the real clients' states re-keyed, one record per client):"
  echo
  echo "| changelog | clients (keys) | records | bytes on disk | state bytes (encoded) | B/client | restore s | records/s | ready s | peak RSS | load average |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for key in "${keys[@]}"; do
    [ -n "${R[$key.records]:-}" ] || continue
    echo "| $key | $(fmt_int "${R[$key.keys]}") | $(fmt_int "${R[$key.records]}") | $(fmt_int "${R[$key.disk]}") ($(mib "${R[$key.disk]}") MiB) | $(fmt_int "${R[$key.state_bytes]}") | $(calc "${R[$key.state_bytes]} / ${R[$key.keys]}" %.0f) | ${R[$key.seconds]} | $(fmt_int "${R[$key.per_s]}") | ${R[$key.ready_s]} | ${R[$key.rss]} MiB | ${R[$key.load0]} → ${R[$key.load]} |"
  done
} | tee "$out/scale.md"
