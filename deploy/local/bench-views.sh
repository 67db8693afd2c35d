#!/usr/bin/env bash
# What the rollups' materialized views cost ClickHouse's INSERT into purchase_facts, apart
# from the sink: a fresh database per run, migrated by a binary (its tree's views) or with
# every view on purchase_facts dropped, then one INSERT … SELECT of a fixed sample of SRC's
# purchase facts in BENCH_VIEWS_BLOCK-row blocks (the sink's BatchRows: one block per sink
# insert), timed by clickhouse-client. Runs alternate (none, TASKOLE_BIN_BEFORE, TASKOLE_BIN)
# so the machine's drift hits each alike; each run checks that the rollups' sums equal those
# of the sample. Prints a Markdown table on stdout.
#
#   deploy/local/bench-views.sh SRC_DATABASE
#
# SRC_DATABASE holds purchase_facts (e.g. a load of bench-queries.sh). Environment:
# TASKOLE_BIN (bin/taskole), TASKOLE_BIN_BEFORE (unset: no before column), BENCH_VIEWS_RUNS
# (3), BENCH_VIEWS_SAMPLE (4: every fact whose cityHash64(fact_id) % 4 = 0),
# BENCH_VIEWS_BLOCK (50000).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
src=${1:?usage: bench-views.sh SRC_DATABASE}
bin=${TASKOLE_BIN:-bin/taskole}
bin_before=${TASKOLE_BIN_BEFORE:-}
runs=${BENCH_VIEWS_RUNS:-3}
sample=${BENCH_VIEWS_SAMPLE:-4}
block=${BENCH_VIEWS_BLOCK:-50000}
ch=(clickhouse-client --host "${TASKOLE_CLICKHOUSE_HOST:-127.0.0.1}" --port "${TASKOLE_CLICKHOUSE_PORT:-9000}")
db=bench_views
sums="SELECT sum(toInt64(purchases)), sum(amount), sum(refunded), sum(commission)"

"${ch[@]}" -q "DROP DATABASE IF EXISTS ${db}_src"
"${ch[@]}" -q "CREATE DATABASE ${db}_src"
"${ch[@]}" -q "CREATE TABLE ${db}_src.facts AS $src.purchase_facts"
"${ch[@]}" -q "INSERT INTO ${db}_src.facts SELECT * FROM $src.purchase_facts WHERE cityHash64(fact_id) % $sample = 0"
n=$("${ch[@]}" -q "SELECT count() FROM ${db}_src.facts")
want=$("${ch[@]}" -q "$sums FROM ${db}_src.facts")
wantp=$("${ch[@]}" -q "SELECT sum(toInt64(purchases)) FROM ${db}_src.facts")

# run MODE BIN: seconds of the INSERT with MODE's views (none: dropped), after the check.
run() {
  local mode=$1 b=$2 t mv got
  "${ch[@]}" -q "DROP DATABASE IF EXISTS $db"
  "$b" migrate --clickhouse-database "$db" >/dev/null 2>&1
  if [[ $mode == none ]]; then
    for mv in $("${ch[@]}" -q "SELECT name FROM system.tables WHERE database = '$db' AND engine = 'MaterializedView' AND create_table_query LIKE '%FROM $db.purchase_facts%'"); do
      "${ch[@]}" -q "DROP TABLE $db.$mv"
    done
  fi
  t=$({ "${ch[@]}" -d "$db" --max_block_size "$block" --max_insert_block_size "$block" --time \
    -q "INSERT INTO purchase_facts SELECT * FROM ${db}_src.facts"; } 2>&1)
  if [[ $mode != none ]]; then
    got=$("${ch[@]}" -q "$sums FROM $db.purchase_months_rollup")
    [[ $got == "$want" ]] || { echo "bench-views.sh: $mode: purchase_months_rollup sums $got, want $want" >&2; exit 1; }
    for r in purchase_times_rollup client_months_rollup; do
      got=$("${ch[@]}" -q "SELECT sum(purchases) FROM $db.$r" 2>/dev/null || echo missing)
      [[ $got == "$wantp" || $got == missing ]] || { echo "bench-views.sh: $mode: $r purchases $got, want $wantp" >&2; exit 1; }
    done
  fi
  echo "$t"
}

declare -A times
modes=(none after)
[[ -n $bin_before ]] && modes=(none before after)
for ((i = 1; i <= runs; i++)); do
  for m in "${modes[@]}"; do
    case $m in none | after) b=$bin ;; before) b=$bin_before ;; esac
    times[$m]+="$(run "$m" "$b") "
  done
done
"${ch[@]}" -q "DROP DATABASE IF EXISTS $db"
"${ch[@]}" -q "DROP DATABASE IF EXISTS ${db}_src"

median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "INSERT of $n purchase facts of $src in $block-row blocks, $runs runs each, alternating (s):"
echo
echo "| views | runs | median | views' share (median − none) |"
echo "|---|---|---|---|"
none=$(echo "${times[none]}" | median)
for m in "${modes[@]}"; do
  med=$(echo "${times[$m]}" | median)
  echo "| $m | ${times[$m]% } | $med | $(awk -v a="$med" -v b="$none" 'BEGIN { printf "%.2f", a - b }') |"
done
