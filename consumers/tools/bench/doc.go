// Package bench holds benchmarks that span packages and need more than one package's hot path:
// the memory of the ledger's owner state at 1M and 10M clients, measured the way the ledger
// keeps it. It has no non-test code; `make bench` (deploy/local/bench.sh) runs it and the
// per-package benchmarks, and appends the figures to docs/BENCHMARKS.md.
package bench
