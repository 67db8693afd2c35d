package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// queryStats accumulates what the server reports while one query runs: rows and bytes read
// (the native protocol's progress packets, summed), for `taskole query --stats` and the query
// benchmark (deploy/local/bench-queries.sh). Servers without system.query_log (18.16's default)
// report the same figures this way.
type queryStats struct {
	mu    sync.Mutex
	rows  uint64
	bytes uint64
	start time.Time
}

// context returns ctx carrying the progress callback.
func (s *queryStats) context(ctx context.Context) context.Context {
	s.start = time.Now()
	return clickhouse.Context(ctx, clickhouse.WithProgress(func(p *clickhouse.Progress) {
		s.mu.Lock()
		s.rows += p.Rows
		s.bytes += p.Bytes
		s.mu.Unlock()
	}))
}

// write prints one line: "stats elapsed_s=… rows_read=… bytes_read=…".
func (s *queryStats) write(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(w, "stats elapsed_s=%.3f rows_read=%d bytes_read=%d\n", time.Since(s.start).Seconds(), s.rows, s.bytes)
}
