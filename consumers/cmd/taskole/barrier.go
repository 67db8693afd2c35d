package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// tp is a topic partition.
type tp struct {
	topic string
	part  int32
}

// barrier waits causally until consumer groups have consumed everything written before it
// started, and everything they wrote in response, transitively:
//
//  1. snapshot the end offsets of every topic the groups consume, once no transaction is open
//     on them (last stable offset = high watermark): what the producers left;
//  2. wait until every group's committed offsets pass that snapshot on its topics;
//  3. snapshot again: what the groups wrote meanwhile (ledger → commissions → payouts → sink);
//     when nothing was written since the previous snapshot, everything is consumed: done;
//     otherwise go to 2.
//
// "Passes" is exact, never a guess from quiet offsets: a committed offset c passes an end
// offset e when c ≥ e, or when [c, e) holds no committed data: only transaction markers and
// the records of aborted transactions, which a read_committed consumer never sees and so never
// commits past (a marker at e-1 is the usual case; an aborted retry before it happens too).
type barrier struct {
	conn   []kgo.Opt // seeds and security of the marker reads' client
	adm    *kadm.Client
	groups []string
	poll   time.Duration
	// markers caches whether [from, end) of a partition holds no committed data.
	markers map[tp]map[[2]int64]bool
}

func newBarrier(cl *kgo.Client, conn []kgo.Opt, groups []string) *barrier {
	return &barrier{conn: conn, adm: kadm.NewClient(cl), groups: groups, poll: 500 * time.Millisecond, markers: map[tp]map[[2]int64]bool{}}
}

// wait runs the barrier; progress lines go to logf.
func (b *barrier) wait(ctx context.Context, logf func(format string, args ...any)) error {
	var prev map[tp]int64
	for round := 1; ; round++ {
		consumed, err := b.consumedTopics(ctx)
		if err != nil {
			return err
		}
		snap, err := b.stableEnds(ctx, consumed)
		if err != nil {
			return err
		}
		if prev != nil && sameEnds(prev, snap) {
			logf("barrier: round %d: nothing written since round %d; all groups passed", round, round-1)
			return nil
		}
		logf("barrier: round %d: waiting for %v to pass %d records in %d partitions", round, b.groups, total(snap), len(snap))
		if err := b.passAll(ctx, consumed, snap); err != nil {
			return err
		}
		prev = snap
	}
}

// consumedTopics returns the topics each group consumes: those of its members' assignments
// and of its committed offsets. A group that has neither yet is waited for.
func (b *barrier) consumedTopics(ctx context.Context) (map[string][]string, error) {
	for {
		described, err := b.adm.DescribeGroups(ctx, b.groups...)
		if err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("describing groups: %w", err)
		}
		out := map[string][]string{}
		missing := ""
		for _, g := range b.groups {
			set := map[string]bool{}
			if d, ok := described[g]; ok && d.Err == nil {
				for t := range d.AssignedPartitions() {
					set[t] = true
				}
			}
			if offs, ferr := b.adm.FetchOffsets(ctx, g); ferr == nil {
				offs.Each(func(o kadm.OffsetResponse) { set[o.Topic] = true })
			}
			if len(set) == 0 {
				missing = g
				break
			}
			for t := range set {
				out[g] = append(out[g], t)
			}
			sort.Strings(out[g])
		}
		if missing == "" && err == nil {
			return out, nil
		}
		if err := sleep(ctx, b.poll); err != nil {
			return nil, fmt.Errorf("waiting for group %s to join or commit: %w", missing, err)
		}
	}
}

// stableEnds returns the end offsets of the topics once no transaction is open on them.
func (b *barrier) stableEnds(ctx context.Context, consumed map[string][]string) (map[tp]int64, error) {
	var topics []string
	for _, ts := range consumed {
		topics = append(topics, ts...)
	}
	slices.Sort(topics)
	topics = slices.Compact(topics)
	for {
		hw, err1 := b.adm.ListEndOffsets(ctx, topics...)
		lso, err2 := b.adm.ListCommittedOffsets(ctx, topics...)
		snap, open := map[tp]int64{}, false
		if err1 == nil && err2 == nil && hw.Error() == nil && lso.Error() == nil {
			hw.Each(func(o kadm.ListedOffset) {
				snap[tp{o.Topic, o.Partition}] = o.Offset
				if l, ok := lso.Lookup(o.Topic, o.Partition); !ok || l.Offset != o.Offset {
					open = true
				}
			})
			if !open {
				return snap, nil
			}
		}
		if err := sleep(ctx, b.poll); err != nil {
			return nil, fmt.Errorf("waiting for open transactions on %v to end: %w", topics, err)
		}
	}
}

// passAll waits until every group's committed offsets pass snap on its topics.
func (b *barrier) passAll(ctx context.Context, consumed map[string][]string, snap map[tp]int64) error {
	for _, g := range b.groups {
		for {
			behind, err := b.behind(ctx, g, consumed[g], snap)
			if err == nil && len(behind) == 0 {
				break
			}
			if serr := sleep(ctx, b.poll); serr != nil {
				if err != nil {
					return fmt.Errorf("waiting for group %s: %w (last error: %w)", g, serr, err)
				}
				return fmt.Errorf("waiting for group %s: %w (behind: %s)", g, serr, strings.Join(behind, " "))
			}
		}
	}
	return nil
}

// behind returns the partitions of topics on which group g has not passed snap.
func (b *barrier) behind(ctx context.Context, g string, topics []string, snap map[tp]int64) ([]string, error) {
	offs, err := b.adm.FetchOffsets(ctx, g)
	if err != nil {
		return nil, fmt.Errorf("fetching offsets of %s: %w", g, err)
	}
	var out []string
	var check []tp
	from := map[tp]int64{}
	for p, end := range snap {
		if !slices.Contains(topics, p.topic) {
			continue
		}
		c := int64(0)
		if o, ok := offs.Lookup(p.topic, p.part); ok && o.Err == nil && o.At >= 0 {
			c = o.At
		}
		switch passes(c, end) {
		case passed:
		case ifMarker:
			check = append(check, p)
			from[p] = c
		default:
			out = append(out, fmt.Sprintf("%s/%d:%d<%d", p.topic, p.part, c, end))
		}
	}
	marks, err := b.noCommittedData(ctx, check, from, snap)
	if err != nil {
		return nil, err
	}
	for _, p := range check {
		if !marks[p] {
			out = append(out, fmt.Sprintf("%s/%d:%d<%d", p.topic, p.part, from[p], snap[p]))
		}
	}
	sort.Strings(out)
	return out, nil
}

// passage is whether a committed offset passes an end offset.
type passage int

const (
	notPassed passage = iota
	passed
	ifMarker // passed when the records from the committed offset to the end are no committed data
)

// maxMarkerRange is how far below an end offset a committed offset may stand and still be
// checked for "only markers and aborted records in between" (farther is simply behind).
const maxMarkerRange = 64

func passes(committed, end int64) passage {
	switch {
	case committed >= end:
		return passed
	case end-committed <= maxMarkerRange:
		return ifMarker
	default:
		return notPassed
	}
}

// noCommittedData reports, per partition, whether [from[p], snap[p]) holds no committed data:
// every record in it is a transaction marker (a control record, which kgo returns with
// KeepControlRecords) or belongs to a transaction that an abort marker in the range ends.
// Answers are cached: the log below an end offset does not change.
func (b *barrier) noCommittedData(ctx context.Context, ps []tp, from, snap map[tp]int64) (map[tp]bool, error) {
	out := map[tp]bool{}
	want := map[string]map[int32]kgo.Offset{}
	n := 0
	for _, p := range ps {
		if m, ok := b.markers[p][[2]int64{from[p], snap[p]}]; ok {
			out[p] = m
			continue
		}
		if want[p.topic] == nil {
			want[p.topic] = map[int32]kgo.Offset{}
		}
		want[p.topic][p.part] = kgo.NewOffset().At(from[p])
		n++
	}
	if n == 0 {
		return out, nil
	}
	cl, err := kgo.NewClient(append(b.conn[:len(b.conn):len(b.conn)],
		kgo.ConsumePartitions(want), kgo.KeepControlRecords(), kgo.FetchIsolationLevel(kgo.ReadUncommitted()))...)
	if err != nil {
		return nil, fmt.Errorf("creating marker client: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	scans := map[tp]*rangeScan{}
	for n > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return out, nil // the rest stays unknown: not passed yet, asked again next poll
		}
		fs.EachRecord(func(r *kgo.Record) {
			p := tp{r.Topic, r.Partition}
			if _, done := out[p]; done || r.Offset < from[p] {
				return
			}
			sc := scans[p]
			if sc == nil {
				sc = &rangeScan{open: map[int64]bool{}}
				scans[p] = sc
			}
			sc.add(r)
			if sc.committed || r.Offset >= snap[p]-1 {
				out[p] = !sc.committed && len(sc.open) == 0
				if b.markers[p] == nil {
					b.markers[p] = map[[2]int64]bool{}
				}
				b.markers[p][[2]int64{from[p], snap[p]}] = out[p]
				n--
			}
		})
	}
	return out, nil
}

// rangeScan follows the records of an offset range in order: committed turns true at the
// first committed data record (a plain record, or a transactional one whose transaction a
// commit marker ends); open holds the producers with records whose transaction has not ended.
type rangeScan struct {
	committed bool
	open      map[int64]bool
}

func (sc *rangeScan) add(r *kgo.Record) {
	switch {
	case !r.Attrs.IsControl() && !r.Attrs.IsTransactional():
		sc.committed = true
	case !r.Attrs.IsControl():
		sc.open[r.ProducerID] = true
	default:
		// Control record key: version (int16), type (int16: 0 abort, 1 commit).
		if len(r.Key) >= 4 && binary.BigEndian.Uint16(r.Key[2:4]) == 1 && sc.open[r.ProducerID] {
			sc.committed = true
		}
		delete(sc.open, r.ProducerID)
	}
}

func sameEnds(a, b map[tp]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for p, e := range a {
		if b[p] != e {
			return false
		}
	}
	return true
}

func total(snap map[tp]int64) int64 {
	var n int64
	for _, e := range snap {
		n += e
	}
	return n
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
