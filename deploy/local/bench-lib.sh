# Shell helpers of the bench scripts (bench.sh, bench-scale.sh), sourced, not run.

# calc EXPR [FMT]: floating-point arithmetic (awk), printed with %.6g unless FMT is given.
calc() { awk "BEGIN { printf \"${2:-%.6g}\", $1 }"; }
now_ns() { date +%s%N; }
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; } # utime+stime
vm_hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
# metric PORT REGEX: the sum of every sample whose name{labels} matches REGEX (0 when absent);
# metricf the same with six decimals.
metric() {
  { curl -fsS --max-time 5 "http://127.0.0.1:$1/metrics" 2>/dev/null || true; } |
    awk -v re="$2" '!/^#/ && $1 ~ re { s += $2 } END { printf "%.0f", s }'
}
metricf() {
  { curl -fsS --max-time 5 "http://127.0.0.1:$1/metrics" 2>/dev/null || true; } |
    awk -v re="$2" '!/^#/ && $1 ~ re { s += $2 } END { printf "%.6f", s }'
}
fmt_int() { printf "%'d" "$1" 2>/dev/null || echo "$1"; }
