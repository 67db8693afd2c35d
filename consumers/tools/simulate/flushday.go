package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Producing in event order (ProduceOptions.EventOrder) sorts the year by occurred_at, but the
// producer batches per partition and sends the batches of different partitions in any order:
// a booking could become visible on the broker before an enrollment of the same client
// produced before it, and a live ledger would then handle them out of event time. So the
// simulator flushes at every simulated day boundary: every record of a day is acknowledged
// before the first record of the next day is produced, the way a marketplace produces an
// enrollment before a later booking. The records, their keys and their order per partition
// are those of the seed either way.

// dayOf returns the simulated day (days since the epoch, UTC) of e's occurred_at; false when
// it cannot be read (a malformed record stays in the day it was sorted into).
func dayOf(e Event) (int64, bool) {
	var v struct {
		OccurredAt time.Time `json:"occurred_at"`
	}
	if json.Unmarshal(e.Value, &v) != nil || v.OccurredAt.IsZero() {
		return 0, false
	}
	return v.OccurredAt.Unix() / 86400, true
}

// flushDay waits until every record produced so far (the records of day) is acknowledged.
func flushDay(ctx context.Context, cl *kgo.Client, day int64) error {
	if err := cl.Flush(ctx); err != nil {
		return fmt.Errorf("flushing the records of simulated day %d: %w", day, err)
	}
	return nil
}
