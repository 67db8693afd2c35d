package main

import (
	"context"
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
// offset e when c ≥ e, or when c = e-1 and the record at e-1 is a transaction marker (a
// read_committed consumer never commits past the marker of the last transaction).
type barrier struct {
	conn   []kgo.Opt // seeds and security of the marker reads' client
	adm    *kadm.Client
	groups []string
	poll   time.Duration
	// markers caches whether the record at an offset is a transaction marker.
	markers map[tp]map[int64]bool
}

func newBarrier(cl *kgo.Client, conn []kgo.Opt, groups []string) *barrier {
	return &barrier{conn: conn, adm: kadm.NewClient(cl), groups: groups, poll: 500 * time.Millisecond, markers: map[tp]map[int64]bool{}}
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
					return fmt.Errorf("waiting for group %s: %w (last error: %v)", g, serr, err)
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
		default:
			out = append(out, fmt.Sprintf("%s/%d:%d<%d", p.topic, p.part, c, end))
		}
	}
	marks, err := b.areMarkers(ctx, check, snap)
	if err != nil {
		return nil, err
	}
	for _, p := range check {
		if !marks[p] {
			out = append(out, fmt.Sprintf("%s/%d:%d<%d", p.topic, p.part, snap[p]-1, snap[p]))
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
	ifMarker // passed when the record just below the end offset is a transaction marker
)

func passes(committed, end int64) passage {
	switch {
	case committed >= end:
		return passed
	case committed == end-1:
		return ifMarker
	default:
		return notPassed
	}
}

// areMarkers reports, per partition, whether the record at snap[p]-1 is a transaction marker
// (a control record, which kgo returns with KeepControlRecords). Answers are cached: the log
// below an end offset does not change.
func (b *barrier) areMarkers(ctx context.Context, ps []tp, snap map[tp]int64) (map[tp]bool, error) {
	out := map[tp]bool{}
	want := map[string]map[int32]kgo.Offset{}
	n := 0
	for _, p := range ps {
		off := snap[p] - 1
		if m, ok := b.markers[p][off]; ok {
			out[p] = m
			continue
		}
		if want[p.topic] == nil {
			want[p.topic] = map[int32]kgo.Offset{}
		}
		want[p.topic][p.part] = kgo.NewOffset().At(off)
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
	for n > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return out, nil // the rest stays unknown: not passed yet, asked again next poll
		}
		fs.EachRecord(func(r *kgo.Record) {
			p := tp{r.Topic, r.Partition}
			if r.Offset != snap[p]-1 {
				return
			}
			if _, done := out[p]; done {
				return
			}
			out[p] = r.Attrs.IsControl()
			if b.markers[p] == nil {
				b.markers[p] = map[int64]bool{}
			}
			b.markers[p][r.Offset] = out[p]
			n--
		})
	}
	return out, nil
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
