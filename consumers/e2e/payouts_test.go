package e2e

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/taskole/revshare/consumers/runners/ledger"
	"github.com/taskole/revshare/consumers/runners/payouts"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/consumers/tools/simulate"
	"github.com/taskole/revshare/pipelines/statement"
	"github.com/taskole/revshare/schemas"
)

// feed is how a run gets the seeded year.
type feed int

const (
	backlogOne   feed = iota // everything produced, then one ledger instance
	backlogThree             // everything produced, then three ledger instances
	liveInOrder              // consumers first, then the year in event-time order at a steady rate
)

func (f feed) String() string {
	return [...]string{"backlog, one ledger", "backlog, three ledgers", "live, in order"}[f]
}

// payoutRun is what one run left on the broker.
type payoutRun struct {
	statements  map[string]string // payout_id → value
	commissions []*kgo.Record     // the commissions topic, markers included
}

// TestStatementsIndependentOfSpeed feeds the same seeded year three ways — a full-speed backlog
// with one ledger instance, with three, and live in event-time order at a steady rate while the
// consumers run — and expects byte-identical statements, and every commission payable in a
// period the final low watermark closed, and not late in event time, in that period's statement.
func TestStatementsIndependentOfSpeed(t *testing.T) {
	brokers := itest.Kafka(t)
	cfg := smallPreset(t)
	cfg.Seed, cfg.Clients, cfg.Businesses = 1313, 900, 40
	events, _ := simulated(t, cfg)
	// In event-time order, as the platform's producers would write it: the generator emits a
	// booking's future refunds with it, which would put every partition's watermark weeks ahead
	// of its bookings. The late events it makes on purpose (late enrollments) become on time.
	simulate.SortByEventTime(events)
	t.Logf("seeded year: %d records", len(events))

	runs := map[feed]payoutRun{}
	for _, f := range []feed{backlogOne, backlogThree, liveInOrder} {
		t.Run(fmt.Sprint(int(f)), func(t *testing.T) { runs[f] = runPayouts(t, brokers, events, f) })
		if t.Failed() {
			return
		}
	}
	base := runs[backlogOne]
	if len(base.statements) == 0 {
		t.Fatal("no statements")
	}
	// The ledger merges each partition's enrollments and bookings in event time (the stream
	// processor's merge), so its entries, and the statements built on them, are the same
	// whatever the pace of each topic, the number of instances or the feed.
	for _, f := range []feed{backlogThree, liveInOrder} {
		if a, b := entrySet(base.commissions), entrySet(runs[f].commissions); a != b {
			t.Errorf("%v: the ledger wrote other entries than %v (%d vs %d bytes of ids)", f, backlogOne, len(b), len(a))
		}
		diffStatements(t, backlogOne, f, base.statements, runs[f].statements)
	}
	for _, f := range []feed{backlogOne, backlogThree, liveInOrder} {
		cov, err := payouts.CheckCoverage(decodeRecords(runs[f].commissions), decodeStatements(t, runs[f].statements), statement.Config{})
		if err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		t.Logf("%v: %s", f, cov)
		if cov.OnTime == 0 || cov.InOwn != cov.OnTime || cov.InNone != 0 || cov.Misplaced != 0 {
			t.Errorf("%v: on-time entries of closed periods not all in their period's statement: %s", f, cov)
		}
	}
}

// entrySet is the sorted ledger entries (id and amount) of a commissions topic.
func entrySet(recs []*kgo.Record) string {
	var ids []string
	for _, r := range recs {
		if r.Attrs.IsControl() || len(r.Key) == 0 {
			continue
		}
		if c, err := schemas.DecodeCommission(r.Value); err == nil {
			ids = append(ids, c.CommissionID+"="+c.Amount.String()+"@"+c.PayableAt.String())
		}
	}
	sort.Strings(ids)
	return strings.Join(slices.Compact(ids), ",")
}

func diffStatements(t *testing.T, base, f feed, want, got map[string]string) {
	t.Helper()
	n := 0
	for id, w := range want {
		if got[id] != w {
			if n++; n <= 3 {
				t.Errorf("%v: statement %s\n got %s\nwant %s", f, id, got[id], w)
			}
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			if n++; n <= 3 {
				t.Errorf("%v: extra statement %s", f, g)
			}
		}
	}
	if n > 0 {
		t.Errorf("%v: %d of %d statements differ from %v", f, n, len(want), base)
	} else {
		t.Logf("%v: %d statements byte-identical to %v", f, len(got), base)
	}
}

func runPayouts(t *testing.T, brokers []string, events []simulate.Event, f feed) payoutRun {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	topics := itest.Topics(t)
	prefix := string(topics.Enrollments)[:len(topics.Enrollments)-len(schemas.TopicEnrollments)]
	changelog := ledger.ChangelogFor(topics)
	var names []string
	for _, s := range ledger.Topics(topics, changelog, partitions) {
		names = append(names, s.Name)
	}
	names = append(names, string(topics.Payouts), string(topics.Feedback), string(topics.AcquisitionCosts), string(topics.RetentionCosts),
		prefix+payouts.DefaultChangelog, prefix+payouts.DefaultControl)
	itest.CreateTopics(t, brokers, partitions, names...)

	pcl := itest.Client(t, brokers)
	produce := func(evs []simulate.Event, perSecond int) {
		var tick *time.Ticker
		if perSecond > 0 {
			tick = time.NewTicker(time.Second / 20)
			defer tick.Stop()
		}
		step := max(perSecond/20, 1)
		for i := 0; i < len(evs); i += step {
			var recs []*kgo.Record
			for _, e := range evs[i:min(i+step, len(evs))] {
				recs = append(recs, &kgo.Record{Topic: prefix + string(e.Topic), Key: e.Key, Value: e.Value})
			}
			if perSecond == 0 {
				pcl.Produce(ctx, recs[0], nil)
				for _, r := range recs[1:] {
					pcl.Produce(ctx, r, nil)
				}
				continue
			}
			if err := pcl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatalf("producing: %v", err)
			}
			<-tick.C
		}
		if err := pcl.Flush(ctx); err != nil {
			t.Fatalf("producing: %v", err)
		}
	}
	// Businesses first in every run: rates are announced before they apply (R2) and the
	// ledger judges a booking at the rate its table holds, so the rates table must not race
	// the bookings; the comparison is about the ledger's and payouts' own pace.
	var table, rest []simulate.Event
	for _, e := range events {
		if e.Topic == schemas.TopicBusinesses {
			table = append(table, e)
		} else {
			rest = append(rest, e)
		}
	}
	produce(table, 0)
	if f != liveInOrder {
		produce(rest, 0)
	}

	group := "e2e-" + itest.Unique(t)
	eg, egCtx := errgroup.WithContext(ctx)
	instances := 1
	if f == backlogThree {
		instances = 3
	}
	var closers []func()
	for i := range instances {
		led := newLedger(t, brokers, topics, group, fmt.Sprintf("ledger-%d", i), partitions)
		closers = append(closers, led.Close)
		eg.Go(func() error { return led.Run(egCtx) })
	}
	po := newPayouts(t, brokers, topics, group)
	closers = append(closers, po.Close)
	eg.Go(func() error { return po.Run(egCtx) })
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := eg.Wait(); err != nil {
			t.Errorf("running ledger and payouts: %v", err)
		}
		for _, c := range closers {
			c()
		}
	}
	defer stop()

	if f == liveInOrder {
		// The generator yields the year month by month, in event-time order apart from the
		// late events it makes on purpose; about 20 s for the year.
		produce(rest, max(len(rest)/20, 200))
	}
	ka := kadm.NewClient(itest.Client(t, brokers))
	itest.WaitFor(egCtx, t, "the ledger to consume its inputs", func() (bool, string) {
		return itest.CaughtUp(egCtx, ka, group+"-ledger", 0, ledger.InputTopics(topics)...)
	})
	out := payoutRun{statements: map[string]string{}, commissions: readCommitted(egCtx, t, brokers, string(topics.Commissions))}
	itest.WaitFor(egCtx, t, "payouts to consume the commissions", func() (bool, string) {
		return consumedAll(egCtx, ka, group+"-payouts", out.commissions)
	})
	for _, r := range readCommitted(egCtx, t, brokers, string(topics.Payouts)) {
		if r.Attrs.IsControl() {
			continue
		}
		p, err := schemas.DecodePayout(r.Value)
		if err != nil {
			t.Fatalf("statement does not decode: %v", err)
		}
		if prev, dup := out.statements[p.PayoutID]; dup {
			t.Errorf("statement %s issued twice:\n%s\n%s", p.PayoutID, prev, r.Value)
		}
		out.statements[p.PayoutID] = string(r.Value)
	}
	stop()
	t.Logf("%v: %d commissions topic records, %d statements", f, len(out.commissions), len(out.statements))
	return out
}

func decodeRecords(recs []*kgo.Record) []*kgo.Record {
	out := recs[:0:0]
	for _, r := range recs {
		if !r.Attrs.IsControl() {
			out = append(out, r)
		}
	}
	return out
}

func decodeStatements(t *testing.T, m map[string]string) []schemas.Payout {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []schemas.Payout
	for _, id := range ids {
		p, err := schemas.DecodePayout([]byte(m[id]))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return slices.Clip(out)
}

// consumedAll reports whether group has committed past every data record of recs (a topic
// written in transactions ends with commit markers, which a consumer never commits past).
func consumedAll(ctx context.Context, adm *kadm.Client, group string, recs []*kgo.Record) (bool, string) {
	last := map[string]map[int32]int64{}
	for _, r := range recs {
		if r.Attrs.IsControl() {
			continue
		}
		if last[r.Topic] == nil {
			last[r.Topic] = map[int32]int64{}
		}
		last[r.Topic][r.Partition] = max(last[r.Topic][r.Partition], r.Offset)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return false, err.Error()
	}
	ok, lag := true, int64(0)
	for topic, ps := range last {
		for p, o := range ps {
			c, found := committed.Lookup(topic, p)
			if !found || c.At <= o {
				ok = false
				lag += o + 1 - max(c.At, 0)
			}
		}
	}
	return ok, fmt.Sprintf("lag %d", lag)
}
