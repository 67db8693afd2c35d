#!/usr/bin/env bash
# Recovery benchmark (a `make bench` section; runs alone too): how long processing stalls
# under a steady `taskole probe` load (bookings/s through `taskole ledger`) when
#   1. the ledger is killed with kill -9 and restarted at once under the same --instance;
#   2. ... restarted under a new --instance (the dead member and its transaction time out);
#   3. a second and a third instance join and then leave (--leave-group), one at a time: the
#      max latency of the partitions that did not move (from the ledger logs), and of all;
#   4. a private broker (never the shared one) is killed with kill -9 for 20 s and started
#      again: the latency of the first bookings produced once it answers (time to resume).
# The stall is the probe's max booking → commission latency. Prints a table and writes
# $BENCH_RECOVERY_OUT/recovery.txt. Settings: BENCH_RECOVERY_RATE (300 bookings/s),
# BENCH_RECOVERY_OUT (.run/bench-recovery), TASKOLE_BIN (bin/taskole), TASKOLE_KAFKA_BROKERS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bin=${TASKOLE_BIN:-bin/taskole}
out=${BENCH_RECOVERY_OUT:-.run/bench-recovery}
rate=${BENCH_RECOVERY_RATE:-300}
export TASKOLE_KAFKA_BROKERS=${TASKOLE_KAFKA_BROKERS:-127.0.0.1:9092}
export TASKOLE_CLICKHOUSE_DATABASE=taskole_bench_recovery # reset refuses the default; never created
run_id=$$
mkdir -p "$out"
rm -f "$out"/*.log "$out"/*.txt

log() { printf 'bench-recovery: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

declare -A pids=()
private_run=
cleanup() {
  for k in "${!pids[@]}"; do kill -9 "${pids[$k]}" 2>/dev/null || true; done
  if [ -n "$private_run" ] && [ -f "$private_run/kafka/pid" ]; then kill -9 "$(cat "$private_run/kafka/pid")" 2>/dev/null || true; fi
  if [ -n "$private_run" ]; then rm -rf "$private_run"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ledger NAME INSTANCE [FLAGS...]: starts `taskole ledger` in the current namespace.
ledger() {
  local name=$1 inst=$2; shift 2
  "$bin" ledger --instance "$inst" --partitions 12 --metrics-addr "" "$@" >>"$out/$ns.$name.log" 2>&1 &
  pids[$name]=$!
}

kill9() { kill -9 "${pids[$1]}" 2>/dev/null || true; wait "${pids[$1]}" 2>/dev/null || true; unset "pids[$1]"; }
term() { kill -TERM "${pids[$1]}" 2>/dev/null || true; wait "${pids[$1]}" 2>/dev/null || true; unset "pids[$1]"; }

# namespace NAME: a fresh topic prefix.
namespace() {
  ns=$1
  export TASKOLE_TOPIC_PREFIX="bench-recovery-$run_id-$ns."
}

# warm: waits until the ledger answers a short probe (topics created, partitions restored).
warm() {
  local i
  for i in $(seq 1 30); do
    if "$bin" probe --rate 20 --duration 1s --drain 10s --run-id "warm$i" >/dev/null 2>&1; then return 0; fi
  done
  die "ledger in $ns did not answer a probe"
}

# probe_bg KEY DURATION: starts the load; its result lands in $out/KEY.txt.
probe_bg() {
  "$bin" probe --rate "$rate" --duration "$2" --drain 60s --per-partition --run-id "$1" >"$out/$1.txt" 2>"$out/$1.err" &
  probe_pid=$!
}
probe_max() { sed -n 's/^probe: sent.* max=\([^ ]*\)$/\1/p' "$out/$1.txt"; }

results=()
row() { results+=("$(printf '%-58s %s' "$1" "$2")"); log "$1: $2"; }

# ---- 1 and 2: kill -9 and restart, same and new instance name
for mode in same new; do
  namespace "restart-$mode"
  ledger a "bench-$mode-1"
  warm
  probe_bg "restart-$mode" 30s
  sleep 8
  kill9 a
  if [ "$mode" = same ]; then ledger a "bench-$mode-1"; else ledger a "bench-$mode-2"; fi
  wait "$probe_pid" || die "probe failed: $(cat "$out/restart-$mode.err")"
  row "kill -9 + restart, $mode --instance: stall (probe max)" "$(probe_max "restart-$mode")"
  term a
done

# ---- 3: scale-out and scale-in under load, one step at a time
namespace scale
ledger a bench-scale-a --leave-group
warm
step_n=0
scale_step() { # LABEL ACTION...: runs ACTION 4s into a 14s probe; max of unmoved partitions
  local label=$1; shift
  step_n=$((step_n + 1))
  local key="scale-$step_n" f moved=""
  declare -A before=()
  for f in "$out/$ns".*.log; do before[$f]=$(wc -l <"$f"); done
  probe_bg "$key" 14s
  sleep 4
  "$@"
  wait "$probe_pid" || die "probe failed: $(cat "$out/$key.err")"
  sleep 1
  # Partitions dropped or restored by any instance during the step moved.
  for f in "$out/$ns".*.log; do
    moved+=" $(tail -n +"$((${before[$f]:-0} + 1))" "$f" | sed -n 's/.*msg="partition \(restored\|dropped\)".* partition=\([0-9]*\).*/\2/p' | tr '\n' ' ')"
  done
  moved=$(echo "$moved" | tr ' ' '\n' | sed '/^$/d' | sort -un | tr '\n' ' ')
  local unmoved
  unmoved=$(awk -v moved=" $moved " '/^probe: partition=/ {
      split($2, a, "="); split($3, b, "="); p = a[2]; v = b[2]
      if (index(moved, " " p " ")) next
      ms = v; if (v ~ /ms$/) { sub(/ms$/, "", ms) } else if (v ~ /µs$/) { sub(/µs$/, "", ms); ms /= 1000 } else if (v ~ /s$/) { sub(/s$/, "", ms); ms *= 1000 }
      if (ms > m) m = ms; n++ }
    END { if (n) printf "%.0fms over %d partitions", m, n; else print "no unmoved partition" }' "$out/$key.txt")
  row "$label: unmoved partitions max" "$unmoved (moved: ${moved:-none})"
  row "$label: all partitions max" "$(probe_max "$key")"
}
scale_step "scale 1→2 (b joins)" ledger b bench-scale-b --leave-group
scale_step "scale 2→3 (c joins)" ledger c bench-scale-c --leave-group
scale_step "scale 3→2 (c leaves)" term c
scale_step "scale 2→1 (b leaves)" term b
term a

# ---- 4: broker restart (a private broker on free ports, started by servers.sh)
libs=${TASKOLE_KAFKA_LIBS:-${TASKOLE_RUN_DIR:-.run}/kafka/libs}
[ -f "$libs/.pom.sha" ] || die "no Kafka jars at $libs: run make up (or set TASKOLE_KAFKA_LIBS)"
private_run=$(mktemp -d)
mkdir -p "$private_run/kafka"
ln -s "$(cd "$libs" && pwd)" "$private_run/kafka/libs"
kport=$(free_port)
cport=$(free_port)
private() { TASKOLE_RUN_DIR=$private_run TASKOLE_KAFKA_PORT=$kport TASKOLE_KAFKA_CONTROLLER_PORT=$cport deploy/local/servers.sh "$@" kafka; }
private up 2>>"$out/broker.log"
export TASKOLE_KAFKA_BROKERS=127.0.0.1:$kport
namespace broker
ledger a bench-broker-a --leave-group
warm
probe_bg broker-load 10s
sleep 5
kill -9 "$(cat "$private_run/kafka/pid")"
down_at=$(date +%s%N)
sleep 20
private up 2>>"$out/broker.log"
up_at=$(date +%s%N)
"$bin" probe --rate 50 --duration 1s --drain 120s --run-id broker-resume >"$out/broker-resume.txt" 2>"$out/broker-resume.err" ||
  die "probe after the broker restart failed: $(cat "$out/broker-resume.err")"
wait "$probe_pid" || true # its bookings produced during the outage may time out
kill -0 "${pids[a]}" 2>/dev/null && alive="kept running" || alive="exited (see $out/broker.a.log)"
row "broker kill -9, down until it answered again" "$(((up_at - down_at) / 1000000))ms (20s down + JVM start)"
row "broker restart: first bookings after it answers (max)" "$(probe_max broker-resume) (ledger $alive)"
term a
private down 2>>"$out/broker.log" || true

{
  echo "recovery benchmark, $(date -u +%Y-%m-%dT%H:%MZ), probe rate ${rate}/s, ledger defaults (session timeout, transaction timeout):"
  printf '%s\n' "${results[@]}"
} | tee "$out/recovery.txt"
