package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

// ProduceOptions configures Produce. The zero value produces to the default topic names as
// fast as possible without progress output.
type ProduceOptions struct {
	// Topics names the topics (zero fields: the contract defaults).
	Topics schemas.Topics
	// Rate limits production to this many events per second; 0 means as fast as possible.
	Rate float64
	// Progress receives progress output; nil means none. On a terminal (a character device)
	// a one-line bar is redrawn in place; otherwise a plain line is written every Interval.
	Progress io.Writer
	// Interval between plain progress lines (default 5s).
	Interval time.Duration
	// EventOrder produces the year sorted by event time (see SortByEventTime) instead of the
	// generator's order, which emits a booking's future refunds with it and late enrollments a
	// month late, and waits for every simulated day's records to be acknowledged before it
	// produces the next day's (flushday.go). It holds the whole year in memory: for the demo
	// and small presets.
	EventOrder bool
}

// SortByEventTime sorts events by occurred_at, stably: duplicates stay behind their original,
// and a record without a readable occurred_at (a malformed one) keeps its place behind the
// event before it.
func SortByEventTime(events []Event) {
	keys := make([]int64, len(events))
	var last int64
	for i, e := range events {
		var v struct {
			OccurredAt time.Time `json:"occurred_at"`
		}
		if json.Unmarshal(e.Value, &v) == nil && !v.OccurredAt.IsZero() {
			last = v.OccurredAt.UnixNano()
		}
		keys[i] = last
	}
	idx := make([]int, len(events))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	sorted := make([]Event, len(events))
	for i, j := range idx {
		sorted[i] = events[j]
	}
	copy(events, sorted)
}

// Produce sends every event of g to Kafka through cl (asynchronous, batched by franz-go),
// waits until all are acknowledged and returns the generator's Stats. A businesses event is
// acknowledged before any later event of another topic is sent (a flush after each run of
// businesses events), so a rate change is in the log before the bookings it covers (SPEC R2:
// announced no later than it takes effect) even though franz-go does not order appends
// across partitions. It stops at the first
// failed record or when ctx is done, returning the error and the Stats of what was generated.
func Produce(ctx context.Context, cl *kgo.Client, g *Generator, opts ProduceOptions) (Stats, error) {
	if opts.Rate < 0 {
		return Stats{}, fmt.Errorf("validating produce options: rate %v is negative", opts.Rate)
	}
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Second
	}
	names := topicNames(opts.Topics.WithDefaults())
	var a acks
	start := time.Now()
	prog := newProgress(opts.Progress, opts.Interval, start)
	err := produceAll(ctx, cl, g, opts, names, &a, prog, start)
	if err == nil {
		if ferr := cl.Flush(ctx); ferr != nil {
			err = fmt.Errorf("flushing produced records: %w", ferr)
		}
	}
	if p := a.first.Load(); p != nil {
		err = errors.Join(*p, err)
	}
	prog.update(g.Progress(), a.n.Load(), true)
	return g.Stats(), err
}

// produceAll produces the generator's events until it is exhausted, ctx ends or a produce
// fails (a.first), pacing them at opts.Rate events/s from start when it is positive.
func produceAll(ctx context.Context, cl *kgo.Client, g *Generator, opts ProduceOptions, names map[schemas.Topic]string, a *acks, prog *progress, start time.Time) error {
	var sent int64
	rates := false // businesses events sent since the last flush
	next := g.Next
	var day func() (int64, bool) // the simulated day of the event last returned by next
	if opts.EventOrder {
		next, day = inEventOrder(g)
	}
	lastDay := int64(-1 << 62)
	for a.first.Load() == nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, ok := next()
		if !ok {
			return nil
		}
		if err := announce(ctx, cl, &rates, e.Topic); err != nil {
			return err
		}
		if err := nextDay(ctx, cl, day, &lastDay); err != nil {
			return err
		}
		cl.Produce(ctx, &kgo.Record{Topic: names[e.Topic], Key: e.Key, Value: e.Value}, a.promise)
		sent++
		if opts.Rate > 0 {
			due := start.Add(time.Duration(float64(sent) / opts.Rate * float64(time.Second)))
			if d := time.Until(due); d > 2*time.Millisecond {
				if err := sleep(ctx, d); err != nil {
					return err
				}
			}
		}
		if sent&255 == 0 {
			prog.update(g.Progress(), a.n.Load(), false)
		}
	}
	return nil
}

// topicNames maps the logical topics the generator yields to the names in topics.
func topicNames(topics schemas.Topics) map[schemas.Topic]string {
	return map[schemas.Topic]string{
		schemas.TopicEnrollments:      string(topics.Enrollments),
		schemas.TopicBookings:         string(topics.Bookings),
		schemas.TopicBusinesses:       string(topics.Businesses),
		schemas.TopicFeedback:         string(topics.Feedback),
		schemas.TopicAcquisitionCosts: string(topics.AcquisitionCosts),
		schemas.TopicRetentionCosts:   string(topics.RetentionCosts),
	}
}

// inEventOrder generates all of g, sorts it by event time (SortByEventTime) and returns a
// Next over the sorted events.
func inEventOrder(g *Generator) (func() (Event, bool), func() (int64, bool)) {
	var all []Event
	for e, ok := g.Next(); ok; e, ok = g.Next() {
		e.Key, e.Value = bytes.Clone(e.Key), bytes.Clone(e.Value)
		all = append(all, e)
	}
	SortByEventTime(all)
	var last Event
	next := func() (Event, bool) {
		if len(all) == 0 {
			return Event{}, false
		}
		last = all[0]
		all = all[1:]
		return last, true
	}
	return next, func() (int64, bool) { return dayOf(last) }
}

// acks counts acknowledged records and keeps the first produce error.
type acks struct {
	n     atomic.Int64
	once  sync.Once
	first atomic.Pointer[error]
}

// promise is the produce callback of every record.
func (a *acks) promise(r *kgo.Record, err error) {
	if err != nil {
		a.once.Do(func() {
			err = fmt.Errorf("producing to %s: %w", r.Topic, err)
			a.first.Store(&err)
		})
		return
	}
	a.n.Add(1)
}

// announce flushes cl before an event of topic when businesses events were sent since the
// last flush (*rates), so those are in the log first, and notes whether topic is one.
func announce(ctx context.Context, cl *kgo.Client, rates *bool, topic schemas.Topic) error {
	if *rates && topic != schemas.TopicBusinesses {
		if err := cl.Flush(ctx); err != nil {
			return fmt.Errorf("flushing businesses events: %w", err)
		}
	}
	*rates = topic == schemas.TopicBusinesses
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// progress renders production progress: a bar on a terminal, plain lines elsewhere.
type progress struct {
	w        io.Writer
	terminal bool
	every    time.Duration
	start    time.Time
	last     time.Time
}

func newProgress(w io.Writer, interval time.Duration, start time.Time) *progress {
	p := &progress{w: w, every: interval, start: start, last: start}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
			p.every = 200 * time.Millisecond
		}
	}
	return p
}

func (p *progress) update(frac float64, acked int64, final bool) {
	if p.w == nil {
		return
	}
	now := time.Now()
	if !final && now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	line := progressLine(frac, acked, now.Sub(p.start), p.terminal, final)
	if p.terminal {
		fmt.Fprint(p.w, "\r"+line+"\x1b[K")
		if final {
			fmt.Fprintln(p.w)
		}
		return
	}
	fmt.Fprintln(p.w, line)
}

// progressLine formats one progress report; elapsed > 0.
func progressLine(frac float64, acked int64, elapsed time.Duration, bar, final bool) string {
	frac = min(max(frac, 0), 1)
	rate := float64(acked) / max(elapsed.Seconds(), 1e-3)
	eta := "?"
	switch {
	case final:
		eta = "done"
	case frac > 0:
		eta = (time.Duration(float64(elapsed) * (1 - frac) / frac)).Round(time.Second).String()
	}
	if !bar {
		return fmt.Sprintf("simulate: %5.1f%% %d events acked, %.0f events/s, elapsed %s, eta %s",
			100*frac, acked, rate, elapsed.Round(time.Second), eta)
	}
	const width = 30
	full := int(frac * width)
	return fmt.Sprintf("[%s%s] %5.1f%% %10d events %8.0f ev/s  ETA %s",
		strings.Repeat("#", full), strings.Repeat("-", width-full), 100*frac, acked, rate, eta)
}

// nextDay acknowledges the records of the simulated day *last before the event's, when the
// event opens a new day: a simulated day's records are visible before the next day's are
// produced, as a marketplace's would be (see flushDay). day is nil unless the events come in
// event order.
func nextDay(ctx context.Context, cl *kgo.Client, day func() (int64, bool), last *int64) error {
	if day == nil {
		return nil
	}
	d, ok := day()
	if !ok || d == *last {
		return nil
	}
	if err := flushDay(ctx, cl, *last); err != nil {
		return err
	}
	*last = d
	return nil
}
