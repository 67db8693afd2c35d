package query_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/consumers/testkit/querytest"
	"github.com/taskole/revshare/schemas"
)

// The test's own deterministic marketplace: the truth (what happened) and the raw rows the
// sink would have written for it, duplicates and superseded owner records included. The
// reference metrics (reference_test.go) are computed from the truth only.

// world is a querytest.World plus the raw rows the sink would have written for it.
type world struct {
	querytest.World
	// raw rows per table, each row the values of rawColumns[table] in order
	raw map[string][][]any
}

var rawColumns = map[string][]string{
	"businesses":        {"event_id", "business_id", "name", "sector", "referral_rate", "occurred_at", "occurred_at_ns", "_topic", "_partition", "_offset"},
	"enrollments":       {"event_id", "client_id", "business_id", "source", "occurred_at", "occurred_at_ns", "_topic", "_partition", "_offset"},
	"bookings":          {"event_id", "booking_id", "client_id", "business_id", "status", "amount", "currency", "refund_amount", "category", "occurred_at", "occurred_at_ns", "_topic", "_partition", "_offset"},
	"referral_owners":   {"client_id", "owner_business_id", "owned_since", "owned_since_ns", "source", "event_id", "_topic", "_partition", "_offset"},
	"commissions":       {"commission_id", "kind", "reason", "owner_business_id", "provider_business_id", "client_id", "booking_id", "booking_amount", "rate", "amount", "currency", "occurred_at", "occurred_at_ns", "payable_at", "payable_at_ns", "source_event_id", "_topic", "_partition", "_offset"},
	"feedback":          {"event_id", "client_id", "business_id", "kind", "score", "occurred_at", "occurred_at_ns", "_topic", "_partition", "_offset"},
	"acquisition_costs": {"event_id", "business_id", "amount", "currency", "channel", "occurred_at", "occurred_at_ns", "_topic", "_partition", "_offset"},
	"retention_costs":   {"event_id", "business_id", "client_id", "amount", "currency", "kind", "occurred_at", "occurred_at_ns", "_topic", "_partition", "_offset"},
	// what `taskole predict` writes, in the columns predicted_net_clv reads
	"client_predictions": {"as_of", "client_id", "currency", "owner_business_id", "sector", "cohort", "predicted_clv"},
	// what the ledger writes to taskole.purchase-facts.v1 (migration 0130): signed deltas
	"purchase_facts": {"fact_id", "client_id", "booking_id", "provider_business_id", "currency", "completed_at", "completed_at_ns", "completed_at_unix",
		"purchases", "amount", "refunded", "commission_owner", "commission", "source_event_id", "occurred_at", "occurred_at_ns", "occurred_at_unix",
		"_topic", "_partition", "_offset"},
	"dlq": {"source_topic", "source_partition", "source_offset", "key", "value", "error", "error_label", "consumer", "failed_at", "_topic", "_partition", "_offset"},
}

var (
	genStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	genEnd   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	genAsOf  = time.Date(2025, 12, 15, 0, 0, 0, 0, time.UTC) // the predictions' as-of day
	sectors  = []string{"beauty", "spa", "massage", "fitness", "yoga", "nutrition"}
)

// generate builds a world of nClients clients over 2025. Same seed, same world.
func generate(seed uint64, nBusinesses, nClients int) *world {
	rng := rand.New(rand.NewPCG(seed, 0x7a5c01e))
	w := &world{World: querytest.World{Start: genStart, End: genEnd, Businesses: map[string]querytest.Business{},
		Windows: map[string]int{"fitness": 30, "nutrition": 90}}, raw: map[string][][]any{}}
	offsets := map[string]uint64{}
	emit := func(table string, vals ...any) {
		offsets[table]++
		row := append(append([]any{}, vals...), table, uint32(0), offsets[table])
		w.raw[table] = append(w.raw[table], row)
		if rng.IntN(40) == 0 && table != "referral_owners" { // re-delivered: a new offset, same event
			offsets[table]++
			dup := append(append([]any(nil), vals...), table, uint32(0), offsets[table])
			w.raw[table] = append(w.raw[table], dup)
		}
	}
	// refuse writes an event the ledger refused: its raw row (it decodes, so the sink stores
	// it) and the ledger's dead letter naming that row. It is no part of the truth.
	refuse := func(table, label string, vals ...any) {
		offsets[table]++
		off := offsets[table]
		w.raw[table] = append(w.raw[table], append(vals, table, uint32(0), off))
		offsets["dlq"]++
		w.raw["dlq"] = append(w.raw["dlq"], []any{table, int32(0), int64(off), "", "", "invalid input: " + label,
			label, "ledger", genStart, "dlq", uint32(0), offsets["dlq"]})
		w.DeadLetters = append(w.DeadLetters, querytest.DeadLetter{Consumer: "ledger", Topic: table, Reason: label})
	}
	// deadLetter writes a dead letter of another consumer naming a stored row: it is not a
	// ledger refusal and must not hide the row.
	// Its error_label is empty: it counts under the label derived from the error text.
	deadLetter := func(table, consumer string) {
		offsets["dlq"]++
		w.raw["dlq"] = append(w.raw["dlq"], []any{table, int32(0), int64(offsets[table]), "", "",
			`checking commission: field "amount": 3 decimal places`, "", consumer, genStart, "dlq", uint32(0), offsets["dlq"]})
		w.DeadLetters = append(w.DeadLetters, querytest.DeadLetter{Consumer: consumer, Topic: table, Reason: "amount:invalid"})
		if rng.IntN(2) == 0 { // written twice (a consumer restart): still one dead letter
			offsets["dlq"]++
			w.raw["dlq"] = append(w.raw["dlq"], []any{table, int32(0), int64(offsets[table]), "", "",
				`checking commission: field "amount": 3 decimal places`, "", consumer, genStart, "dlq", uint32(0), offsets["dlq"]})
		}
	}
	// fact writes one purchase-fact delta of booking bid (completed at done) as the ledger
	// would, in the transaction of the event `at` (source). The sink stores each record of
	// that topic once, so unlike emit there are no re-deliveries; and it draws nothing from
	// rng, so the rest of the world stays as it was.
	fact := func(bid, client, provider, cur string, done time.Time, purchases int8, amount, refunded decimal.Decimal,
		owner string, commission decimal.Decimal, source string, at time.Time) {
		offsets["purchase_facts"]++
		off := offsets["purchase_facts"]
		w.raw["purchase_facts"] = append(w.raw["purchase_facts"], []any{fmt.Sprintf("%s-f%d", bid, off), client, bid, provider, cur,
			done, uint32(0), done.Unix(), purchases, amount, refunded, owner, commission, source, at, uint32(0), at.Unix(),
			"purchase_facts", uint32(0), off})
	}
	money := func(lo, hi int, cur string) decimal.Decimal {
		exp, _ := schemas.MinorUnit(cur)
		units := int64(lo)*pow10(exp) + rng.Int64N(int64(hi-lo)*pow10(exp))
		return decimal.New(units, -exp)
	}
	randTime := func(from, to time.Time) time.Time {
		if !to.After(from) {
			return from
		}
		return from.Add(time.Duration(rng.Int64N(int64(to.Sub(from)/time.Second))) * time.Second)
	}

	var bizIDs []string
	for i := range nBusinesses {
		b := querytest.Business{
			ID:       fmt.Sprintf("biz-%03d", i),
			Sector:   sectors[i%len(sectors)],
			Currency: "EUR",
			Rate:     decimal.New(int64(3+rng.IntN(8)), -2),
		}
		if i%7 == 3 {
			b.Currency = "BHD"
		}
		w.Businesses[b.ID] = b
		bizIDs = append(bizIDs, b.ID)
		// an old profile event with another sector, superseded by the current one
		old := genStart.AddDate(-1, 0, 0)
		emit("businesses", b.ID+"-p0", b.ID, "Old "+b.ID, sectors[(i+1)%len(sectors)], b.Rate, old, uint32(0))
		emit("businesses", b.ID+"-p1", b.ID, "Biz "+b.ID, b.Sector, b.Rate, old.Add(time.Hour), uint32(0))
		// acquisition spend in a few months
		for m := range 12 {
			if rng.IntN(3) == 0 {
				s := querytest.Spend{EventID: fmt.Sprintf("%s-acq-%d", b.ID, m), Business: b.ID, Currency: b.Currency,
					Amount: money(50, 500, b.Currency), At: randTime(genStart.AddDate(0, m, 0), genStart.AddDate(0, m+1, 0))}
				w.Spend = append(w.Spend, s)
				emit("acquisition_costs", s.EventID, s.Business, s.Amount, s.Currency, "ads", s.At, uint32(0))
			}
		}
	}
	pick := func() querytest.Business { return w.Businesses[bizIDs[rng.IntN(len(bizIDs))]] }

	for i := range nClients {
		c := querytest.Client{ID: fmt.Sprintf("cl-%05d", i)}
		owner := pick()
		c.Owner = owner.ID
		c.OwnedSince = randTime(genStart, genEnd.AddDate(0, -1, 0))
		byEnrollment := rng.IntN(10) < 7
		if byEnrollment {
			e := querytest.Enrollment{EventID: c.ID + "-enr", Client: c.ID, Business: owner.ID, At: c.OwnedSince}
			w.Enrollments = append(w.Enrollments, e)
			emit("enrollments", e.EventID, e.Client, e.Business, "import", e.At, uint32(0))
		}
		src := "enrollment"
		if !byEnrollment {
			src = "booking"
		}
		// 5%: the ledger first named another owner, then corrected it (R5).
		wrongOwner := ""
		if rng.IntN(20) == 0 {
			wrong := pick()
			if wrong.ID != owner.ID && wrong.Currency == owner.Currency {
				wrongOwner = wrong.ID
				emit("referral_owners", c.ID, wrong.ID, c.OwnedSince.Add(time.Hour), uint32(0), "booking", c.ID+"-wrong")
			}
		}
		emit("referral_owners", c.ID, owner.ID, c.OwnedSince, uint32(0), src, c.ID+"-est")
		if wrongOwner != "" && rng.IntN(2) == 0 { // the compacted topic re-read: same record again
			emit("referral_owners", c.ID, owner.ID, c.OwnedSince, uint32(0), src, c.ID+"-est")
		}
		// 8%: another business later tries to enroll the client: a rejected claim.
		if rng.IntN(12) == 0 {
			other := pick()
			if other.ID != owner.ID {
				e := querytest.Enrollment{EventID: c.ID + "-claim", Client: c.ID, Business: other.ID, At: randTime(c.OwnedSince, genEnd)}
				w.Enrollments = append(w.Enrollments, e)
				emit("enrollments", e.EventID, e.Client, e.Business, "qr", e.At, uint32(0))
			}
		}
		// 3%: an enrollment the ledger refused (say, keyed by another client): never a claim.
		if rng.IntN(33) == 0 {
			if other := pick(); other.ID != owner.ID {
				refuse("enrollments", "key:mismatch", c.ID+"-bad", c.ID, other.ID, "qr", randTime(c.OwnedSince, genEnd), uint32(0))
			}
		}
		// 3%: the owner enrolls its own client again (not a rejection).
		if byEnrollment && rng.IntN(33) == 0 {
			e := querytest.Enrollment{EventID: c.ID + "-again", Client: c.ID, Business: owner.ID, At: randTime(c.OwnedSince, genEnd)}
			w.Enrollments = append(w.Enrollments, e)
			emit("enrollments", e.EventID, e.Client, e.Business, "invite", e.At, uint32(0))
		}
		w.Clients = append(w.Clients, c)

		// Bookings: a burst of activity, maybe a pause, maybe a return.
		n := rng.IntN(9)
		t := c.OwnedSince
		for j := range n {
			if j > 0 || byEnrollment {
				gap := time.Duration(1+rng.IntN(50)) * 24 * time.Hour
				if rng.IntN(6) == 0 {
					gap = time.Duration(70+rng.IntN(120)) * 24 * time.Hour
				}
				t = t.Add(gap + time.Duration(rng.IntN(86400))*time.Second)
			}
			t = onBoundary(rng, t, w.window(owner.Sector))
			if !t.Before(genEnd) {
				break
			}
			provider := owner
			if (j > 0 || byEnrollment) && rng.IntN(2) == 0 {
				if p := pick(); p.Currency == owner.Currency {
					provider = p
				}
			}
			bid := fmt.Sprintf("%s-b%d", c.ID, j)
			amount := money(10, 250, provider.Currency)
			created := t.Add(-time.Duration(1+rng.IntN(72)) * time.Hour)
			emit("bookings", bid+"-e0", bid, c.ID, provider.ID, "created", decimal.Zero, "", decimal.Zero, "", created, uint32(0))
			if rng.IntN(12) == 0 { // cancelled before completion: never a purchase
				emit("bookings", bid+"-ex", bid, c.ID, provider.ID, "cancelled", decimal.Zero, "", decimal.Zero, "", t, uint32(0))
				continue
			}
			emit("bookings", bid+"-e1", bid, c.ID, provider.ID, "completed", amount, provider.Currency, decimal.Zero, "massage", t, uint32(0))
			fact(bid, c.ID, provider.ID, provider.Currency, t, 1, amount, decimal.Zero, "", decimal.Zero, bid+"-e1", t)
			direct := provider.ID == owner.ID
			kept := decimal.Zero
			accrue := func(ownerID string, amt decimal.Decimal, id string, reason string) {
				kind := "accrual"
				if amt.IsNegative() {
					kind = "reversal"
				}
				emit("commissions", id, kind, reason, ownerID, provider.ID, c.ID, bid, amount, owner.Rate, amt, provider.Currency, t, uint32(0), t.AddDate(0, 0, 14), uint32(0), bid+"-e1")
				fact(bid, c.ID, provider.ID, provider.Currency, t, 0, decimal.Zero, decimal.Zero, ownerID, amt, id, t)
			}
			exp, _ := schemas.MinorUnit(provider.Currency)
			keep := func(refunded decimal.Decimal) decimal.Decimal {
				return amount.Sub(refunded).Mul(owner.Rate).RoundBank(exp)
			}
			if wrongOwner != "" && provider.ID != wrongOwner {
				a := amount.Mul(owner.Rate).RoundBank(exp)
				accrue(wrongOwner, a, bid+"-cw", "completed")
				accrue(wrongOwner, a.Neg(), bid+"-cwx", "ownership_correction")
			}
			if !direct {
				kept = keep(decimal.Zero)
				accrue(owner.ID, kept, bid+"-c", "completed")
			}
			if rng.IntN(20) == 0 { // cancelled after completion: a full refund, not a purchase
				emit("bookings", bid+"-e9", bid, c.ID, provider.ID, "cancelled", decimal.Zero, "", decimal.Zero, "", t.Add(48*time.Hour), uint32(0))
				// the purchase withdrawn: +1 then -1, its amount back out, in the completion's month
				fact(bid, c.ID, provider.ID, provider.Currency, t, -1, amount.Neg(), decimal.Zero, "", decimal.Zero, bid+"-e9", t.Add(48*time.Hour))
				if !direct {
					accrue(owner.ID, kept.Neg(), bid+"-c9", "cancellation")
				}
				continue
			}
			refunded := decimal.Zero
			for r := range rng.IntN(4) / 2 * (1 + rng.IntN(2)) {
				ra := amount.Sub(refunded).Div(decimal.NewFromInt(3)).Truncate(exp)
				if !ra.IsPositive() {
					break
				}
				refunded = refunded.Add(ra)
				emit("bookings", fmt.Sprintf("%s-r%d", bid, r), bid, c.ID, provider.ID, "refunded", decimal.Zero, provider.Currency, ra, "", t.Add(time.Duration(r+1)*24*time.Hour), uint32(0))
				fact(bid, c.ID, provider.ID, provider.Currency, t, 0, decimal.Zero, ra, "", decimal.Zero,
					fmt.Sprintf("%s-r%d", bid, r), t.Add(time.Duration(r+1)*24*time.Hour))
				if !direct {
					after := keep(refunded)
					accrue(owner.ID, after.Sub(kept), fmt.Sprintf("%s-cr%d", bid, r), "refund")
					kept = after
				}
			}
			// Events of this booking the ledger refused: they decode, so the sink stores
			// them, but they must change nothing.
			switch rng.IntN(25) {
			case 0: // a refund beyond what is left
				refuse("bookings", "refund_exceeds_remaining", bid+"-rx", bid, c.ID, provider.ID, "refunded", decimal.Zero, provider.Currency,
					amount.Sub(refunded).Add(decimal.New(1, -exp)), "", t.Add(10*24*time.Hour), uint32(0))
			case 1: // a refund in another currency
				refuse("bookings", "currency_mismatch", bid+"-rc", bid, c.ID, provider.ID, "refunded", decimal.Zero, "USD",
					decimal.NewFromInt(1), "", t.Add(11*24*time.Hour), uint32(0))
			case 2: // cancelled after a refund (refunded -> cancelled is not a transition)
				if refunded.IsPositive() {
					refuse("bookings", "invalid_transition", bid+"-cx", bid, c.ID, provider.ID, "cancelled", decimal.Zero, "", decimal.Zero, "", t.Add(12*24*time.Hour), uint32(0))
				}
			case 3: // another consumer's dead letter naming the booking's last stored row: not a refusal
				deadLetter("bookings", "payouts")
			}
			w.Purchases = append(w.Purchases, querytest.Purchase{BookingID: bid, Client: c.ID, Provider: provider.ID,
				Currency: provider.Currency, At: t, Amount: amount, Refunded: refunded, Commission: kept})
			// feedback on some bookings
			if rng.IntN(3) == 0 {
				f := querytest.Feedback{EventID: bid + "-fb", Business: provider.ID, At: t.Add(time.Hour)}
				if rng.IntN(2) == 0 {
					f.Kind, f.Score = "nps", rng.IntN(11)
				} else {
					f.Kind, f.Score = "csat", 1+rng.IntN(5)
				}
				w.Feedback = append(w.Feedback, f)
				emit("feedback", f.EventID, c.ID, f.Business, f.Kind, uint8(f.Score), f.At, uint32(0))
			}
		}
	}

	// Retention spend, after the clients so that the rest of the world stays as it was:
	// costs naming a client (its owner's or, a third of the time, another business's; now and
	// then a client nobody owns: allocated to no one) and costs naming none (spread over the
	// business's clients active that month, if any). Zero amounts and sub-cent shares too.
	kinds := []string{"loyalty_discount", "free_service", "guarantee", "other"}
	for i, c := range w.Clients {
		for j := range rng.IntN(4) {
			spender := w.Businesses[c.Owner]
			if rng.IntN(3) == 0 {
				if p := pick(); p.Currency == spender.Currency {
					spender = p
				}
			}
			e := querytest.RetentionSpend{EventID: fmt.Sprintf("%s-rc%d", c.ID, j), Business: spender.ID, Client: c.ID,
				Currency: spender.Currency, Amount: money(1, 30, spender.Currency), At: randTime(c.OwnedSince, genEnd)}
			if i%97 == 5 {
				e.Client = fmt.Sprintf("nobody-%d", i) // no referral owner: allocated to no one
			}
			w.Retention = append(w.Retention, e)
			emit("retention_costs", e.EventID, e.Business, e.Client, e.Amount, e.Currency, kinds[rng.IntN(len(kinds))], e.At, uint32(0))
		}
	}
	for _, id := range bizIDs {
		b := w.Businesses[id]
		for m := range 12 {
			if rng.IntN(2) == 0 {
				continue
			}
			amount := money(20, 400, b.Currency)
			if m == 7 {
				amount = decimal.Zero
			}
			e := querytest.RetentionSpend{EventID: fmt.Sprintf("%s-rc-%d", id, m), Business: id, Currency: b.Currency,
				Amount: amount, At: randTime(genStart.AddDate(0, m, 0), genStart.AddDate(0, m+1, 0))}
			w.Retention = append(w.Retention, e)
			emit("retention_costs", e.EventID, e.Business, "", e.Amount, e.Currency, kinds[rng.IntN(len(kinds))], e.At, uint32(0))
		}
	}

	// Predictions as of genAsOf for every client owned by then (and, for a few, as of an
	// earlier day, which predicted_net_clv of genAsOf must not count), last so the rest of the
	// world stays as it was.
	for _, c := range w.Clients {
		b := w.Businesses[c.Owner]
		cohort := time.Date(c.OwnedSince.Year(), c.OwnedSince.Month(), 1, 0, 0, 0, 0, time.UTC)
		for _, asOf := range []time.Time{genAsOf, genAsOf.AddDate(0, -6, 0)} {
			if c.OwnedSince.After(asOf) || (!asOf.Equal(genAsOf) && rng.IntN(5) != 0) {
				continue
			}
			pr := querytest.Prediction{Client: c.ID, Currency: b.Currency, AsOf: asOf, PredictedCLV: money(0, 600, b.Currency)}
			w.Predictions = append(w.Predictions, pr)
			w.raw["client_predictions"] = append(w.raw["client_predictions"],
				[]any{pr.AsOf, pr.Client, pr.Currency, c.Owner, b.Sector, cohort, pr.PredictedCLV})
		}
	}
	return w
}

func pow10(exp int32) int64 {
	p := int64(1)
	for range exp {
		p *= 10
	}
	return p
}

// load inserts the world's raw rows and sector settings into database db, shuffled so
// no query can depend on insertion order.
func (w *world) load(ctx context.Context, t *testing.T, conn driver.Conn) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	for _, table := range slices.Sorted(maps.Keys(w.raw)) {
		rows := w.raw[table]
		rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		itest.Insert(ctx, t, conn, table, strings.Join(rawColumns[table], ", "), rows)
	}
	w.loadWindows(ctx, t, conn)
}

// loadWindows inserts the world's sector settings (activity windows).
func (w *world) loadWindows(ctx context.Context, t *testing.T, conn driver.Conn) {
	t.Helper()
	var rows [][]any
	for sector, days := range w.Windows {
		rows = append(rows, []any{sector, uint16(days), genStart})
	}
	itest.Insert(ctx, t, conn, "sector_settings", "sector, activity_window_days, updated_at", rows)
}

// onBoundary moves about one completion in eight forward onto an instant where a closed window
// and a half-open one disagree: a month's first second, its last second, or exactly one
// activity window before a month's first second (the edges of the windows of churn, retention
// rate, lifecycle stages and the retention spend). Otherwise it returns t.
func onBoundary(rng *rand.Rand, t time.Time, window time.Duration) time.Time {
	month := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	switch rng.IntN(24) {
	case 0:
		return month.AddDate(0, 1, 0) // the next month's first second
	case 1:
		return month.AddDate(0, 1, 0).Add(-time.Second) // this month's last second
	case 2:
		s := month
		for s.Add(-window).Before(t) {
			s = s.AddDate(0, 1, 0)
		}
		return s.Add(-window) // one window before a month's first second
	}
	return t
}

// window is the activity window of sector: its setting, else the default of 60 days.
func (w *world) window(sector string) time.Duration {
	d, ok := w.Windows[sector]
	if !ok {
		d = 60
	}
	return time.Duration(d) * 24 * time.Hour
}
