package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/taskole/revshare/consumers/runners/payouts"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
)

// corpusRecord is one record of the hostile corpus and who must refuse it.
type corpusRecord struct {
	rec       *kgo.Record
	byLedger  bool // the ledger must dead-letter it (enrollments, bookings, businesses)
	bySink    bool // the sink must dead-letter it
	hostileID string
}

// hostileCorpus generates, deterministically, at least perTopic bad records on every input
// topic — random bytes, tombstones, 10k-deep JSON, 1e309, 400-digit numbers, invalid UTF-8,
// years 0001 and 9999, odd currencies, rates and scores out of range, 100 kB ids, NUL / CR LF
// / ESC in ids, key mismatches, a 1 MB random record — and returns them.
func hostileCorpus(tp schemas.Topics, perTopic int) []corpusRecord {
	rng := rand.New(rand.NewPCG(11, 2026))
	type field struct{ name, value string }
	templates := map[schemas.Topic][]field{
		tp.Enrollments: {{"event_id", `"E"`}, {"client_id", `"C"`}, {"business_id", `"B1"`}, {"source", `"invite"`}, {"occurred_at", `"2025-03-01T00:00:00Z"`}},
		tp.Bookings: {{"event_id", `"E"`}, {"booking_id", `"K"`}, {"client_id", `"C"`}, {"business_id", `"P"`}, {"status", `"completed"`},
			{"amount", `"100.00"`}, {"currency", `"EUR"`}, {"occurred_at", `"2025-03-01T00:00:00Z"`}},
		tp.Businesses: {{"event_id", `"E"`}, {"business_id", `"B1"`}, {"name", `"n"`}, {"sector", `"beauty"`}, {"referral_rate", `"1"`}, {"occurred_at", `"2025-03-01T00:00:00Z"`}},
		tp.Feedback:   {{"event_id", `"E"`}, {"client_id", `"C"`}, {"business_id", `"B1"`}, {"kind", `"nps"`}, {"score", `9`}, {"occurred_at", `"2025-03-01T00:00:00Z"`}},
		tp.AcquisitionCosts: {{"event_id", `"E"`}, {"business_id", `"B1"`}, {"amount", `"10.00"`}, {"currency", `"EUR"`}, {"channel", `"ads"`},
			{"occurred_at", `"2025-03-01T00:00:00Z"`}},
		tp.RetentionCosts: {{"event_id", `"E"`}, {"business_id", `"B1"`}, {"client_id", `"C"`}, {"amount", `"5.00"`}, {"currency", `"EUR"`},
			{"kind", `"loyalty_discount"`}, {"occurred_at", `"2025-03-01T00:00:00Z"`}},
	}
	render := func(fs []field, n int, replace string, with string) []byte {
		var b strings.Builder
		b.WriteString("{")
		for i, f := range fs {
			if i > 0 {
				b.WriteString(",")
			}
			v := f.value
			switch {
			case f.name == replace:
				v = with
			case v == `"E"`:
				v = fmt.Sprintf(`"h-e-%d"`, n)
			case v == `"C"`:
				v = fmt.Sprintf(`"h-c-%d"`, n)
			case v == `"K"`:
				v = fmt.Sprintf(`"h-k-%d"`, n)
			}
			b.WriteString(`"` + f.name + `":` + v)
		}
		b.WriteString("}")
		return []byte(b.String())
	}
	timeField := "occurred_at"
	var out []corpusRecord
	n := 0
	for _, topic := range []schemas.Topic{tp.Enrollments, tp.Bookings, tp.Businesses, tp.Feedback, tp.AcquisitionCosts, tp.RetentionCosts} {
		fs := templates[topic]
		ledgerTopic := topic == tp.Enrollments || topic == tp.Bookings || topic == tp.Businesses
		idField := fs[1].name // client_id, booking_id or business_id
		if topic == tp.RetentionCosts {
			idField = "client_id" // optional, but an id when present
		}
		moneyField, moneyOK := "", false
		for _, f := range fs {
			switch f.name {
			case "amount", "referral_rate", "score":
				moneyField, moneyOK = f.name, true
			}
		}
		hostile := []func() []byte{
			func() []byte { return itest.RandomBytes(rng, rng.IntN(200)) },
			func() []byte { return nil }, // tombstone
			func() []byte { return []byte(strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000)) },
			func() []byte { return render(fs, n, timeField, `1e309`) },
			func() []byte { return render(fs, n, idField, strings.Repeat("9", 400)) },
			func() []byte { return render(fs, n, idField, "\"a\xff\xfeb\"") },
			func() []byte { return render(fs, n, timeField, `"9999-12-31T23:59:59Z"`) },
			func() []byte { return render(fs, n, timeField, `"0001-01-01T00:00:00Z"`) },
			func() []byte { return render(fs, n, timeField, `"2200-01-01T00:00:00Z"`) },
			func() []byte { return render(fs, n, idField, `"`+strings.Repeat("x", 100_000)+`"`) },
			func() []byte { return render(fs, n, idField, `"a\u0000b"`) },
			func() []byte { return render(fs, n, idField, `"a\r\nb"`) },
			func() []byte { return render(fs, n, idField, `"a\u001b[31mb"`) },
			func() []byte { return render(fs, n, "event_id", `""`) },
		}
		if moneyOK {
			switch moneyField {
			case "amount":
				hostile = append(hostile,
					func() []byte { return render(fs, n, "amount", `"12345678901234567890123456789012345678"`) },
					func() []byte { return render(fs, n, "amount", `"1000000000000.01"`) },
					func() []byte { return render(fs, n, "amount", `"1.001"`) },
					func() []byte { return render(fs, n, "currency", `"eur"`) },
					func() []byte { return render(fs, n, "currency", `"XXX"`) })
				if topic == tp.RetentionCosts {
					hostile = append(hostile,
						func() []byte { return render(fs, n, "amount", `"-5.00"`) },
						func() []byte { return render(fs, n, "amount", `5`) },
						func() []byte { return render(fs, n, "kind", `"bribe"`) },
						func() []byte { return render(fs, n, "kind", `null`) },
						func() []byte { return render(fs, n, "client_id", `""`) },
						func() []byte { return render(fs, n, "business_id", `"`+strings.Repeat("b", 100_000)+`"`) })
				}
			case "referral_rate":
				hostile = append(hostile,
					func() []byte { return render(fs, n, "referral_rate", `"1.5"`) },
					func() []byte { return render(fs, n, "referral_rate", `"0.050000000000000000000000000001"`) },
					func() []byte { return render(fs, n, "referral_rate", `0.05`) })
			case "score":
				hostile = append(hostile,
					func() []byte { return render(fs, n, "score", `11`) },
					func() []byte { return render(fs, n, "score", `-1`) },
					func() []byte { return render(fs, n, "score", `5.5`) })
			}
		}
		for i := range perTopic {
			n++
			v := hostile[i%len(hostile)]()
			key := []byte(fmt.Sprintf("h-c-%d", n))
			out = append(out, corpusRecord{rec: &kgo.Record{Topic: string(topic), Key: key, Value: v}, byLedger: ledgerTopic, bySink: true})
		}
		// a 1 MB random record on each input topic
		n++
		out = append(out, corpusRecord{rec: &kgo.Record{Topic: string(topic), Key: []byte("h-big"), Value: itest.RandomBytes(rng, 1_000_000)}, byLedger: ledgerTopic, bySink: true})
		if topic == tp.Enrollments || topic == tp.Bookings {
			// a valid record under a key that is not its client: the ledger refuses it alone
			for range 20 {
				n++
				v := render(fs, n, "", "")
				out = append(out, corpusRecord{rec: &kgo.Record{Topic: string(topic), Key: []byte(strings.Repeat("k", 100_000)), Value: v},
					byLedger: true, hostileID: fmt.Sprintf("h-c-%d", n)})
			}
		}
	}
	return out
}

// TestHostileCorpus runs ledger, payouts and sink on the real broker and ClickHouse over a
// hostile corpus mixed with valid control records (issue 11): no process exits, lag reaches
// zero, every bad record has exactly one dead letter per refusing component, no hostile value
// reaches commissions, payouts or ClickHouse, and the control records come out as the
// reference says.
func TestHostileCorpus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	brokers, topics, addr, db, conn := itest.Pipeline(ctx, t)
	itest.CreateTopics(t, brokers, partitions, string(topics.Enrollments), string(topics.Bookings), string(topics.Businesses),
		string(topics.Feedback), string(topics.AcquisitionCosts), string(topics.RetentionCosts), string(topics.ReferralOwners), string(topics.Commissions),
		string(topics.Payouts), string(topics.DLQ))

	// Control: B1 has rate 0.10 from 2025; 50 clients enrolled by B1, each with a 100.00 EUR
	// booking at provider P refunded 40.00: B1 keeps 6.00 per booking. Hostile records try to
	// take them over (9999 enrollments by X), to set B1's rate to 1 (dated 9999) and to poison
	// the partition's horizon (a valid 2100 booking of another client before the refunds).
	const clients = 50
	ctl := func(topic schemas.Topic, key, value string) corpusRecord {
		return corpusRecord{rec: &kgo.Record{Topic: string(topic), Key: []byte(key), Value: []byte(value)}}
	}
	var first, second []corpusRecord
	first = append(first, ctl(topics.Businesses, "B1", `{"event_id":"ctl-r1","business_id":"B1","name":"n","sector":"beauty","referral_rate":"0.10","occurred_at":"2025-01-01T00:00:00Z"}`))
	for i := range clients {
		c := fmt.Sprintf("ctl-c%d", i)
		first = append(first,
			ctl(topics.Enrollments, c, fmt.Sprintf(`{"event_id":"ctl-e%d","client_id":%q,"business_id":"B1","occurred_at":"2025-02-01T00:00:00Z"}`, i, c)),
			ctl(topics.Bookings, c, fmt.Sprintf(`{"event_id":"ctl-k%d","booking_id":"ctl-b%d","client_id":%q,"business_id":"P","status":"completed","amount":"100.00","currency":"EUR","occurred_at":"2025-03-01T10:00:00Z"}`, i, i, c)),
			ctl(topics.Feedback, c, fmt.Sprintf(`{"event_id":"ctl-f%d","client_id":%q,"business_id":"B1","kind":"nps","score":9,"occurred_at":"2025-03-02T00:00:00Z"}`, i, c)))
		second = append(second,
			ctl(topics.Bookings, c, fmt.Sprintf(`{"event_id":"ctl-rf%d","booking_id":"ctl-b%d","client_id":%q,"business_id":"P","status":"refunded","refund_amount":"40.00","currency":"EUR","occurred_at":"2025-03-05T10:00:00Z"}`, i, i, c)))
		first = append(first, corpusRecord{rec: &kgo.Record{Topic: string(topics.Enrollments), Key: []byte(c),
			Value: []byte(fmt.Sprintf(`{"event_id":"h-x%d","client_id":%q,"business_id":"X","occurred_at":"9999-01-01T00:00:00Z"}`, i, c))}, byLedger: true, bySink: true})
	}
	first = append(first,
		ctl(topics.AcquisitionCosts, "B1", `{"event_id":"ctl-a1","business_id":"B1","amount":"500.00","currency":"EUR","occurred_at":"2025-02-01T00:00:00Z"}`),
		// Retention spend of B1: one attributed to a control client, one spread (no client_id),
		// and a valid one dated far in the future.
		ctl(topics.RetentionCosts, "B1", `{"event_id":"ctl-rc1","business_id":"B1","client_id":"ctl-c0","amount":"4.99","currency":"EUR","kind":"loyalty_discount","occurred_at":"2025-03-01T10:00:00Z"}`),
		ctl(topics.RetentionCosts, "B1", `{"event_id":"ctl-rc2","business_id":"B1","amount":"20.00","currency":"EUR","kind":"free_service","occurred_at":"2025-03-15T00:00:00Z"}`),
		ctl(topics.RetentionCosts, "B1", `{"event_id":"ctl-rc3","business_id":"B1","amount":"1.00","currency":"EUR","kind":"guarantee","occurred_at":"2100-01-01T00:00:00Z"}`),
		corpusRecord{rec: &kgo.Record{Topic: string(topics.Businesses), Key: []byte("B1"),
			Value: []byte(`{"event_id":"h-r9","business_id":"B1","name":"n","sector":"beauty","referral_rate":"1","occurred_at":"9999-12-31T00:00:00Z"}`)}, byLedger: true, bySink: true})
	// Produced once the refunds are in: a later booking, and valid far-future bookings spread
	// over the partitions. (Before the refunds, a far-future record would push its input
	// partition's event-time watermark past March, and the payouts would book the March
	// reversals on that partition as late entries — named, never lost: docs/DESIGN.md, Payouts.)
	third := []corpusRecord{
		ctl(topics.Enrollments, "ctl-late", `{"event_id":"ctl-el","client_id":"ctl-late","business_id":"B1","occurred_at":"2025-05-01T00:00:00Z"}`),
		ctl(topics.Bookings, "ctl-late", `{"event_id":"ctl-kl","booking_id":"ctl-bl","client_id":"ctl-late","business_id":"P","status":"completed","amount":"100.00","currency":"EUR","occurred_at":"2025-05-01T00:00:00Z"}`)}
	for i := range partitions * 4 {
		c := fmt.Sprintf("ctl-far%d", i) // valid, far in the future, spread over the partitions
		third = append(third, ctl(topics.Bookings, c, fmt.Sprintf(`{"event_id":"ctl-far%d","booking_id":"ctl-far%d","client_id":%q,"business_id":"P","status":"created","occurred_at":"2100-01-01T00:00:00Z"}`, i, i, c)))
	}
	corpus := hostileCorpus(topics, 2000)
	all := append(append(append(append([]corpusRecord(nil), corpus...), first...), second...), third...)
	t.Logf("corpus: %d hostile records, %d control/hijack records", len(corpus), len(first)+len(second)+len(third))

	pcl := itest.Client(t, brokers, kgo.ProducerBatchMaxBytes(1_048_000))
	produce := func(rs []corpusRecord) {
		recs := make([]*kgo.Record, len(rs))
		for i := range rs {
			recs[i] = rs[i].rec
		}
		if err := pcl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("producing: %v", err)
		}
	}
	produce(corpus)
	produce(first)

	group := "hostile-" + itest.Unique(t)
	led := newLedger(t, brokers, topics, group, "ledger", partitions)
	payCfg := payoutsConfig(brokers, topics, group)
	pay := newPayouts(t, brokers, topics, group)
	snk := newSink(t, brokers, topics, group, "sink", addr, db, 0)
	runCtx, stop := context.WithCancel(ctx)
	eg, egCtx := errgroup.WithContext(runCtx)
	exited := make(chan string, 3)
	for name, run := range map[string]func(context.Context) error{"ledger": led.Run, "payouts": pay.Run, "sink": snk.Run} {
		eg.Go(func() error {
			err := run(egCtx)
			if runCtx.Err() == nil {
				exited <- name
			}
			return err
		})
	}
	defer func() {
		stop()
		if err := eg.Wait(); err != nil {
			t.Errorf("a consumer failed: %v", err)
		}
		led.Close()
		pay.Close()
		snk.Close()
	}()
	k := kadm.NewClient(itest.Client(t, brokers))
	inputs := []string{string(topics.Enrollments), string(topics.Bookings), string(topics.Businesses), string(topics.Feedback),
		string(topics.AcquisitionCosts), string(topics.RetentionCosts)}
	wait := func() {
		itest.WaitFor(egCtx, t, "the ledger", func() (bool, string) {
			return itest.CaughtUp(egCtx, k, group+"-ledger", 0, string(topics.Enrollments), string(topics.Bookings))
		})
	}
	wait()
	produce(second)
	wait()
	produce(third)
	wait()
	for _, w := range []struct{ group, what string }{
		{group + "-ledger-businesses", string(topics.Businesses)},
		{group + "-sink-dlq", ""},
	} {
		ts := []string{w.what}
		if w.what == "" {
			ts = inputs
		}
		itest.WaitFor(egCtx, t, w.group, func() (bool, string) { return itest.CaughtUp(egCtx, k, w.group, 0, ts...) })
	}
	select {
	case name := <-exited:
		t.Fatalf("%s exited", name)
	default:
	}

	// Dead letters: exactly one per refusing component and record.
	type coord struct {
		consumer, topic string
		partition       int32
		offset          int64
	}
	got := map[coord]int{}
	for _, r := range readCommitted(egCtx, t, brokers, string(topics.DLQ)) {
		d, err := schemas.DecodeDeadLetter(r.Value)
		if err != nil {
			t.Fatalf("decoding dead letter: %v", err)
		}
		got[coord{d.Consumer, d.Topic, d.Partition, d.Offset}]++
		if len(d.Error) > 600 {
			t.Errorf("dead letter error of %d bytes: %.200s", len(d.Error), d.Error)
		}
	}
	want := map[coord]bool{}
	for _, c := range all {
		if c.byLedger {
			want[coord{"ledger", c.rec.Topic, c.rec.Partition, c.rec.Offset}] = true
		}
		if c.bySink {
			want[coord{"sink", c.rec.Topic, c.rec.Partition, c.rec.Offset}] = true
		}
	}
	missing, extra, twice := 0, 0, 0
	for c := range want {
		switch got[c] {
		case 0:
			if missing++; missing <= 5 {
				t.Errorf("no dead letter from %s for %s/%d@%d", c.consumer, c.topic, c.partition, c.offset)
			}
		case 1:
		default:
			twice++
		}
	}
	for c, n := range got {
		if !want[c] {
			if extra++; extra <= 5 {
				t.Errorf("unexpected dead letter (%d) from %s for %s/%d@%d", n, c.consumer, c.topic, c.partition, c.offset)
			}
		}
	}
	t.Logf("dead letters: %d expected, %d distinct written (%d missing, %d unexpected, %d repeated)", len(want), len(got), missing, extra, twice)
	if missing+extra+twice > 0 {
		t.Errorf("dead letters: %d missing, %d unexpected, %d repeated (of %d expected)", missing, extra, twice, len(want))
	}

	// Commissions: only control bookings, B1 keeps 6.00 of each (rate 0.10, not the 9999 rate 1).
	net := map[string]decimal.Decimal{}
	for _, r := range readCommitted(egCtx, t, brokers, string(topics.Commissions)) {
		if _, marker := headerOf(r, schemas.MarkerHeader); marker {
			continue // a ledger progress marker, no entry
		}
		c, err := schemas.DecodeCommission(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(c.ClientID, "ctl-") || c.OwnerBusinessID != "B1" {
			t.Errorf("commission %s for client %.40q owner %q", c.CommissionID, c.ClientID, c.OwnerBusinessID)
		}
		net[c.BookingID] = net[c.BookingID].Add(c.Amount)
	}
	for i := range clients {
		if b := fmt.Sprintf("ctl-b%d", i); !net[b].Equal(decimal.RequireFromString("6")) {
			t.Errorf("booking %s nets %s for B1, want 6.00", b, net[b])
		}
	}
	if !net["ctl-bl"].Equal(decimal.RequireFromString("10")) || len(net) != clients+1 {
		t.Errorf("commissions on %d bookings (late booking %s), want %d", len(net), net["ctl-bl"], clients+1)
	}

	// Payouts: the March statement of B1 holds exactly the control accruals and refunds. (The
	// payouts group's lag is not used: the commissions topic is transactional, and its last
	// commit marker stays one past the committed offset.)
	// Most input partitions hold only refused records, so their event time never passes March
	// (the low watermark): finance closes March explicitly, the idle-partition rule.
	if err := payouts.Close(egCtx, payCfg, time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	itest.WaitFor(egCtx, t, "the March statement", func() (bool, string) {
		return len(readCommitted(egCtx, t, brokers, string(topics.Payouts))) > 0, "no statement yet"
	})
	for _, r := range readCommitted(egCtx, t, brokers, string(topics.Payouts)) {
		p, err := schemas.DecodePayout(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if p.OwnerBusinessID != "B1" || p.Currency != "EUR" {
			t.Errorf("statement for %q %s", p.OwnerBusinessID, p.Currency)
		}
		if p.PeriodStart.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) &&
			(!p.Accrued.Equal(decimal.NewFromInt(10*clients)) || !p.Reversed.Equal(decimal.NewFromInt(-4*clients))) {
			t.Errorf("March statement accrued %s reversed %s, want %d and -%d", p.Accrued, p.Reversed, 10*clients, 4*clients)
		}
	}

	// ClickHouse: every control row, nothing hostile. Key-mismatched records are valid rows
	// (the ledger refused them, analytics anti-joins them out).
	itest.WaitFor(egCtx, t, "the sink", func() (bool, string) { return itest.CaughtUp(egCtx, k, group+"-sink", 0, inputs...) })
	count := func(q string) uint64 {
		var n uint64
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	// The purchase facts: the control purchases (each 100.00 refunded 40.00, B1 keeps 6.00)
	// and nothing hostile, as the purchases view says.
	if n := checkPurchaseFacts(egCtx, t, brokers, string(topics.PurchaseFacts), conn); n != clients+1 {
		t.Errorf("%d purchases in the view, want %d", n, clients+1)
	}
	mismatched := map[string]int{}
	for _, c := range all {
		if c.hostileID != "" {
			mismatched[c.rec.Topic]++
		}
	}
	for _, q := range []struct {
		sql  string
		want uint64
	}{
		{"SELECT count() FROM enrollments WHERE client_id LIKE 'ctl-%'", clients + 1},
		{"SELECT count() FROM enrollments WHERE client_id NOT LIKE 'ctl-%'", uint64(mismatched[string(topics.Enrollments)])},
		{"SELECT count() FROM bookings WHERE client_id LIKE 'ctl-%'", 2*clients + 1 + partitions*4},
		{"SELECT count() FROM bookings WHERE client_id NOT LIKE 'ctl-%'", uint64(mismatched[string(topics.Bookings)])},
		{"SELECT count() FROM businesses", 1},
		{"SELECT count() FROM feedback", clients},
		{"SELECT count() FROM acquisition_costs", 1},
		{"SELECT count() FROM retention_costs WHERE event_id LIKE 'ctl-%'", 3},
		{"SELECT count() FROM retention_costs WHERE event_id NOT LIKE 'ctl-%'", 0},
		{"SELECT count() FROM retention_costs WHERE client_id = 'ctl-c0' AND amount = toDecimal64('4.99', 4) AND kind = 'loyalty_discount'", 1},
		{"SELECT count() FROM commissions WHERE client_id NOT LIKE 'ctl-%'", 0},
		{"SELECT count() FROM bookings WHERE length(client_id) > 256 OR length(event_id) > 256 OR toYear(occurred_at) > 2100", 0},
	} {
		if got := count(q.sql); got != q.want {
			t.Errorf("%s = %d, want %d", q.sql, got, q.want)
		}
	}
}
