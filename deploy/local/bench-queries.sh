#!/usr/bin/env bash
# The BI query benchmark (part of `make bench`): every dashboard panel of the query pack ×
# grouping, run by `taskole query --stats` against one database, each BENCH_QUERY_RUNS (3)
# times; per cell the median wall time and the rows and bytes the server read (progress
# packets of the native protocol: 18.16 keeps no system.query_log by default). Prints a
# Markdown table on stdout.
#
# Usage: deploy/local/bench-queries.sh DATABASE [LABEL]
# The database holds a simulated marketplace, e.g. made by
#   TASKOLE_TOPIC_PREFIX=qbench. TASKOLE_CLICKHOUSE_DATABASE=taskole_qbench \
#     bin/taskole simulate --clients 100000 (ledger + sink + payouts running, then `taskole lag --wait`),
# as deploy/local/bench.sh's load run does (database taskole_bench).
# Environment: TASKOLE_BIN (bin/taskole), BENCH_QUERY_RUNS (3), BENCH_QUERY_UNTIL (2025-12-01),
# BENCH_QUERY_AT (2025-12-31 23:59:59), BENCH_QUERY_TIMEOUT (10m).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
db=${1:?usage: bench-queries.sh DATABASE [LABEL]}
label=${2:-$db}
bin=${TASKOLE_BIN:-bin/taskole}
runs=${BENCH_QUERY_RUNS:-3}
until=${BENCH_QUERY_UNTIL:-2025-12-01}
at=${BENCH_QUERY_AT:-2025-12-31 23:59:59}
timeout=${BENCH_QUERY_TIMEOUT:-10m}

# panel groupings...
panels=(
  "retention_clients platform owner sector cohort"
  "retention_value platform owner sector cohort"
  "realized_clv platform owner sector cohort"
  "order_metrics platform owner sector cohort"
  "repeat_purchase_rate platform owner sector cohort"
  "churn_ltv platform owner sector cohort"
  "net_clv platform owner sector cohort"
  "retention_rate platform owner sector cohort"
  "cac_ltv platform business sector"
  "lifecycle_counts platform owner sector cohort"
)

echo "| panel | by | wall s (median of $runs) | rows read | MiB read |"
echo "|---|---|---|---|---|"
for line in "${panels[@]}"; do
  read -r panel groupings <<<"$line"
  for by in $groupings; do
    params=(--param "by=$by")
    case $panel in
    lifecycle_counts) params+=(--param "at=$at") ;;
    cac_ltv) ;;
    *) params+=(--param "until=$until") ;;
    esac
    walls=() rows=0 bytes=0
    for ((i = 0; i < runs; i++)); do
      line=$("$bin" query "$panel" --clickhouse-database "$db" --timeout "$timeout" --format tsv --stats "${params[@]}" 2>&1 >/dev/null | grep '^stats ') ||
        { echo "bench-queries.sh: $panel by=$by failed" >&2; exit 1; }
      walls+=("$(sed -E 's/.*elapsed_s=([0-9.]+).*/\1/' <<<"$line")")
      rows=$(sed -E 's/.*rows_read=([0-9]+).*/\1/' <<<"$line")
      bytes=$(sed -E 's/.*bytes_read=([0-9]+).*/\1/' <<<"$line")
    done
    med=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    printf '| %s | %s | %.2f | %d | %.1f |\n' "$panel" "$by" "$med" "$rows" "$(awk -v b="$bytes" 'BEGIN { print b / 1048576 }')"
  done
done
echo
echo "($label; $(date -u +%Y-%m-%dT%H:%MZ); load average $(cut -d' ' -f1-3 /proc/loadavg))"
