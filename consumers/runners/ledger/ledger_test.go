package ledger

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/consumers/testkit/metrictest"
	"github.com/taskole/revshare/schemas"
)

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// waitConsumed waits until the group's committed offsets reach the ends of topics.
func waitConsumed(t *testing.T, r *Runner, brokers []string, topics ...string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if lagOf(t, brokers, r.cfg.Group, topics...) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("group %s did not consume %v in time", r.cfg.Group, topics)
}

func TestLedgerScenario(t *testing.T) {
	brokers := itest.Kafka(t)
	topics := itest.Topics(t)
	reg := prometheus.NewRegistry()
	r := newRunner(t, Config{
		Brokers:    brokers,
		Topics:     topics,
		Group:      "g-" + itest.Unique(t),
		Partitions: 4,
		Logger:     testLogger(),
		Registry:   reg,
	})
	phases, want := scenario(3)
	// A malformed businesses record (read outside the group): dead-lettered by the follower.
	phases[0] = append(phases[0], input{"businesses", "B9",
		fmt.Sprintf(`{"event_id":"biz-B9-0","business_id":"B9","name":"n","sector":"beauty","referral_rate":"ten percent","occurred_at":%q}`, ts(0)),
		"referral_rate:invalid"})
	// Topics exist before producing: Run creates them; wait for readiness first.
	stop := startRunner(t, r)
	var produced []*kgo.Record
	var bad []input
	for i, ph := range phases {
		recs := produce(t, brokers, topics, ph)
		produced = append(produced, recs...)
		for _, in := range ph {
			if in.bad != "" {
				bad = append(bad, in)
			}
		}
		if i < len(phases)-1 {
			waitConsumed(t, r, brokers, string(topics.Enrollments), string(topics.Bookings))
		}
	}
	recs := readAll(t, brokers, string(topics.Commissions), 60*time.Second, func(rs []*kgo.Record) bool {
		net, _, _ := ledgerOf(t, rs)
		return equalNet(net, want)
	})
	net, ids, dup := ledgerOf(t, recs)
	if !equalNet(net, want) {
		t.Errorf("net ledger = %v, want %v", net, want)
	}
	if len(dup) > 0 {
		t.Errorf("duplicate commission ids: %v", dup)
	}
	// 3 clients × (bk1: accrual + 2 reversals, bk3: accrual, bk4: correction accrual, bk5: accrual + reversal).
	if len(ids) != 3*7 {
		t.Errorf("got %d commissions, want %d", len(ids), 3*7)
	}
	dlq := readAll(t, brokers, string(topics.DLQ), 30*time.Second, func(rs []*kgo.Record) bool { return len(rs) >= len(bad) })
	checkDLQ(t, dlq, produced, phases)
	owners := readAll(t, brokers, string(topics.ReferralOwners), 30*time.Second, func(rs []*kgo.Record) bool { return len(rs) >= 3*5 })
	last := map[string]string{}
	for _, o := range owners {
		v, err := schemas.DecodeReferralOwner(o.Value)
		if err != nil {
			t.Fatalf("decoding owner: %v", err)
		}
		if string(o.Key) != v.ClientID {
			t.Errorf("owner record keyed %q, client %q", o.Key, v.ClientID)
		}
		last[v.ClientID] = v.OwnerBusinessID
	}
	for _, c := range []string{"c1-0", "c3-0", "c3-2"} {
		if last[c] != "B1" {
			t.Errorf("owner of %s = %q, want B1", c, last[c])
		}
	}
	if last["c2-1"] != "B2" {
		t.Errorf("owner of c2-1 = %q, want B2", last["c2-1"])
	}
	waitConsumed(t, r, brokers, string(topics.Enrollments), string(topics.Bookings))
	checkMarkers(t, brokers, topics, 4, produced, phases)
	if got := metrictest.Sum(t, reg, "taskole_stream_dead_letters_total", "reason", "refund_exceeds_remaining"); got != 3 {
		t.Errorf("dead letter metric refund_exceeds_remaining = %v, want 3", got)
	}
	if got := metrictest.Sum(t, reg, "taskole_ledger_business_errors_total", "reason", "referral_rate:invalid"); got != 1 {
		t.Errorf("business errors metric referral_rate:invalid = %v, want 1", got)
	}
	stop()
}

func waitReady(ctx context.Context, t testing.TB, r *Runner) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !r.Ready() {
		if ctx.Err() != nil {
			t.Fatalf("Run returned early: %v", context.Cause(ctx))
		}
		if time.Now().After(deadline) {
			t.Fatal("ledger not ready in time")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newRunner is New(cfg), the runner's topics deleted when the test ends.
func newRunner(t testing.TB, cfg Config) *Runner {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteTopics(cfg.Brokers, cfg.Topics, r.cfg.Changelog) })
	return r
}

// startSolo starts a ledger of one partition and a group of its own on the shared broker,
// over topics of its own, and returns once it is ready (startRunner).
func startSolo(t testing.TB) (brokers []string, topics schemas.Topics, r *Runner, stop func()) {
	t.Helper()
	brokers, topics = itest.Kafka(t), itest.Topics(t)
	r = newRunner(t, Config{Brokers: brokers, Topics: topics, Group: "g-" + itest.Unique(t), Partitions: 1, Logger: testLogger()})
	return brokers, topics, r, startRunner(t, r)
}

// startRunner runs r until stop, which cancels it, fails the test when Run returned an error
// and closes r (itest.Start); it returns once r is ready.
func startRunner(t testing.TB, r *Runner) (stop func()) {
	t.Helper()
	ctx, stop := itest.Start(context.Background(), t, "the ledger", r)
	waitReady(ctx, t, r)
	return stop
}

// checkDLQ checks that every bad input is in the dead-letter topic exactly once, with its
// original coordinates, bytes, key and a reason.
func checkDLQ(t *testing.T, dlq, produced []*kgo.Record, phases [][]input) {
	t.Helper()
	var ins []input
	for _, ph := range phases {
		ins = append(ins, ph...)
	}
	got := map[string]schemas.DeadLetter{}
	for _, r := range dlq {
		d, err := schemas.DecodeDeadLetter(r.Value)
		if err != nil {
			t.Fatalf("decoding dead letter: %v", err)
		}
		if string(r.Key) != string(d.Key) {
			t.Errorf("dead letter keyed %q, original key %q", r.Key, d.Key)
		}
		k := fmt.Sprintf("%s/%d@%d", d.Topic, d.Partition, d.Offset)
		if _, ok := got[k]; ok {
			t.Errorf("record %s/%d@%d dead-lettered twice", d.Topic, d.Partition, d.Offset)
		}
		got[k] = d
	}
	n := 0
	for i, in := range ins {
		if in.bad == "" {
			continue
		}
		n++
		p := produced[i]
		d, ok := got[fmt.Sprintf("%s/%d@%d", p.Topic, p.Partition, p.Offset)]
		switch {
		case !ok || d.Topic != p.Topic:
			t.Errorf("bad record %s %q not in the dead-letter topic", p.Topic, in.value)
		case string(d.Value) != in.value || string(d.Key) != in.key || d.Consumer != "ledger" || d.Error == "" || d.FailedAt.IsZero():
			t.Errorf("dead letter %+v does not match input %+v", d, in)
		}
	}
	if len(dlq) != n {
		t.Errorf("dead-letter topic holds %d records, want %d", len(dlq), n)
	}
}

func deleteTopics(brokers []string, topics schemas.Topics, changelog string) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = deleteAll(ctx, cl, append(topicNames(topics), changelog, RepartitionFor(topics))...)
}
