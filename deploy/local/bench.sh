#!/usr/bin/env bash
# make bench: the performance figures of Taskole, reproducible with one command, appended to
# docs/BENCHMARKS.md. Run by `make bench` after `make up build` (bin/taskole built, Kafka and
# ClickHouse answering on loopback).
#
#  1. Go benchmarks of the hot paths (decode, rules, encode, row mapping), -benchmem, -count
#     BENCH_COUNT (5): raw output in .run/bench/<run>/go.txt, comparable with
#     `benchstat old/go.txt new/go.txt`; owner state per client at 1M and 10M clients
#     (consumers/tools/bench) and the sink end to end against the real servers, once each; CPU
#     profiles of the commission path and of the sink (pprof -top in the run directory).
#  2. An end-to-end load run in its own namespace (topics "bench.", database taskole_bench,
#     `taskole reset` first): simulate at full speed, then ledger, payouts and sink each run
#     alone over the backlog. Per consumer: records/s per core of the process's own CPU time
#     (utime+stime from /proc/<pid>/stat at the moment its group caught up), records/s of wall
#     time, peak RSS (VmHWM). Then the ledger is restarted: restore time of its state from the
#     changelog (records/s), and `taskole probe` measures booking → commission p50/p99 at half
#     the ledger's measured maximum rate while it runs.
#     Then scale (deploy/local/bench-scale.sh): 1, 2 and 3 ledger instances over a backlog of
#     BENCH_CLIENTS clients on 12 partitions, and state size / restore of changelogs of
#     BENCH_CLIENTS (real and synthetic) and BENCH_STATE_CLIENTS clients.
#     Then the BI query pack (deploy/local/bench-queries.sh): every panel × grouping on that
#     database, wall time and rows/bytes read.
#  3. A result block appended to docs/BENCHMARKS.md.
#
# Environment: BENCH_COUNT (5), BENCH_TIME (1s, go test -benchtime), BENCH_PRESET (demo),
# BENCH_CLIENTS (100000; simulate --clients), BENCH_STATE_CLIENTS (1000000,10000000),
# BENCH_SINK_ROWS (500000, rows of the sink end-to-end benchmark), BENCH_VIEWS_PAIRS (12: pairs
# of BenchmarkSinkFacts with the purchase rollups' views on and off, 200,000 facts each, order
# alternating; one pair's ratio ranges 0.75-1.14 on this machine, so 6 left the median to
# chance; 0 skips step 1e), BENCH_PROBE_DURATION (20s),
# BENCH_FAST_COMMIT (100ms: the ledger's --commit-interval of the second probe run, at a
# tenth of the first one's rate), BENCH_PROBE_RATE (10000: bookings/s of the third probe run,
# the ledger at its default commit interval, against the p99 ≤ 250 ms target),
# BENCH_PORT (19464, first of four metrics ports), BENCH_PERF (0; 1: also `perf record` the
# ledger and sink processes during their backlog runs), BENCH_SKIP_GO (0; 1: load run only),
# BENCH_SKIP_RECOVERY (0; 1: no step 2h, which starts a private broker of its own),
# BENCH_SKIP_SCALE (0; 1: no step 2h', deploy/local/bench-scale.sh: 1-3 ledger instances over
# BENCH_CLIENTS, restore of synthetic changelogs of BENCH_STATE_CLIENTS clients; ports
# BENCH_PORT+4..+6),
# BENCH_RESULTS (docs/BENCHMARKS.md), BENCH_TOPIC_PREFIX (bench.) and BENCH_DATABASE
# (taskole_bench): the load run's namespace, reset first, TASKOLE_BIN (bin/taskole), CEILING_BIN
# (bin/taskole-ceiling, built here), BENCH_QUERY_RUNS (1, runs per
# query-pack cell; see deploy/local/bench-queries.sh for its other variables),
# BENCH_QUERY_BEFORE_REV (the tree before migration 0131: the "before" query pack),
# BENCH_QUERY_DATABASES (more loaded databases to run the query pack on, e.g. 1M clients from
# deploy/local/bench-load.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bin=${TASKOLE_BIN:-bin/taskole}
ceiling_bin=${CEILING_BIN:-bin/taskole-ceiling}
count=${BENCH_COUNT:-5}
benchtime=${BENCH_TIME:-1s}
preset=${BENCH_PRESET:-demo}
clients=${BENCH_CLIENTS:-100000}
state_clients=${BENCH_STATE_CLIENTS:-1000000,10000000}
sink_rows=${BENCH_SINK_ROWS:-500000}
views_pairs=${BENCH_VIEWS_PAIRS:-12}
probe_duration=${BENCH_PROBE_DURATION:-20s}
fast_commit=${BENCH_FAST_COMMIT:-100ms}
target_rate=${BENCH_PROBE_RATE:-10000}
port=${BENCH_PORT:-19464}
perf_on=${BENCH_PERF:-0}
skip_go=${BENCH_SKIP_GO:-0}
skip_recovery=${BENCH_SKIP_RECOVERY:-0}
skip_scale=${BENCH_SKIP_SCALE:-0}
results=${BENCH_RESULTS:-docs/BENCHMARKS.md}
catchup_timeout=${BENCH_CATCHUP_TIMEOUT:-900} # seconds per consumer

export TASKOLE_TOPIC_PREFIX=${BENCH_TOPIC_PREFIX:-bench.}
export TASKOLE_CLICKHOUSE_DATABASE=${BENCH_DATABASE:-taskole_bench}
export TASKOLE_KAFKA_BROKERS=${TASKOLE_KAFKA_BROKERS:-127.0.0.1:9092}
export TASKOLE_CLICKHOUSE_ADDR=${TASKOLE_CLICKHOUSE_ADDR:-127.0.0.1:9000}
export TASKOLE_INSTANCE=bench # stable transactional ids: a restarted ledger fences its predecessor
export TASKOLE_LEAVE_GROUP=true # a stopped consumer leaves its group at once (static members otherwise stay)
ch_http=${TASKOLE_CLICKHOUSE_HTTP:-127.0.0.1:${TASKOLE_CLICKHOUSE_HTTP_PORT:-8123}}
kafka_libs=${TASKOLE_KAFKA_LIBS:-${TASKOLE_RUN_DIR:-.run}/kafka/libs}

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=.run/bench/$stamp
mkdir -p "$out"
began=$(date +%s)
hz=$(getconf CLK_TCK)

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
die() {
  echo "bench.sh: $*" >&2
  exit 1
}
trap 'echo "bench.sh: failed at line $LINENO (exit $?); logs in $out/" >&2' ERR
[ -x "$bin" ] || die "$bin missing: run make build (make bench does)"
go build -o "$ceiling_bin" ./consumers/cmd/taskole-ceiling || die "building $ceiling_bin failed"
command -v curl >/dev/null || die "curl is required"

# Every process started here is stopped on exit, however the script ends.
pids=()
stop_pid() { # pid: TERM, then KILL after 30s
  local p=$1 i
  kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null || true; return 0; }
  kill -TERM "$p" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$p" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$p" 2>/dev/null; then
    echo "bench.sh: pid $p ignored SIGTERM for 30s; killing it" >&2
    kill -KILL "$p" 2>/dev/null || true
  fi
  wait "$p" 2>/dev/null || true
}
cleanup() {
  local p
  for p in "${pids[@]}"; do stop_pid "$p"; done
  pids=()
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# helpers

# shellcheck source=deploy/local/bench-lib.sh
source deploy/local/bench-lib.sh # run from the repository root (cd above)
# caught_up GROUP: every partition of the group at most one record behind (a transactional
# producer's commit marker is never consumed), per `taskole lag`.
caught_up() {
  "$bin" lag --groups "$1" 2>/dev/null | awk '
    /not found/ { bad = 1 }
    / lag [0-9]+ over [0-9]+ partitions/ {
      for (i = 1; i <= NF; i++) if ($i == "lag") { l = $(i + 1); p = $(i + 3) }
      if (l + 0 > p + 0) bad = 1; seen = 1
    }
    END { exit (bad || !seen) }'
}

declare -A R # results by "component.figure"
declare -A started

# start NAME PORT ARGS...: runs `taskole NAME ARGS` in the background with its metrics on PORT.
start() { start_bin "$bin" "$1" "$1" "${@:2}"; }
# start_bin BIN NAME SUBCOMMAND PORT ARGS...: runs `BIN SUBCOMMAND ARGS` the same way, as NAME.
start_bin() {
  local b=$1 name=$2 sub=$3 p=$4
  shift 4
  started[$name]=$(now_ns)
  TASKOLE_METRICS_ADDR=127.0.0.1:$p "$b" "$sub" "$@" >>"$out/$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  echo "  $name: pid $pid, metrics http://127.0.0.1:$p/metrics, log $out/$name.log" >&2
}
# loadline NAME: the load-run figures of NAME as a Go benchmark line (benchstat reads them).
loadline() {
  printf 'BenchmarkLoad/%s 1 %s cpu-s %s records/cpu-s %s records/s %s rss-MiB\n' \
    "$1" "${R[$1.cpu_s]}" "${R[$1.per_core]}" "${R[$1.per_wall]}" "${R[$1.rss_mb]}" >>"$out/load.txt"
}
forget() { # pid: no longer ours to stop
  local keep=() q
  for q in "${pids[@]}"; do [ "$q" = "$1" ] || keep+=("$q"); done
  pids=("${keep[@]}")
}
stop() {
  stop_pid "$1"
  forget "$1"
}

# measure NAME PID PORT REGEX GROUP WANT: samples the process every 0.25s until its records
# counter (the sum of the metrics matching REGEX) reaches WANT, the records it has to consume,
# and then checks with `taskole lag` that its group has caught up. The figures are taken at
# the first sample that shows the final count: the moment it caught up, before idle polling
# adds CPU time. (Should the count stop short of WANT, it settles for a count that has not
# moved for 20s with the group caught up, and says so.) With a 7th argument ALSO, groups the
# same process consumes in besides GROUP (the sink's dead-letter judge, taskole-sink-dlq):
# the figures are taken once those have caught up too, so they hold the whole process's work.
measure() {
  local name=$1 pid=$2 p=$3 re=$4 group=$5 want=$6 also=${7:-} samples=$out/$1.samples
  local t0=${started[$1]} last=-1 moved now ticks v perfpid=""
  : >"$samples"
  if [ "$perf_on" = 1 ] && command -v perf >/dev/null; then
    perf record -F 199 -g -p "$pid" -o "$out/$name.perf.data" >"$out/$name.perf.log" 2>&1 &
    perfpid=$!
    pids+=("$perfpid")
  fi
  moved=$(now_ns)
  while :; do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$out/$name.log" >&2; die "$name exited early (log: $out/$name.log)"; }
    now=$(now_ns)
    ticks=$(cpu_ticks "$pid")
    v=$(metric "$p" "$re")
    echo "$now $ticks $v" >>"$samples"
    if [ "$v" != "$last" ]; then last=$v moved=$now; fi
    ((v >= want)) && break
    if ((v > 0 && now - moved >= 20000000000)) && caught_up "$group"; then
      echo "bench.sh: $name settled at $v records, not the $want expected; measuring at $v" >&2
      break
    fi
    ((now - t0 < catchup_timeout * 1000000000)) || die "$name did not catch up within ${catchup_timeout}s ($v of $want records; samples: $samples)"
    sleep 0.25
  done
  "$bin" lag --wait --timeout 2m --groups "$group" >>"$out/$name.lag" 2>&1 ||
    { cat "$out/$name.lag" >&2; die "$name counted $v records but its group $group did not catch up"; }
  if [ -n "$perfpid" ]; then
    kill -INT "$perfpid" 2>/dev/null || true
    wait "$perfpid" 2>/dev/null || true
    forget "$perfpid"
    perf report -i "$out/$name.perf.data" --stdio --no-children --sort symbol -g none 2>/dev/null |
      grep -v '^#' | grep -v '^$' | head -60 >"$out/$name.perf.txt" || true
  fi
  local t c n
  read -r t c n < <(awk -v v="$last" '$3 == v { print; exit }' "$samples")
  if [ -n "$also" ]; then
    "$bin" lag --wait --timeout "${catchup_timeout}s" --groups "$group,$also" >>"$out/$name.lag" 2>&1 ||
      { cat "$out/$name.lag" >&2; die "$name: the groups $also did not catch up"; }
    t=$(now_ns) c=$(cpu_ticks "$pid")
    echo "$t $c $n (caught up: $group,$also)" >>"$samples"
  fi
  R[$name.records]=$n
  R[$name.cpu_s]=$(calc "$c / $hz")
  R[$name.wall_s]=$(calc "($t - $t0) / 1e9")
  R[$name.per_core]=$(calc "$n / ($c / $hz)" %.0f)
  R[$name.per_wall]=$(calc "$n / (($t - $t0) / 1e9)" %.0f)
  R[$name.rss_mb]=$(calc "$(vm_hwm_kb "$pid") / 1024" %.0f)
  printf '  %s: %s records, %s s CPU, %s s wall → %s records/s per core, %s records/s wall, peak RSS %s MiB\n' \
    "$name" "$n" "${R[$name.cpu_s]}" "${R[$name.wall_s]}" "${R[$name.per_core]}" "${R[$name.per_wall]}" "${R[$name.rss_mb]}" >&2
}

# dur_ms GO_DURATION: "1m2.5s", "250ms", "830µs" → milliseconds.
dur_ms() {
  awk -v d="$1" 'BEGIN {
    ms = 0
    while (match(d, /^[0-9.]+(h|ms|us|µs|ns|m|s)/)) {
      tok = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
      match(tok, /^[0-9.]+/); n = substr(tok, 1, RLENGTH) + 0; u = substr(tok, RLENGTH + 1)
      if (u == "h") ms += n * 3600000; else if (u == "m") ms += n * 60000; else if (u == "s") ms += n * 1000
      else if (u == "ms") ms += n; else if (u == "us" || u == "µs") ms += n / 1000; else if (u == "ns") ms += n / 1e6
    }
    printf "%.1f", ms }'
}

# ---------------------------------------------------------------------------------------------
step "run $stamp: raw output in $out/"
go_version=$(go version | awk '{ print $3 }')
kafka_version=$({ ls "$kafka_libs" 2>/dev/null || true; } | sed -n 's/^kafka-server-\([0-9][0-9.]*\)\.jar$/\1/p; s/^kafka_[0-9.]*-\([0-9][0-9.]*\)\.jar$/\1/p' | head -1)
kafka_version=${kafka_version:-unknown}
ch_version=$(curl -fsS --max-time 5 "http://$ch_http/?query=SELECT%20version()" 2>/dev/null || echo unknown)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo none)
dirty=$(git status --porcelain 2>/dev/null | grep -q . && echo ", dirty" || true)
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem_gib=$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)

benchpkgs=()
if [ "$skip_go" != 1 ]; then
  step "1. Go benchmarks (-count $count -benchtime $benchtime -benchmem)"
  mapfile -t benchpkgs < <(grep -rl --include='*_test.go' '^func Benchmark' schemas pipelines consumers |
    xargs -n1 dirname | sort -u | grep -vx 'consumers/tools/bench' | sed 's#^#./#')
  echo "  packages: ${benchpkgs[*]}" >&2
  # Owner state is measured at 1M/10M below; end-to-end benchmarks run once, further down.
  go test -run '^$' -bench . -skip 'OwnerState|EndToEnd|SinkStages' -benchmem -count "$count" -benchtime "$benchtime" \
    -timeout 60m "${benchpkgs[@]}" | tee "$out/go.txt"

  step "1b. owner state per client at $state_clients clients (consumers/tools/bench)"
  BENCH_STATE_CLIENTS=$state_clients go test -run '^$' -bench OwnerState -benchtime 1x -count 1 -timeout 60m \
    ./consumers/tools/bench | tee "$out/state.txt"

  if grep -q '^func BenchmarkSinkEndToEnd' consumers/runners/sink/*_test.go 2>/dev/null; then
    step "1c. sink end to end against the real servers, and its stages ($sink_rows rows, CPU profile)"
    TASKOLE_INTEGRATION=1 go test -run '^$' -bench 'SinkEndToEnd|SinkStages' -benchtime "${sink_rows}x" -count 1 -timeout 30m \
      -cpuprofile "$out/sink.cpu.pprof" -o "$out/sink.test" ./consumers/runners/sink | tee "$out/sink-e2e.txt"
    go tool pprof -top -nodecount 40 "$out/sink.test" "$out/sink.cpu.pprof" >"$out/sink.cpu.top.txt" 2>/dev/null
  fi

  if [ "$views_pairs" -gt 0 ] && grep -q '^func BenchmarkSinkFacts' consumers/runners/sink/*_test.go 2>/dev/null; then
    # One sub-benchmark per process, the order alternating per pair, so drift and the
    # merges a run leaves behind hit both states alike.
    step "1e. the purchase rollups' views on and off ($views_pairs pairs of BenchmarkSinkFacts, 200,000 facts each)"
    go test -c -o "$out/sink-views.test" ./consumers/runners/sink
    : >"$out/sink-views.txt"
    for ((i = 1; i <= views_pairs; i++)); do
      order="on off"
      ((i % 2)) || order="off on"
      for v in $order; do
        TASKOLE_INTEGRATION=1 "$out/sink-views.test" -test.run '^$' -test.bench "SinkFacts/views=$v\$" -test.benchtime 200000x |
          awk -v p="$i" '/^BenchmarkSinkFacts/ { print "pair" p, $0 }' | tee -a "$out/sink-views.txt" ||
          echo "bench.sh: BenchmarkSinkFacts views=$v of pair $i failed (that pair is left out)" >&2
      done
    done
  fi

  step "1d. CPU profile of the commission path"
  go test -run '^$' -bench '^BenchmarkCommissionPath$' -benchtime 3s -count 1 \
    -cpuprofile "$out/commission.cpu.pprof" -o "$out/ledger.test" ./pipelines/commission >"$out/commission-profile.txt"
  go tool pprof -top -nodecount 40 "$out/ledger.test" "$out/commission.cpu.pprof" >"$out/commission.cpu.top.txt" 2>/dev/null
fi

# ---------------------------------------------------------------------------------------------
step "2. load run: namespace ${TASKOLE_TOPIC_PREFIX}*, database $TASKOLE_CLICKHOUSE_DATABASE"
"$bin" reset
"$bin" topics create >"$out/topics.log" 2>&1 || { cat "$out/topics.log" >&2; die "topics create failed"; }
"$bin" migrate >"$out/migrate.log" 2>&1 || { cat "$out/migrate.log" >&2; die "migrate failed"; }

step "2a. simulate --preset $preset --clients $clients at full speed"
TIMEFORMAT='%R %U %S'
{ time "$bin" simulate --preset "$preset" --clients "$clients" >"$out/simulate.txt" 2>"$out/simulate.log"; } 2>"$out/simulate.time"
read -r sim_wall sim_user sim_sys <"$out/simulate.time"
sim_records=$(awk '/^produced [0-9]+ records/ { print $2; exit }' "$out/simulate.txt")
[ -n "$sim_records" ] || { cat "$out/simulate.log" >&2; die "simulate printed no record count"; }
R[sim.records]=$sim_records
R[sim.per_wall]=$(calc "$sim_records / $sim_wall" %.0f)
R[sim.per_core]=$(calc "$sim_records / ($sim_user + $sim_sys)" %.0f)
sim_bytes=$(awk '$1 == "bytes" { print $2; exit }' "$out/simulate.txt")
echo "  $sim_records records (${sim_bytes:-?} bytes) in ${sim_wall}s: ${R[sim.per_wall]} records/s, ${R[sim.per_core]} records/s per core of the producer" >&2

step "2b. ledger alone over the backlog"
start ledger "$port"
ledger_pid=$pid
# It consumes every enrollment and booking record the simulation produced (duplicates and
# malformed ones included).
want=$(awk '$1 ~ /^taskole\.(enrollments|bookings)\.v1$/ { s += $2 } END { print s + 0 }' "$out/simulate.txt")
((want > 0)) || die "no enrollment or booking counts in $out/simulate.txt"
measure ledger "$ledger_pid" "$port" '^taskole_stream_records_in_total' taskole-ledger "$want"
R[ledger.bookings]=$(metric "$port" '^taskole_stream_records_in_total.*bookings')
R[ledger.bookings_per_core]=$(calc "${R[ledger.bookings]} / ${R[ledger.cpu_s]}" %.0f)
# Commission entries only: records_out_total also counts the progress markers the ledger adds
# to every commissions partition at each commit, whose number follows how the backlog was cut
# into transactions (two runs over one backlog write the same entries, not the same markers).
R[ledger.markers]=$(metric "$port" '^taskole_stream_committer_records_total.*commissions')
R[ledger.commissions_records]=$(metric "$port" '^taskole_stream_records_out_total.*commissions')
R[ledger.commissions]=$((R[ledger.commissions_records] - R[ledger.markers]))
R[ledger.changelog]=$(metric "$port" '^taskole_stream_records_out_total.*ledger-state')
R[ledger.out]=$(($(metric "$port" '^taskole_stream_records_out_total') - ${R[ledger.changelog]}))
R[ledger.keys]=$(metric "$port" '^taskole_stream_state_keys')
R[ledger.state_bytes]=$(metric "$port" '^taskole_stream_state_bytes')
curl -fsS "http://127.0.0.1:$port/metrics" >"$out/ledger.metrics" || true
stop "$ledger_pid"
loadline ledger

step "2b'. ceilings over the same backlog: stream framework with a no-op handler, bare franz-go pass-through"
# Each consumes the ledger's inputs in a group of its own (taskole-ceiling-*): the ledger's
# CPU time divided by theirs is what its own logic costs on top of consuming and committing.
for c in stream passthrough; do
  start_bin "$ceiling_bin" "ceiling-$c" "$c" "$port"
  cpid=$pid
  measure "ceiling-$c" "$cpid" "$port" '^taskole_stream_records_in_total' "taskole-ceiling-$c" "$want"
  # The no-op processor's transactions carry offsets only; Kafka refuses some of them
  # (CONCURRENT_TRANSACTIONS, docs/DESIGN.md "Offsets-only transactions"), each an abort
  # and a redo that its CPU time includes. The pass-through has no such counter (0).
  R[ceiling-$c.aborts]=$(metric "$port" '^taskole_stream_transactions_total.*aborted')
  echo "  ceiling-$c: ${R[ceiling-$c.aborts]} aborted transactions" >&2
  stop "$cpid"
  loadline "ceiling-$c"
done
R[ledger.x_stream]=$(calc "${R[ledger.cpu_s]} / ${R[ceiling-stream.cpu_s]}" %.2f)
R[ledger.x_passthrough]=$(calc "${R[ledger.cpu_s]} / ${R[ceiling-passthrough.cpu_s]}" %.2f)
echo "  ledger CPU = ${R[ledger.x_stream]} × the no-op stream processor's, ${R[ledger.x_passthrough]} × the franz-go pass-through's" >&2

step "2c. payouts alone over the commissions"
start payouts "$((port + 1))"
payouts_pid=$pid
measure payouts "$payouts_pid" "$((port + 1))" '^taskole_stream_records_in_total' taskole-payouts "${R[ledger.commissions_records]}"
R[payouts.out]=$(($(metric "$((port + 1))" '^taskole_stream_records_out_total') - $(metric "$((port + 1))" '^taskole_stream_records_out_total.*-state')))
curl -fsS "http://127.0.0.1:$((port + 1))/metrics" >"$out/payouts.metrics" || true
loadline payouts
stop "$payouts_pid"

step "2d. sink alone over every topic"
start sink "$((port + 2))"
sink_pid=$pid
# One row per record of every contract topic: the inputs, the ledger's and payouts' outputs
# (dead letters included; the state changelogs are not sunk, nor the ledger's progress
# markers, which the sink skips).
measure sink "$sink_pid" "$((port + 2))" '^taskole_sink_rows_inserted_total' taskole-sink \
  "$((${R[sim.records]} + ${R[ledger.out]} - ${R[ledger.markers]} + ${R[payouts.out]}))" taskole-sink-dlq
curl -fsS "http://127.0.0.1:$((port + 2))/metrics" >"$out/sink.metrics" || true
stop "$sink_pid"
loadline sink

step "2e. ledger restart: restore from the changelog"
start ledger "$port"
ledger_pid=$pid
t0=${started[ledger]}
while :; do
  kill -0 "$ledger_pid" 2>/dev/null || { tail -20 "$out/ledger.log" >&2; die "ledger exited during restore"; }
  # restore_seconds is observed when the restore of the assigned partitions has finished.
  if (($(metric "$port" '^taskole_stream_restore_seconds_count') >= 1)) &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ]; then
    break
  fi
  (($(now_ns) - t0 < 600000000000)) || die "ledger not ready 600s after restart"
  sleep 0.05
done
R[restore.ready_s]=$(calc "($(now_ns) - $t0) / 1e9")
R[restore.records]=$(metric "$port" '^taskole_stream_restored_records_total')
R[restore.seconds]=$(metricf "$port" '^taskole_stream_restore_seconds_sum')
R[restore.per_s]=$(calc "${R[restore.records]} / ${R[restore.seconds]}" %.0f)
R[restore.per_ready]=$(calc "${R[restore.records]} / ${R[restore.ready_s]}" %.0f)
echo "  restored ${R[restore.records]} changelog records in ${R[restore.seconds]}s (${R[restore.per_s]}/s); ready ${R[restore.ready_s]}s after start" >&2

# probe KEY SEED: runs taskole probe at $probe_rate against the running ledger; R[KEY.*].
# The ledger is started just before: a small unrelated simulation (distinct seed, so distinct
# ids) runs through it first and the probe starts once the ledger's group has caught up, so
# the probe measures the ledger in its steady state, not its start (restore, the one rejoin
# after the first restore, the first transactions: a stall of several seconds that the first
# second of a probe started at once paid, seen with `taskole probe --per-second`).
probe() {
  local key=$1 seed=$2 line f
  "$bin" simulate --preset small --seed "$seed" --clients 300 --months 2 --duplicate-rate -1 --malformed-rate -1 \
    >"$out/$key-kick.txt" 2>&1 || die "kick simulation failed (see $out/$key-kick.txt)"
  "$bin" lag --wait --timeout 2m --groups taskole-ledger >>"$out/$key-kick.txt" 2>&1 ||
    die "the ledger did not catch up with the kick simulation (see $out/$key-kick.txt)"
  "$bin" probe --rate "$probe_rate" --duration "$probe_duration" --per-second >"$out/$key.txt" 2>"$out/$key.log" ||
    { cat "$out/$key.log" >&2; die "probe failed"; }
  line=$(grep '^probe: sent=' "$out/$key.txt") || die "probe printed no result"
  echo "  $line" >&2
  for f in sent seen rate p50 p90 p99 max; do
    R[$key.$f]=$(sed -n "s/.* $f=\([^ ]*\).*/\1/p" <<<" $line")
  done
  R[$key.rate]=${R[$key.rate]%/s}
  R[$key.p50_ms]=$(dur_ms "${R[$key.p50]}")
  R[$key.p99_ms]=$(dur_ms "${R[$key.p99]}")
}

step "2f. probe: booking → commission latency at half the ledger's maximum rate"
# The probe sends an enrollment and a booking (2 records) per probe booking.
probe_rate=$(calc "${R[ledger.per_wall]} / 4" %.0f)
((probe_rate >= 10)) || probe_rate=10
probe probe 7
curl -fsS "http://127.0.0.1:$port/metrics" >"$out/ledger-restart.metrics" || true
stop "$ledger_pid"

step "2g. probe at a tenth of the maximum rate with the ledger at --commit-interval $fast_commit"
# What the latency is when the machine is not saturated and transactions are short.
half_rate=$probe_rate
probe_rate=$(calc "$half_rate / 5" %.0f)
((probe_rate >= 10)) || probe_rate=10
start ledger "$port" --commit-interval "$fast_commit"
ledger_pid=$pid
probe probe_fast 8
stop "$ledger_pid"
fast_rate=$probe_rate

step "2g'. probe at $target_rate bookings/s (the latency target's rate), ledger at its default commit interval"
probe_rate=$target_rate
start ledger "$port"
ledger_pid=$pid
probe probe_target 9
stop "$ledger_pid"

mkdir -p "$out/recovery"
if [ "$skip_recovery" != 1 ]; then
  step "2h. recovery: kill -9 restarts, scale-out and -in, broker restart (deploy/local/bench-recovery.sh)"
  BENCH_RECOVERY_OUT=$out/recovery TASKOLE_KAFKA_LIBS=$kafka_libs deploy/local/bench-recovery.sh ||
    die "recovery benchmark failed (raw: $out/recovery/)"
else
  echo "skipped (BENCH_SKIP_RECOVERY=1)" >"$out/recovery/recovery.txt"
fi

mkdir -p "$out/scale"
if [ "$skip_scale" != 1 ]; then
  step "2h'. scale: 1, 2, 3 ledger instances on 12 partitions; state size and restore at $clients, $state_clients clients (deploy/local/bench-scale.sh)"
  SCALE_OUT=$out/scale SCALE_PRESET=$preset SCALE_CLIENTS=$clients SCALE_STATE_CLIENTS=$state_clients SCALE_PORT=$((port + 4)) TASKOLE_BIN=$bin \
    deploy/local/bench-scale.sh >/dev/null || die "scale benchmark failed (raw: $out/scale/)"
else
  echo "skipped (BENCH_SKIP_SCALE=1)" >"$out/scale/scale.md"
fi

step "2i. BI query pack at $clients clients: every panel x grouping, before and after the purchase rollups"
# before: the query pack and schema of BENCH_QUERY_BEFORE_REV (default: the tree just before
# migration 0131, every panel recomputing purchases from the raw bookings), built into the run
# directory; its database is a copy of the raw rows (bench-queries.sh's make_before).
before_rev=${BENCH_QUERY_BEFORE_REV:-$(git log --diff-filter=A --format=%H -- sql/migrations/0131_purchase_rollups.sql | tail -1)^}
mkdir -p "$out/before-src"
git archive "$before_rev" | tar -x -C "$out/before-src"
(cd "$out/before-src" && go build -o ../taskole-before ./consumers/cmd/taskole) || die "building the before binary ($before_rev) failed"
bench_query_db() { # DATABASE: the panels on it (after) and on DATABASE_before (before)
  BENCH_QUERY_RUNS=${BENCH_QUERY_RUNS:-1} BENCH_QUERY_MAKE_BEFORE=1 TASKOLE_BIN=$bin TASKOLE_BIN_BEFORE=$out/taskole-before \
    deploy/local/bench-queries.sh "$1" "$1_before"
}
bench_query_db "$TASKOLE_CLICKHOUSE_DATABASE" >"$out/queries.md" 2>"$out/queries.log" ||
  { tail -5 "$out/queries.log" >&2; die "query benchmark failed"; }
# BENCH_QUERY_DATABASES: further databases already loaded by deploy/local/bench-load.sh (e.g.
# 1M clients, too heavy to load on every run), benchmarked the same way.
for extra in ${BENCH_QUERY_DATABASES:-}; do
  { echo; echo "Database $extra ($(clickhouse-client --host "${TASKOLE_CLICKHOUSE_ADDR%:*}" --port "${TASKOLE_CLICKHOUSE_ADDR##*:}" -q "SELECT uniqExact(client_id) FROM $extra.referral_owners" 2>/dev/null || echo '?') owned clients):"; echo
    bench_query_db "$extra"; } >>"$out/queries.md" 2>>"$out/queries.log" ||
    { tail -5 "$out/queries.log" >&2; die "query benchmark on $extra failed"; }
done

# ---------------------------------------------------------------------------------------------
step "3. appending the results to $results"

# median NAME-REGEX UNIT FILE...: median over the runs of a benchmark's metric.
median() {
  awk -v re="$1" -v unit="$2" '$1 ~ re { for (i = 3; i < NF; i++) if ($(i + 1) == unit) print $i }' "${@:3}" 2>/dev/null |
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# gotable FILE...: one markdown row per benchmark with the median of each metric.
gotable() {
  awk '/^pkg: / { pkg = $2; sub(/.*\//, "", pkg) }
    /^Benchmark/ && NF >= 4 {
      name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name); name = pkg "." name
      if (!(name in seen)) { seen[name] = 1; order[++n] = name }
      for (i = 3; i < NF; i += 2) { k = name SUBSEP $(i + 1); c = ++cnt[k]; val[k, c] = $i
        if (!((name, $(i + 1)) in hasunit)) { hasunit[name, $(i + 1)] = 1; nu[name]++; unit[name, nu[name]] = $(i + 1) } }
    }
    function med(k,   c, i, j, t, a) {
      c = cnt[k]; for (i = 1; i <= c; i++) a[i] = val[k, i] + 0
      for (i = 2; i <= c; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
    }
    END {
      for (o = 1; o <= n; o++) {
        name = order[o]; line = ""
        for (u = 1; u <= nu[name]; u++) line = line sprintf("%s%.4g %s", (u == 1 ? "" : ", "), med(name SUBSEP unit[name, u]), unit[name, u])
        printf "| `%s` | %s |\n", name, line
      }
    }' "$@"
}
verdict() { # value op target
  [ -n "$1" ] || { echo "n/a"; return; }
  if awk "BEGIN { exit !($1 $2 $3) }"; then echo "**met**"; else echo "**missed**"; fi
}

cp_core="" cp_wall="" state1="" state10="" store1="" store10="" clog="" sink_bench_core="" views_ratio="" views_cpu_ratio=""
gc_states="" gc_booked=""
declare -A sink_stage=() # rows per CPU second of BenchmarkSinkStages/stage=<key>
if [ "$skip_go" != 1 ]; then
  cp_core=$(median '^BenchmarkCommissionPath-' bookings/cpu-s "$out/go.txt")
  cp_wall=$(median '^BenchmarkCommissionPath-' bookings/s "$out/go.txt")
  gc_states=$(median '^BenchmarkStateGC/keys=1000000-' ns/op "$out/go.txt")
  gc_booked=$(median '^BenchmarkBookedStateGC-' ns/op "$out/go.txt")
  # A heap delta over millions of objects carries a few KiB of runtime noise: one decimal.
  state1=$(median 'OwnerState/clients=1M' state-B/client "$out/state.txt")
  state10=$(median 'OwnerState/clients=10M' state-B/client "$out/state.txt")
  [ -z "$state1" ] || state1=$(calc "$state1" %.1f)
  [ -z "$state10" ] || state10=$(calc "$state10" %.1f)
  store1=$(median 'OwnerState/clients=1M' store-B/client "$out/state.txt")
  store10=$(median 'OwnerState/clients=10M' store-B/client "$out/state.txt")
  clog=$(median 'OwnerState/clients=1M' changelog-B/client "$out/state.txt")
  # views_ratio: the median over pairs of (rows/s with the views) ÷ (rows/s without);
  # views_cpu_ratio: the same of the sink process's rows per CPU second.
  views_median() {
    awk -v unit="$1" '{ for (i = 4; i < NF; i++) if ($(i + 1) == unit) r[$1, ($2 ~ /views=on/)] = $i; p[$1] = 1 }
      END { for (k in p) if (r[k, 0] > 0 && r[k, 1] > 0) print r[k, 1] / r[k, 0] }' "$out/sink-views.txt" |
      sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
  }
  [ -s "$out/sink-views.txt" ] && views_ratio=$(views_median rows/s) && views_cpu_ratio=$(views_median rows/cpu-s)
  if [ -f "$out/sink-e2e.txt" ]; then
    while read -r st v; do sink_stage[$st]=$v; done < <(awk '/^BenchmarkSinkStages\/stage=/ {
      split($1, a, "="); sub(/-[0-9]+$/, "", a[2]); for (i = 3; i < NF; i++) if ($(i + 1) == "rows/cpu-s") print a[2], $i }' "$out/sink-e2e.txt")
  fi
  [ -f "$out/sink-e2e.txt" ] && sink_bench_core=$(awk '/^BenchmarkSinkEndToEnd/ { for (i = 3; i < NF; i++) if ($(i + 1) ~ /cpu/) print $i }' "$out/sink-e2e.txt" | sort -g | tail -1)
fi

if [ ! -s "$results" ]; then
  cat >"$results" <<'EOF'
# Benchmarks

`make bench` (deploy/local/bench.sh) appends one block per run below; the newest is last.
Read a block like this:

- **Per core** figures divide the records a process handled by the CPU time it used itself
  (user + system, from `/proc/<pid>/stat` for the consumers, from `getrusage` inside Go
  benchmarks), so they do not depend on how busy the (shared) machine was. **Wall** figures
  are what this machine delivered while also running Kafka and ClickHouse: on a 2-core box
  they are far below per-core × cores.
- The load run uses its own namespace (topics `bench.*`, database `taskole_bench`, reset
  first). Each consumer runs **alone** over the full backlog the steps before it produced
  (ledger over the simulated inputs, payouts over the commissions, sink over every topic),
  and is measured at the moment its consumer group caught up. Its CPU time includes start-up
  (topic checks, restore, group join), its records are its committed-input counter
  (`taskole_stream_records_in_total`, `taskole_sink_rows_inserted_total`).
- The sink's figure is the sink process only: ClickHouse's own CPU for the inserts is not in
  it.
- **Latency** is `taskole probe`: produce acknowledgement of a booking → its accrual readable
  read_committed on the commissions topic, with the ledger live, at half the ledger's measured
  maximum (wall) rate. It includes the ledger's commit interval (100 ms by default; 500 ms before issue #18), so p50
  is dominated by it.
- **Owner state** is `consumers/tools/bench` BenchmarkOwnerState: heap bytes per `ledger.State` of
  an owner-only client (heap delta after GC, 1M and 10M clients); *store* adds what the
  ledger's in-memory store spends per client (the client id key, the map slot, the entry).
- **Restore** restarts the ledger after the run: changelog records read / seconds spent
  restoring (`taskole_stream_restore_seconds`), and the time from process start to ready.
- Go benchmark rows are medians over `-count` runs; the raw output of a run is kept in
  `.run/bench/<run>/go.txt`, so two runs compare with `benchstat old/go.txt new/go.txt`.
  Where a target is missed, the run directory holds the CPU profiles
  (`commission.cpu.top.txt`, `sink.cpu.top.txt`; `*.perf.txt` with BENCH_PERF=1).
EOF
fi

elapsed=$(($(date +%s) - began))
cmd="make bench"
envs=""
for v in BENCH_COUNT BENCH_TIME BENCH_PRESET BENCH_CLIENTS BENCH_STATE_CLIENTS BENCH_SINK_ROWS BENCH_PROBE_DURATION BENCH_FAST_COMMIT BENCH_PROBE_RATE BENCH_PERF BENCH_SKIP_GO BENCH_SKIP_RECOVERY BENCH_SKIP_SCALE BENCH_TOPIC_PREFIX BENCH_DATABASE; do
  [ -n "${!v:-}" ] && envs+="$v=${!v} "
done
{
  echo
  echo "## $(date -u '+%Y-%m-%d %H:%M UTC') · commit $commit$dirty"
  echo
  echo "- machine: $(nproc) × $cpu_model, ${mem_gib} GiB RAM, $(uname -sr)"
  echo "- versions: $go_version, Kafka $kafka_version, ClickHouse $ch_version"
  echo "- command: \`$envs$cmd\` (deploy/local/bench.sh; ${elapsed}s in all; raw output .run/bench/$stamp/)"
  echo "- scale: simulate --preset $preset --clients $clients → $(fmt_int "${R[sim.records]}") input records; owner state at $state_clients clients"
  echo
  echo "| figure | measured | target | |"
  echo "|---|---|---|---|"
  if [ -n "$cp_core" ]; then
    echo "| commission path, pure rules (BenchmarkCommissionPath) | $(fmt_int "$(calc "$cp_core" %.0f)") bookings/s per core ($(fmt_int "$(calc "$cp_wall" %.0f)")/s wall) | ≥ 200,000 bookings/s per core | $(verdict "$cp_core" '>=' 200000) |"
  fi
  echo "| ledger end to end, bookings | $(fmt_int "${R[ledger.bookings_per_core]}") bookings/s per core ($(fmt_int "${R[ledger.bookings]}") bookings; all inputs: $(fmt_int "${R[ledger.per_core]}") records/s per core, $(fmt_int "${R[ledger.per_wall]}")/s wall) | ≥ 200,000 bookings/s per core | $(verdict "${R[ledger.bookings_per_core]}" '>=' 200000) |"
  echo "| ledger end to end, all inputs | $(fmt_int "${R[ledger.per_core]}") records/s per core | ≥ 370,000 records/s per core | $(verdict "${R[ledger.per_core]}" '>=' 370000) |"
  echo "| ledger CPU ÷ franz-go pass-through CPU (same backlog: $(fmt_int "${R[ceiling-passthrough.per_core]}") records/s per core, ${R[ceiling-passthrough.cpu_s]} s) | ${R[ledger.x_passthrough]}× (${R[ledger.cpu_s]} s ÷ ${R[ceiling-passthrough.cpu_s]} s) | ≤ 2× | $(verdict "${R[ledger.x_passthrough]}" '<=' 2) |"
  echo "| ledger CPU ÷ stream framework with a no-op handler (informative; $(fmt_int "${R[ceiling-stream.per_core]}") records/s per core, ${R[ceiling-stream.cpu_s]} s, ${R[ceiling-stream.aborts]} aborted transactions) | ${R[ledger.x_stream]}× | — | — |"
  echo "| ledger peak RSS | ${R[ledger.rss_mb]} MiB | ≤ 400 MiB | $(verdict "${R[ledger.rss_mb]}" '<=' 400) |"
  if [ -n "$gc_states" ] && [ -n "$gc_booked" ]; then
    echo "| one GC over 1M states (informative: the mark work behind the latency tail): the processor's store (BenchmarkStateGC); one-booking commission states (BenchmarkBookedStateGC) | $(calc "$gc_states / 1e6" %.1f) ms; $(calc "$gc_booked / 1e6" %.1f) ms | — | — |"
  fi
  if [ -n "$sink_bench_core" ]; then
    echo "| sink end to end, bookings only, until its dead-letter judge caught up too (BenchmarkSinkEndToEnd, best batch) | $(fmt_int "$(calc "$sink_bench_core" %.0f)") rows/s per core | ≥ 1,000,000 rows/s per core | $(verdict "$sink_bench_core" '>=' 1000000) |"
  fi
  if [ -n "${sink_stage[fetch]:-}" ] && [ -n "${sink_stage[decode]:-}" ] && [ -n "${sink_stage[rows]:-}" ] && [ -n "${sink_stage[insert]:-}" ]; then
    echo "| sink CPU per booking by stage (BenchmarkSinkStages, informative): franz-go fetch alone; + decode and checks; + column buffers; + ClickHouse inserts and the dead-letter judge | $(calc "1e6 / ${sink_stage[fetch]}" %.2f) µs; $(calc "1e6 / ${sink_stage[decode]}" %.2f) µs; $(calc "1e6 / ${sink_stage[rows]}" %.2f) µs; $(calc "1e6 / ${sink_stage[insert]}" %.2f) µs (fetch and decode alone: $(fmt_int "$(calc "${sink_stage[decode]}" %.0f)") rows/s per core) | — | — |"
  fi
  if [ -n "$views_ratio" ]; then
    echo "| sink with the purchase rollups' views on ÷ off (BenchmarkSinkFacts, wall rows/s, median of $views_pairs pairs; raw: sink-views.txt) | $views_ratio (the views cost $(calc "(1 - $views_ratio) * 100" %.1f)%) | ≥ 0.90 (≤ 10%) | $(verdict "$views_ratio" '>=' 0.90) |"
    [ -z "$views_cpu_ratio" ] || echo "| the same, the sink process's rows per CPU second (informative: the views' work is the server's) | $views_cpu_ratio | — | — |"
  fi
  echo "| sink end to end, every topic, until its dead-letter judge caught up too | $(fmt_int "${R[sink.per_core]}") rows/s per core ($(fmt_int "${R[sink.records]}") rows, $(fmt_int "${R[sink.per_wall]}")/s wall) | ≥ 1,000,000 rows/s per core | $(verdict "${R[sink.per_core]}" '>=' 1000000) |"
  echo "| booking → commission p99 at half max rate, default commit interval | p99 ${R[probe.p99_ms]} ms, p50 ${R[probe.p50_ms]} ms (${R[probe.rate]} bookings/s of $half_rate/s asked, ${R[probe.seen]}/${R[probe.sent]} seen, max ${R[probe.max]}) | p99 ≤ 250 ms | $(verdict "${R[probe.p99_ms]}" '<=' 250) |"
  echo "| booking → commission p99 at $target_rate bookings/s, default commit interval | p99 ${R[probe_target.p99_ms]} ms, p50 ${R[probe_target.p50_ms]} ms (${R[probe_target.rate]} bookings/s of $target_rate/s asked, ${R[probe_target.seen]}/${R[probe_target.sent]} seen, max ${R[probe_target.max]}) | p99 ≤ 250 ms | $(verdict "${R[probe_target.p99_ms]}" '<=' 250) |"
  echo "| same at a tenth of the maximum rate, ledger at --commit-interval $fast_commit (informative) | p99 ${R[probe_fast.p99_ms]} ms, p50 ${R[probe_fast.p50_ms]} ms (${R[probe_fast.rate]} bookings/s of $fast_rate/s asked, ${R[probe_fast.seen]}/${R[probe_fast.sent]} seen, max ${R[probe_fast.max]}) | p99 ≤ 250 ms | $(verdict "${R[probe_fast.p99_ms]}" '<=' 250) |"
  if [ -n "$state1" ]; then
    echo "| owner state per client, 1M clients | $state1 B (store incl. key and map: $store1 B; changelog value $clog B) | ≤ 64 B | $(verdict "$state1" '<=' 64) |"
  fi
  if [ -n "$state10" ]; then
    echo "| owner state per client, 10M clients | $state10 B (store incl. key and map: $store10 B) | ≤ 64 B | $(verdict "$state10" '<=' 64) |"
  fi
  echo "| ledger restore from changelog | $(fmt_int "${R[restore.per_s]}") records/s ($(fmt_int "${R[restore.records]}") records in ${R[restore.seconds]} s; ready ${R[restore.ready_s]} s after start) | ≥ 1,000,000 records/s | $(verdict "${R[restore.per_s]}" '>=' 1000000) |"
  echo
  echo "| load run | records | per core (own CPU) | wall | CPU s | peak RSS |"
  echo "|---|---|---|---|---|---|"
  echo "| simulate (producer) | $(fmt_int "${R[sim.records]}") | $(fmt_int "${R[sim.per_core]}")/s | $(fmt_int "${R[sim.per_wall]}")/s | $(calc "$sim_user + $sim_sys" %.2f) | — |"
  for c in ledger ceiling-stream ceiling-passthrough payouts sink; do
    echo "| $c | $(fmt_int "${R[$c.records]}") | $(fmt_int "${R[$c.per_core]}")/s | $(fmt_int "${R[$c.per_wall]}")/s | ${R[$c.cpu_s]} | ${R[$c.rss_mb]} MiB |"
  done
  echo
  echo "Ledger: $(fmt_int "${R[ledger.commissions]}") commissions, $(fmt_int "${R[ledger.changelog]}") changelog records written, $(fmt_int "${R[ledger.keys]}") keys in state ($(fmt_int "${R[ledger.state_bytes]}") encoded bytes)."
  if [ "$skip_go" != 1 ]; then
    echo
    echo "<details><summary>Go benchmarks (median of $count, -benchtime $benchtime)</summary>"
    echo
    echo "| benchmark | median |"
    echo "|---|---|"
    gotable "$out/go.txt" "$out/state.txt" $([ -f "$out/sink-e2e.txt" ] && echo "$out/sink-e2e.txt")
    echo
    echo "Top of the commission path CPU profile (\`go tool pprof -top\`, flat):"
    echo
    echo '```'
    sed -n '/flat%/,$p' "$out/commission.cpu.top.txt" | head -13
    echo '```'
    if [ -f "$out/sink.cpu.top.txt" ]; then
      echo
      echo "Top of the sink end-to-end CPU profile:"
      echo
      echo '```'
      sed -n '/flat%/,$p' "$out/sink.cpu.top.txt" | head -13
      echo '```'
    fi
    echo
    echo "</details>"
  fi
} | tee -a "$results"
{
  echo
  echo "BI query pack (\`deploy/local/bench-queries.sh $TASKOLE_CLICKHOUSE_DATABASE ${TASKOLE_CLICKHOUSE_DATABASE}_before\`, a section of \`make bench\`; simulate --clients $clients; before = $before_rev):"
  echo
  cat "$out/queries.md"
} | tee -a "$results"
{
  echo
  echo "Scale (\`deploy/local/bench-scale.sh\`, a section of \`make bench\`; no target: figures for sizing a cluster):"
  echo
  cat "$out/scale/scale.md"
} | tee -a "$results"
{
  echo
  echo "Recovery (\`deploy/local/bench-recovery.sh\`, a section of \`make bench\`):"
  echo
  echo '```'
  cat "$out/recovery/recovery.txt"
  echo '```'
} | tee -a "$results"

mkdir -p .run/bench
ln -sfn "$stamp" .run/bench/latest
step "done in ${elapsed}s: $results (raw: $out/)"
