package ledger

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/schemas"
)

// The scenario shared by the integration and crash tests. Times are hours after t0.
var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func ts(h int) string { return t0.Add(time.Duration(h) * time.Hour).Format(time.RFC3339) }

type input struct {
	topic string // "enrollments", "bookings", "businesses"
	key   string
	value string
	bad   string // expected dead-letter reason label; "" for good records
}

func business(id, rate string, h int) input {
	return input{"businesses", id, fmt.Sprintf(`{"event_id":"biz-%s-%d","business_id":%q,"name":"n","sector":"beauty","referral_rate":%q,"occurred_at":%q}`, id, h, id, rate, ts(h)), ""}
}

func enrollment(ev, client, biz string, h int) input {
	return input{"enrollments", client, fmt.Sprintf(`{"event_id":%q,"client_id":%q,"business_id":%q,"source":"invite","occurred_at":%q}`, ev, client, biz, ts(h)), ""}
}

func booking(ev, booking, client, biz, status, money string, h int) input {
	extra := ""
	switch status {
	case "completed":
		amt, cur, _ := strings.Cut(money, " ")
		extra = fmt.Sprintf(`,"amount":%q,"currency":%q`, amt, cur)
	case "refunded":
		amt, cur, _ := strings.Cut(money, " ")
		extra = fmt.Sprintf(`,"refund_amount":%q,"currency":%q`, amt, cur)
	}
	return input{"bookings", client, fmt.Sprintf(`{"event_id":%q,"booking_id":%q,"client_id":%q,"business_id":%q,"status":%q%s,"occurred_at":%q}`,
		ev, booking, client, biz, status, extra, ts(h)), ""}
}

func bad(in input, reason string) input { in.bad = reason; return in }

// scenario returns the inputs in three phases (each phase's records are produced after the
// previous phase was processed, so that the crash test's interleaving is deterministic) and
// the expected net per "owner/booking/currency".
func scenario(clients int) (phases [][]input, want map[string]string) {
	phases = [][]input{{
		business("B1", "0.10", 0),
		business("B3", "0.07", 0),
	}, nil, nil}
	want = map[string]string{}
	add := func(phase int, in ...input) { phases[phase] = append(phases[phase], in...) }
	for i := 0; i < clients; i++ {
		c := func(s string) string { return fmt.Sprintf("%s-%d", s, i) }
		// c1: owned by B1; booking at B2 with two partial refunds, a duplicate, and an
		// over-refund; a booking at the owner itself (direct value, nothing accrues).
		add(0, enrollment(c("e1"), c("c1"), "B1", 1))
		add(1,
			booking(c("k1a"), c("bk1"), c("c1"), "B2", "created", "", 2),
			booking(c("k1f"), c("bk1"), c("c1"), "B2", "confirmed", "", 2),
			booking(c("k1b"), c("bk1"), c("c1"), "B2", "completed", "100.00 EUR", 3),
			booking(c("k1b"), c("bk1"), c("c1"), "B2", "completed", "100.00 EUR", 3), // duplicate
			booking(c("k1c"), c("bk1"), c("c1"), "B2", "refunded", "30.00 EUR", 4),
			booking(c("k1d"), c("bk1"), c("c1"), "B2", "refunded", "20.00 EUR", 5),
			bad(booking(c("k1e"), c("bk1"), c("c1"), "B2", "refunded", "60.00 EUR", 6), "refund_exceeds_remaining"),
			booking(c("k2a"), c("bk2"), c("c1"), "B1", "completed", "50.00 EUR", 7),
		)
		want["B1/"+c("bk1")+"/EUR"] = "5" // round((100 − 50) × 0.10)
		// c2: owned by B2 (default rate 0.05), JPY booking at B3, half-even to 0 decimals.
		add(0, enrollment(c("e2"), c("c2"), "B2", 1))
		add(1, booking(c("k3a"), c("bk3"), c("c2"), "B3", "completed", "1234 JPY", 2))
		want["B2/"+c("bk3")+"/JPY"] = "62" // 1234 × 0.05 = 61.7
		// c3: the booking at B3 makes B3 the owner (direct value); a late, earlier enrollment
		// by B1 takes over and B1 accrues (ownership correction).
		add(1, booking(c("k4a"), c("bk4"), c("c3"), "B3", "completed", "80.00 EUR", 5))
		add(2, enrollment(c("e3"), c("c3"), "B1", 1))
		want["B1/"+c("bk4")+"/EUR"] = "8"
		// c4: owned by B2; BHD booking at B1 completed then cancelled: accrual and full reversal.
		add(0, enrollment(c("e4"), c("c4"), "B2", 1))
		add(1,
			booking(c("k5a"), c("bk5"), c("c4"), "B1", "completed", "200.000 BHD", 2),
			booking(c("k5b"), c("bk5"), c("c4"), "B1", "cancelled", "", 3),
		)
		want["B2/"+c("bk5")+"/BHD"] = "0"
		// Malformed records.
		add(1,
			input{"bookings", c("c5"), `{"event_id": not json`, "json:malformed"},
			bad(input{"bookings", c("c5"), fmt.Sprintf(`{"event_id":%q,"booking_id":"x","client_id":%q,"business_id":"B1","status":"completed","currency":"EUR","occurred_at":%q}`, c("k6"), c("c5"), ts(2)), ""}, "amount:missing"),
			bad(enrollment(c("e6"), c("c6"), "B1", 1), "key:mismatch"),
		)
		phases[1][len(phases[1])-1].key = c("someone-else")
	}
	return phases, want
}

func topicOf(t schemas.Topics, name string) string {
	switch name {
	case "enrollments":
		return string(t.Enrollments)
	case "bookings":
		return string(t.Bookings)
	case "businesses":
		return string(t.Businesses)
	}
	panic(name)
}

// records are the inputs as records to produce to topics.
func records(topics schemas.Topics, ins []input) []*kgo.Record {
	recs := make([]*kgo.Record, len(ins))
	for i, in := range ins {
		recs[i] = &kgo.Record{Topic: topicOf(topics, in.topic), Key: []byte(in.key), Value: []byte(in.value)}
	}
	return recs
}

// produce writes inputs with Kafka's default keyed partitioning and returns the records as
// produced (with partition and offset).
func produce(t testing.TB, brokers []string, topics schemas.Topics, ins []input) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := records(topics, ins)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("producing scenario: %v", err)
	}
	return recs
}

// readAll reads topic read_committed from the start until done returns true or the deadline.
func readAll(t testing.TB, brokers []string, topic string, timeout time.Duration, done func([]*kgo.Record) bool) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	deadline := time.Now().Add(timeout)
	var out []*kgo.Record
	for !done(out) && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		f := cl.PollFetches(ctx)
		cancel()
		f.EachRecord(func(r *kgo.Record) {
			if !isMarker(r) { // progress markers are checked by TestProgressMarkers
				out = append(out, r)
			}
		})
	}
	return out
}

func isMarker(r *kgo.Record) bool { _, ok := stream.Header(r, schemas.MarkerHeader); return ok }

// ledgerOf decodes commission records: net per owner/booking/currency and the ids.
func ledgerOf(t testing.TB, recs []*kgo.Record) (net map[string]decimal.Decimal, ids []string, dup []string) {
	t.Helper()
	net = map[string]decimal.Decimal{}
	seen := map[string]bool{}
	for _, r := range recs {
		c, err := schemas.DecodeCommission(r.Value)
		if err != nil {
			t.Fatalf("decoding commission at %d/%d: %v", r.Partition, r.Offset, err)
		}
		if string(r.Key) != c.OwnerBusinessID {
			t.Errorf("commission %s keyed %q, want owner %q", c.CommissionID, r.Key, c.OwnerBusinessID)
		}
		if seen[c.CommissionID] {
			dup = append(dup, c.CommissionID)
		}
		seen[c.CommissionID] = true
		ids = append(ids, c.CommissionID)
		k := c.OwnerBusinessID + "/" + c.BookingID + "/" + c.Currency
		net[k] = net[k].Add(c.Amount)
	}
	sort.Strings(ids)
	return net, ids, dup
}

func equalNet(got map[string]decimal.Decimal, want map[string]string) bool {
	for k, w := range want {
		if !got[k].Equal(decimal.RequireFromString(w)) {
			return false
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && !g.IsZero() {
			return false
		}
	}
	return true
}
