package stream

import "testing"

// TestNextJudgeBatch pins the judge's poll sizes: about judgeBytes of records per
// transaction, never none, never more than judgeMaxRecords, judgeFirstRecord before any size
// is known.
func TestNextJudgeBatch(t *testing.T) {
	for _, c := range []struct {
		name           string
		records, bytes int
		want           int
	}{
		{"nothing polled yet", 0, 0, judgeFirstRecord},
		{"small records: the record cap", 500, 500 * 200, judgeMaxRecords},
		{"empty records: the record cap", 10, 0, judgeMaxRecords},
		{"4 KiB records: 2,048 fit", 100, 100 * 4096, 2048},
		{"1 KiB records: 8,192 fit", 10, 10 * 1024, 8192},
		{"1 MiB records: 8", 3, 3 << 20, 8},
		{"records over the byte bound: one at a time", 1, 64 << 20, 1},
		{"one byte short of two per bound", 2, 2*(judgeBytes/2) + 2, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := nextJudgeBatch(c.records, c.bytes); got != c.want {
				t.Fatalf("nextJudgeBatch(%d, %d) = %d, want %d", c.records, c.bytes, got, c.want)
			}
		})
	}
}
