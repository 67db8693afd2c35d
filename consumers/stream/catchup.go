package stream

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// CatchUpIdle is how long reading partitions to their end waits for more records before
// concluding that the rest below the end offsets was compacted away or is control records.
const CatchUpIdle = 5 * time.Second

// CatchUp follows the reading of partitions up to the end offsets they had when the reading
// began — "read a topic to its end", written once: the changelog restore and the ledger's
// businesses table both use it. Read with kgo.KeepControlRecords, so that the last offset
// below an end is always seen, even when it is a transaction marker.
type CatchUp struct {
	pending map[int32]int64 // partition → end offset not reached yet
	last    time.Time       // when the last record was noted
}

// NewCatchUp returns a CatchUp to the end offsets ends (partition → end); an empty partition
// (end 0) is caught up already.
func NewCatchUp(ends map[int32]int64) *CatchUp {
	c := &CatchUp{pending: map[int32]int64{}, last: time.Now()}
	for p, end := range ends {
		if end > 0 {
			c.pending[p] = end
		}
	}
	return c
}

// Note records that r was read and reports whether it lies below its partition's end offset
// (a record of a partition that is not pending reports false). The record just below the end
// completes its partition.
func (c *CatchUp) Note(r *kgo.Record) (below bool) {
	c.last = time.Now()
	end, ok := c.pending[r.Partition]
	if !ok {
		return false
	}
	if r.Offset >= end-1 {
		delete(c.pending, r.Partition)
	}
	return r.Offset < end
}

// Done reports whether every partition reached its end.
func (c *CatchUp) Done() bool { return len(c.pending) == 0 }

// Idle reports whether no record was noted for CatchUpIdle: the rest below the ends is
// compacted away or markers. Callers then give up waiting (GiveUp).
func (c *CatchUp) Idle() bool { return time.Since(c.last) > CatchUpIdle }

// Pending returns the partitions not caught up yet and their end offsets (for logs).
func (c *CatchUp) Pending() map[int32]int64 { return c.pending }

// GiveUp counts every partition as caught up.
func (c *CatchUp) GiveUp() { clear(c.pending) }
