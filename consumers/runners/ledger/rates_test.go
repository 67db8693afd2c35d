package ledger

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
)

// ratesInput is the history of TestRatesIndependentOfFollower in three announcements, each
// with its own record timestamp (announced): B1's rate 0.10; then for every client a booking
// at B1 (B1 becomes the owner) and a booking at B2 (B1 earns 10% of it); then a retroactive
// rate 0.20 for B1 dated before the B2 bookings but announced after them (it must not change
// them, SPEC R2); then one more booking per client at B2, after the 0.20 took effect.
func ratesInput(clients int, announced time.Time) [][]*kgo.Record {
	at := func(i int) time.Time { return announced.Add(time.Duration(i) * time.Second) }
	rec := func(in input, i int) *kgo.Record {
		return &kgo.Record{Topic: in.topic, Key: []byte(in.key), Value: []byte(in.value), Timestamp: at(i)}
	}
	phases := [][]*kgo.Record{{rec(business("B1", "0.10", 0), 0)}, nil, nil, nil}
	for i := range clients {
		c := fmt.Sprintf("rc%02d", i)
		phases[1] = append(phases[1],
			rec(booking(c+"-own", c+"-own", c, "B1", "completed", "50.00 EUR", 2), 1),
			rec(booking(c+"-x", c+"-x", c, "B2", "completed", "100.00 EUR", 3), 1))
		phases[3] = append(phases[3], rec(booking(c+"-y", c+"-y", c, "B2", "completed", "100.00 EUR", 6), 3))
	}
	phases[2] = []*kgo.Record{rec(business("B1", "0.20", 1), 2)}
	return phases
}

// TestRatesIndependentOfFollower: the same records, fed once live to a ledger whose rates
// follower is slow (it holds every fetch back for seconds) and once as a backlog to a fresh
// ledger, give the same commissions — ids, owners, rates and amounts — and the rates SPEC R2
// gives: the rate announced before a booking and in force at its time, never one announced
// after it. Before the rates gate the slow run judged the bookings with the default rate
// (the follower had not read B1's rate yet) and the backlog run with the retroactive one.
func TestRatesIndependentOfFollower(t *testing.T) {
	brokers := itest.Kafka(t)
	const clients = 12
	announced := time.Now().Truncate(time.Second)
	want := map[string]string{}
	for i := range clients {
		c := fmt.Sprintf("rc%02d", i)
		want["B1/"+c+"-x"] = "0.100 10.00"
		want["B1/"+c+"-y"] = "0.200 20.00"
	}
	slow := runRates(t, brokers, ratesInput(clients, announced), time.Second, roomyWait)
	backlog := runRates(t, brokers, ratesInput(clients, announced), 0, roomyWait)
	for name, got := range map[string]map[string]string{"slow follower": slow.byBooking, "backlog": backlog.byBooking} {
		if d := diffMaps(got, want); d != "" {
			t.Errorf("%s run: commissions differ from SPEC R2 (owner/booking: rate amount):\n%s", name, d)
		}
	}
	if d := diffMaps(slow.byID, backlog.byID); d != "" {
		t.Errorf("slow-follower and backlog runs wrote different commissions (id: entry):\n%s", d)
	}
	if slow.waited == 0 {
		t.Errorf("the slow run never waited for the rates table (taskole_ledger_rates_wait_seconds count 0)")
	}
	if slow.timeouts != 0 || backlog.timeouts != 0 {
		t.Errorf("rates waits timed out (slow %d, backlog %d): the runs did not test the gate within its budget", slow.timeouts, backlog.timeouts)
	}
}

// roomyWait is the rates wait of TestRatesIndependentOfFollower. The gate's budget
// (RatesWait, capped at half the transaction timeout) is a liveness bound: past it a batch is
// judged with what the table holds, by design (TestRatesWaitBoundsAStuckFollower).
// TestRatesIndependentOfFollower is about the gate within its budget, so it gives its
// one-second-per-fetch follower room for a loaded machine: with the 3 s default, a
// `go test -race ./...` run on two busy cores once had the follower miss B1's first rate by
// the budget's end.
const roomyWait = 25 * time.Second

// TestRatesWaitBoundsAStuckFollower: a rates follower that never applies what it fetches
// delays the ledger by at most the rates wait per transaction and never stalls it. Every
// booking is judged with the table as it is (empty: the default rate), and each give-up is
// counted in taskole_ledger_rates_wait_timeouts_total.
func TestRatesWaitBoundsAStuckFollower(t *testing.T) {
	brokers := itest.Kafka(t)
	const clients = 4
	stuck := runRates(t, brokers, ratesInput(clients, time.Now().Truncate(time.Second)), time.Hour, 500*time.Millisecond)
	want := map[string]string{}
	for i := range clients {
		c := fmt.Sprintf("rc%02d", i)
		want["B1/"+c+"-x"] = "0.050 5.00"
		want["B1/"+c+"-y"] = "0.050 5.00"
	}
	if d := diffMaps(stuck.byBooking, want); d != "" {
		t.Errorf("commissions with a stuck follower differ from the default rate's (owner/booking: rate amount):\n%s", d)
	}
	if stuck.timeouts == 0 {
		t.Errorf("taskole_ledger_rates_wait_timeouts_total is 0: the stuck follower was never given up on")
	}
}

type ratesRun struct {
	byBooking map[string]string // owner/booking → "rate amount"
	byID      map[string]string // commission_id → the whole entry
	waited    uint64            // rates waits observed
	timeouts  uint64            // rates waits given up (taskole_ledger_rates_wait_timeouts_total)
}

// runRates runs one ledger with the given rates wait over phases on topics of its own: live
// with a follower held back by follow after each fetch (each phase produced once the previous
// one is processed; the ledger runs before the first), or, when follow is 0, as a backlog
// (everything produced, then the ledger started).
func runRates(t *testing.T, brokers []string, phases [][]*kgo.Record, follow, wait time.Duration) ratesRun {
	t.Helper()
	topics := itest.Topics(t)
	reg := prometheus.NewRegistry()
	slow := follow > 0
	r, err := New(Config{Brokers: brokers, Topics: topics, Group: "g-" + itest.Unique(t), Partitions: 3,
		Logger: testLogger(), Registry: reg, TransactionTimeout: max(stream.DefaultTransactionTimeout, 2*wait), RatesWait: wait})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteTopics(brokers, topics, r.cfg.Changelog) })
	for _, ph := range phases {
		for _, rec := range ph {
			rec.Topic = topicOf(topics, rec.Topic)
		}
	}
	var stop func()
	start := func() { stop = startRunner(t, r) }
	if slow {
		r.followDelay = follow
		start()
	} else {
		// Run creates the topics; produce into them before it, with the ledger's partitions.
		itest.CreateTopics(t, brokers, 3, topicNames(topics)...)
	}
	cl := itest.Client(t, brokers)
	for _, ph := range phases {
		pctx, pcancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := cl.ProduceSync(pctx, ph...).FirstErr(); err != nil {
			t.Fatalf("producing: %v", err)
		}
		pcancel()
		if slow && ph[0].Topic == string(topics.Bookings) {
			waitConsumed(t, r, brokers, string(topics.Bookings))
		}
	}
	if !slow {
		start()
	}
	waitConsumed(t, r, brokers, string(topics.Bookings))
	recs := readAll(t, brokers, string(topics.Commissions), 60*time.Second, func(rs []*kgo.Record) bool {
		return len(rs) >= 2*clientsOf(phases) // one accrual per booking at B2
	})
	stop()
	out := ratesRun{byBooking: map[string]string{}, byID: map[string]string{}}
	for _, rec := range recs {
		c, err := schemas.DecodeCommission(rec.Value)
		if err != nil {
			t.Fatalf("decoding commission: %v", err)
		}
		out.byBooking[c.OwnerBusinessID+"/"+c.BookingID] = c.Rate.StringFixed(3) + " " + c.Amount.StringFixed(2)
		out.byID[c.CommissionID] = string(rec.Value)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "taskole_ledger_rates_wait_seconds":
				out.waited += m.GetHistogram().GetSampleCount()
			case "taskole_ledger_rates_wait_timeouts_total":
				out.timeouts += uint64(m.GetCounter().GetValue())
			}
		}
	}
	return out
}

// clientsOf counts the clients of ratesInput's phases (two bookings each in phase 1).
func clientsOf(phases [][]*kgo.Record) int { return len(phases[1]) / 2 }

// diffMaps lists the keys whose values differ between got and want.
func diffMaps(got, want map[string]string) string {
	var lines []string
	for k, w := range want {
		if g := got[k]; g != w {
			lines = append(lines, fmt.Sprintf("  %s: got %q, want %q", k, g, w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, fmt.Sprintf("  %s: got %q, want none", k, g))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
