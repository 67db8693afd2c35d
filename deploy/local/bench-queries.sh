#!/usr/bin/env bash
# The BI query benchmark (part of `make bench`): every dashboard panel of the query pack ×
# grouping, run by `taskole query --stats`, per cell the median wall time of BENCH_QUERY_RUNS
# (3) runs and the rows and bytes the server reported reading (the native protocol's progress
# packets: 18.16 keeps no system.query_log by default; the sets of IN subqueries are not in
# them). Prints a Markdown table on stdout.
#
#   deploy/local/bench-queries.sh DATABASE [BEFORE_DATABASE]
#
# DATABASE holds a simulated marketplace (e.g. bench.sh's taskole_bench after its load run).
# With BEFORE_DATABASE (the same raw rows under an older schema, e.g. one built by make_before
# below), each cell runs on both, alternately, so the shared machine's noise hits both alike,
# and the table shows before and after side by side. The before cells run TASKOLE_BIN_BEFORE
# (default TASKOLE_BIN), a binary built from the older tree, so they run that tree's query pack
# (for the purchase rollups of 0131: the panels recomputing every purchase from the raw
# bookings at query time).
#
# Environment: TASKOLE_BIN (bin/taskole), TASKOLE_BIN_BEFORE (TASKOLE_BIN), BENCH_QUERY_RUNS (3), BENCH_QUERY_UNTIL
# (2025-12-01), BENCH_QUERY_AT (2025-12-31 23:59:59), BENCH_QUERY_TIMEOUT (10m),
# BENCH_QUERY_GROUPINGS (all: every grouping a panel's `by` lists; "platform owner" for a
# shorter run), BENCH_QUERY_PANELS (all: every panel below; "net_clv order_metrics" for those
# alone), BENCH_QUERY_MAKE_BEFORE (0; 1: create BEFORE_DATABASE from DATABASE first).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
db=${1:?usage: bench-queries.sh DATABASE [BEFORE_DATABASE]}
before=${2:-}
bin=${TASKOLE_BIN:-bin/taskole}
bin_before=${TASKOLE_BIN_BEFORE:-$bin}
runs=${BENCH_QUERY_RUNS:-3}
until=${BENCH_QUERY_UNTIL:-2025-12-01}
at=${BENCH_QUERY_AT:-2025-12-31 23:59:59}
timeout=${BENCH_QUERY_TIMEOUT:-10m}
only=${BENCH_QUERY_GROUPINGS:-all}
only_panels=${BENCH_QUERY_PANELS:-all}
ch=(clickhouse-client --host "${TASKOLE_CLICKHOUSE_HOST:-127.0.0.1}" --port "${TASKOLE_CLICKHOUSE_PORT:-9000}")

# make_before SRC DST: DST gets the migrations of TASKOLE_BIN_BEFORE (`migrate`: the older
# tree's schema) and a copy of SRC's raw rows, column by column (DST's columns), the ledger's
# purchase_facts included (the rollups' source since 0131, filled by DST's own views as the
# rows arrive); a table the older schema does not have is skipped.
make_before() {
  local src=$1 dst=$2 t cols
  "${ch[@]}" -q "DROP DATABASE IF EXISTS $dst"
  "$bin_before" migrate --clickhouse-database "$dst" >/dev/null
  for t in bookings enrollments businesses feedback acquisition_costs retention_costs referral_owners commissions payouts dlq sector_settings client_predictions purchase_facts; do
    [[ $("${ch[@]}" -q "EXISTS TABLE $dst.$t") == 1 ]] || continue
    cols=$("${ch[@]}" -q "SELECT arrayStringConcat(groupArray(name), ', ') FROM (SELECT name FROM system.columns WHERE database = '$dst' AND table = '$t' AND default_kind != 'MATERIALIZED')")
    "${ch[@]}" -q "INSERT INTO $dst.$t ($cols) SELECT $cols FROM $src.$t"
  done
}
if [[ -n $before && ${BENCH_QUERY_MAKE_BEFORE:-0} == 1 ]]; then
  echo "bench-queries.sh: copying $db into $before (the older schema of TASKOLE_BIN_BEFORE)" >&2
  make_before "$db" "$before"
fi

panels=(
  "retention_clients platform owner sector cohort"
  "retention_value platform owner sector cohort"
  "realized_clv platform owner sector cohort"
  "order_metrics platform owner sector cohort"
  "repeat_purchase_rate platform owner sector cohort"
  "churn_ltv platform owner sector cohort"
  "net_clv platform owner sector cohort"
  "retention_rate platform owner sector cohort"
  "cac_ltv business sector platform"
  "lifecycle_counts platform owner sector cohort"
)

# run BIN DB PANEL PARAMS...: one run; prints "wall rows bytes".
run() {
  local b=$1 d=$2 panel=$3 line
  shift 3
  line=$("$b" query "$panel" --clickhouse-database "$d" --timeout "$timeout" --format tsv --stats "$@" 2>&1 >/dev/null | grep '^stats ') ||
    { echo "bench-queries.sh: $panel $* on $d failed" >&2; exit 1; }
  sed -E 's/.*elapsed_s=([0-9.]+) rows_read=([0-9]+) bytes_read=([0-9]+).*/\1 \2 \3/' <<<"$line"
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

if [[ -n $before ]]; then
  echo "| panel | by | before s | after s | before rows read | after rows read | before MiB | after MiB |"
  echo "|---|---|---|---|---|---|---|---|"
else
  echo "| panel | by | wall s | rows read | MiB read |"
  echo "|---|---|---|---|---|"
fi
for spec in "${panels[@]}"; do
  read -r panel groupings <<<"$spec"
  [[ $only_panels == all || " $only_panels " == *" $panel "* ]] || continue
  for by in $groupings; do
    [[ $only == all || " $only " == *" $by "* ]] || continue
    params=(--param "by=$by")
    case $panel in
    lifecycle_counts) params+=(--param "at=$at") ;;
    cac_ltv) ;;
    *) params+=(--param "until=$until") ;;
    esac
    aw=() bw=()
    for ((i = 0; i < runs; i++)); do
      if [[ -n $before ]]; then
        read -r w br bb < <(run "$bin_before" "$before" "$panel" "${params[@]}")
        bw+=("$w")
      fi
      read -r w ar ab < <(run "$bin" "$db" "$panel" "${params[@]}")
      aw+=("$w")
    done
    am=$(printf '%s\n' "${aw[@]}" | median)
    if [[ -n $before ]]; then
      bm=$(printf '%s\n' "${bw[@]}" | median)
      printf '| %s | %s | %.2f | %.2f | %d | %d | %s | %s |\n' "$panel" "$by" "$bm" "$am" "$br" "$ar" "$(mib "$bb")" "$(mib "$ab")"
    else
      printf '| %s | %s | %.2f | %d | %s |\n' "$panel" "$by" "$am" "$ar" "$(mib "$ab")"
    fi
  done
done
echo
echo "(database $db${before:+, before: $before}; median of $runs; $(date -u +%Y-%m-%dT%H:%MZ); load average at the end $(cut -d' ' -f1-3 /proc/loadavg))"
