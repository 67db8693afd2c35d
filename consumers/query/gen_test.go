package query_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/schemas"
)

// The test's own deterministic marketplace: the truth (what happened) and the raw rows the
// sink would have written for it, duplicates and superseded owner records included. The
// reference metrics (reference_test.go) are computed from the truth only.

type business struct {
	id, sector, currency string
	rate                 decimal.Decimal
}

type client struct {
	id, owner  string
	ownedSince time.Time
}

type purchaseTruth struct {
	bookingID, client, provider, currency string
	at                                    time.Time
	amount, refunded                      decimal.Decimal
	commission                            decimal.Decimal // kept by the final owner
}

type enrollmentTruth struct {
	eventID, client, business string
	at                        time.Time
}

type feedbackTruth struct {
	eventID, business, kind string
	score                   int
	at                      time.Time
}

type spendTruth struct {
	eventID, business, currency string
	amount                      decimal.Decimal
	at                          time.Time
}

type world struct {
	businesses  map[string]business
	windows     map[string]int // sector -> activity window days (absent: 60)
	clients     []client
	purchases   []purchaseTruth
	enrollments []enrollmentTruth
	feedback    []feedbackTruth
	spend       []spendTruth

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
}

var (
	genStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	genEnd   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sectors  = []string{"beauty", "spa", "massage", "fitness", "yoga", "nutrition"}
)

// generate builds a world of nClients clients over 2025. Same seed, same world.
func generate(seed uint64, nBusinesses, nClients int) *world {
	rng := rand.New(rand.NewPCG(seed, 0x7a5c01e))
	w := &world{businesses: map[string]business{}, windows: map[string]int{"fitness": 30, "nutrition": 90}, raw: map[string][][]any{}}
	offsets := map[string]uint64{}
	emit := func(table string, vals ...any) {
		offsets[table]++
		row := append(vals, table, uint32(0), offsets[table])
		w.raw[table] = append(w.raw[table], row)
		if rng.IntN(40) == 0 && table != "referral_owners" { // re-delivered: a new offset, same event
			offsets[table]++
			dup := append(append([]any(nil), vals...), table, uint32(0), offsets[table])
			w.raw[table] = append(w.raw[table], dup)
		}
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
		b := business{
			id:       fmt.Sprintf("biz-%03d", i),
			sector:   sectors[i%len(sectors)],
			currency: "EUR",
			rate:     decimal.New(int64(3+rng.IntN(8)), -2),
		}
		if i%7 == 3 {
			b.currency = "BHD"
		}
		w.businesses[b.id] = b
		bizIDs = append(bizIDs, b.id)
		// an old profile event with another sector, superseded by the current one
		old := genStart.AddDate(-1, 0, 0)
		emit("businesses", b.id+"-p0", b.id, "Old "+b.id, sectors[(i+1)%len(sectors)], b.rate, old, uint32(0))
		emit("businesses", b.id+"-p1", b.id, "Biz "+b.id, b.sector, b.rate, old.Add(time.Hour), uint32(0))
		// acquisition spend in a few months
		for m := range 12 {
			if rng.IntN(3) == 0 {
				s := spendTruth{eventID: fmt.Sprintf("%s-acq-%d", b.id, m), business: b.id, currency: b.currency,
					amount: money(50, 500, b.currency), at: randTime(genStart.AddDate(0, m, 0), genStart.AddDate(0, m+1, 0))}
				w.spend = append(w.spend, s)
				emit("acquisition_costs", s.eventID, s.business, s.amount, s.currency, "ads", s.at, uint32(0))
			}
		}
	}
	pick := func() business { return w.businesses[bizIDs[rng.IntN(len(bizIDs))]] }

	for i := range nClients {
		c := client{id: fmt.Sprintf("cl-%05d", i)}
		owner := pick()
		c.owner = owner.id
		c.ownedSince = randTime(genStart, genEnd.AddDate(0, -1, 0))
		byEnrollment := rng.IntN(10) < 7
		if byEnrollment {
			e := enrollmentTruth{eventID: c.id + "-enr", client: c.id, business: owner.id, at: c.ownedSince}
			w.enrollments = append(w.enrollments, e)
			emit("enrollments", e.eventID, e.client, e.business, "import", e.at, uint32(0))
		}
		src := "enrollment"
		if !byEnrollment {
			src = "booking"
		}
		// 5%: the ledger first named another owner, then corrected it (R5).
		wrongOwner := ""
		if rng.IntN(20) == 0 {
			wrong := pick()
			if wrong.id != owner.id && wrong.currency == owner.currency {
				wrongOwner = wrong.id
				emit("referral_owners", c.id, wrong.id, c.ownedSince.Add(time.Hour), uint32(0), "booking", c.id+"-wrong")
			}
		}
		emit("referral_owners", c.id, owner.id, c.ownedSince, uint32(0), src, c.id+"-est")
		if wrongOwner != "" && rng.IntN(2) == 0 { // the compacted topic re-read: same record again
			emit("referral_owners", c.id, owner.id, c.ownedSince, uint32(0), src, c.id+"-est")
		}
		// 8%: another business later tries to enroll the client: a rejected claim.
		if rng.IntN(12) == 0 {
			other := pick()
			if other.id != owner.id {
				e := enrollmentTruth{eventID: c.id + "-claim", client: c.id, business: other.id, at: randTime(c.ownedSince, genEnd)}
				w.enrollments = append(w.enrollments, e)
				emit("enrollments", e.eventID, e.client, e.business, "qr", e.at, uint32(0))
			}
		}
		// 3%: the owner enrolls its own client again (not a rejection).
		if byEnrollment && rng.IntN(33) == 0 {
			e := enrollmentTruth{eventID: c.id + "-again", client: c.id, business: owner.id, at: randTime(c.ownedSince, genEnd)}
			w.enrollments = append(w.enrollments, e)
			emit("enrollments", e.eventID, e.client, e.business, "invite", e.at, uint32(0))
		}
		w.clients = append(w.clients, c)

		// Bookings: a burst of activity, maybe a pause, maybe a return.
		n := rng.IntN(9)
		t := c.ownedSince
		for j := range n {
			if j > 0 || byEnrollment {
				gap := time.Duration(1+rng.IntN(50)) * 24 * time.Hour
				if rng.IntN(6) == 0 {
					gap = time.Duration(70+rng.IntN(120)) * 24 * time.Hour
				}
				t = t.Add(gap + time.Duration(rng.IntN(86400))*time.Second)
			}
			if !t.Before(genEnd) {
				break
			}
			provider := owner
			if (j > 0 || byEnrollment) && rng.IntN(2) == 0 {
				if p := pick(); p.currency == owner.currency {
					provider = p
				}
			}
			bid := fmt.Sprintf("%s-b%d", c.id, j)
			amount := money(10, 250, provider.currency)
			created := t.Add(-time.Duration(1+rng.IntN(72)) * time.Hour)
			emit("bookings", bid+"-e0", bid, c.id, provider.id, "created", decimal.Zero, "", decimal.Zero, "", created, uint32(0))
			if rng.IntN(12) == 0 { // cancelled before completion: never a purchase
				emit("bookings", bid+"-ex", bid, c.id, provider.id, "cancelled", decimal.Zero, "", decimal.Zero, "", t, uint32(0))
				continue
			}
			emit("bookings", bid+"-e1", bid, c.id, provider.id, "completed", amount, provider.currency, decimal.Zero, "massage", t, uint32(0))
			direct := provider.id == owner.id
			kept := decimal.Zero
			accrue := func(ownerID string, amt decimal.Decimal, id string, reason string) {
				kind := "accrual"
				if amt.IsNegative() {
					kind = "reversal"
				}
				emit("commissions", id, kind, reason, ownerID, provider.id, c.id, bid, amount, owner.rate, amt, provider.currency, t, uint32(0), t.AddDate(0, 0, 14), uint32(0), bid+"-e1")
			}
			exp, _ := schemas.MinorUnit(provider.currency)
			keep := func(refunded decimal.Decimal) decimal.Decimal {
				return amount.Sub(refunded).Mul(owner.rate).RoundBank(exp)
			}
			if wrongOwner != "" && provider.id != wrongOwner {
				a := amount.Mul(owner.rate).RoundBank(exp)
				accrue(wrongOwner, a, bid+"-cw", "completed")
				accrue(wrongOwner, a.Neg(), bid+"-cwx", "ownership_correction")
			}
			if !direct {
				kept = keep(decimal.Zero)
				accrue(owner.id, kept, bid+"-c", "completed")
			}
			if rng.IntN(20) == 0 { // cancelled after completion: a full refund, not a purchase
				emit("bookings", bid+"-e9", bid, c.id, provider.id, "cancelled", decimal.Zero, "", decimal.Zero, "", t.Add(48*time.Hour), uint32(0))
				if !direct {
					accrue(owner.id, kept.Neg(), bid+"-c9", "cancellation")
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
				emit("bookings", fmt.Sprintf("%s-r%d", bid, r), bid, c.id, provider.id, "refunded", decimal.Zero, provider.currency, ra, "", t.Add(time.Duration(r+1)*24*time.Hour), uint32(0))
				if !direct {
					after := keep(refunded)
					accrue(owner.id, after.Sub(kept), fmt.Sprintf("%s-cr%d", bid, r), "refund")
					kept = after
				}
			}
			w.purchases = append(w.purchases, purchaseTruth{bookingID: bid, client: c.id, provider: provider.id,
				currency: provider.currency, at: t, amount: amount, refunded: refunded, commission: kept})
			// feedback on some bookings
			if rng.IntN(3) == 0 {
				f := feedbackTruth{eventID: bid + "-fb", business: provider.id, at: t.Add(time.Hour)}
				if rng.IntN(2) == 0 {
					f.kind, f.score = "nps", rng.IntN(11)
				} else {
					f.kind, f.score = "csat", 1+rng.IntN(5)
				}
				w.feedback = append(w.feedback, f)
				emit("feedback", f.eventID, c.id, f.business, f.kind, uint8(f.score), f.at, uint32(0))
			}
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
	tables := make([]string, 0, len(w.raw))
	for table := range w.raw {
		tables = append(tables, table)
	}
	sort.Strings(tables)
	rng := rand.New(rand.NewPCG(7, 7))
	for _, table := range tables {
		rows := w.raw[table]
		rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		cols := rawColumns[table]
		b, err := conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s (%s)", table, joinCols(cols)))
		if err != nil {
			t.Fatalf("preparing insert into %s: %v", table, err)
		}
		for _, r := range rows {
			if err := b.Append(r...); err != nil {
				t.Fatalf("appending to %s: %v", table, err)
			}
		}
		if err := b.Send(); err != nil {
			t.Fatalf("inserting into %s: %v", table, err)
		}
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO sector_settings (sector, activity_window_days, updated_at)")
	if err != nil {
		t.Fatalf("preparing insert into sector_settings: %v", err)
	}
	for sector, days := range w.windows {
		if err := b.Append(sector, uint16(days), genStart); err != nil {
			t.Fatalf("appending to sector_settings: %v", err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatalf("inserting sector_settings: %v", err)
	}
}

func joinCols(cols []string) string {
	s := ""
	for i, c := range cols {
		if i > 0 {
			s += ", "
		}
		s += c
	}
	return s
}
