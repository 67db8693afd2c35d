package simulate

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/schemas"
)

// Retention spend (taskole.retention-costs.v1): what businesses give away to keep clients.
//
//   - Businesses with a loyalty program (about 40%, fixed per business) give a 10% loyalty
//     discount on some repeat visits (not on a client's establishing first booking), named to
//     the client; now and then a free service (an add-on worth 20–50% of the visit) or a
//     guarantee redo (the visit again) for the client.
//   - Some months a business also spends on retention without naming a client: a loyalty
//     campaign (a discount day), an occasional guarantee budget or another retention cost.
//
// The decisions use their own random stream (seeded per batch), and the records are
// appended after a batch's other events and re-deliveries, so adding them left every other
// topic's records exactly as they were.

// doneBooking is a completed booking of the current client-month batch.
type doneBooking struct {
	prov      int
	amount    int64 // minor units
	at        time.Time
	first     bool // the client's establishing first booking
	cancelled bool // cancelled after completion
}

// loyal reports whether business i runs a loyalty program (fixed by the seed).
func (g *Generator) loyal(i int) bool { return mix(g.cfg.Seed^uint64(i)*0x2545f4914f6cdd1d)%10 < 4 }

func (g *Generator) retentionSeed(kind, a, b uint64) *rand.Rand {
	g.rpcg.Seed(g.cfg.Seed^(kind*0x9e3779b97f4a7c15), mix(a<<20^b))
	return g.rr
}

// retentionClient appends the retention costs attributed to client i (id) in month m: one
// decision per completed booking of the batch (g.completedBk).
func (g *Generator) retentionClient(i int, id string, m int) {
	if len(g.completedBk) == 0 {
		return
	}
	r := g.retentionSeed(5, uint64(i), uint64(m))
	for k, d := range g.completedBk {
		if d.first || d.cancelled || !g.loyal(d.prov) {
			continue
		}
		b := &g.biz[d.prov]
		var kind schemas.RetentionKind
		var amt int64
		switch u := r.Float64(); {
		case u < 0.18:
			kind, amt = schemas.RetentionLoyaltyDiscount, d.amount/10
		case u < 0.195:
			kind, amt = schemas.RetentionFreeService, d.amount*int64(20+r.IntN(31))/100
		case u < 0.20:
			kind, amt = schemas.RetentionGuarantee, d.amount
		default:
			continue
		}
		g.emitRetention(r, schemas.RetentionCost{
			EventID:    "rc" + g.tag + "-" + id[1:] + "-" + strconv.Itoa(m) + "-" + strconv.Itoa(k),
			BusinessID: b.id,
			ClientID:   id,
			Amount:     decimal.New(max(amt, 1), -b.cur.exp),
			Currency:   b.cur.code,
			Kind:       kind,
			OccurredAt: d.at.Add(time.Duration(r.IntN(3600)) * time.Second),
		})
	}
}

// retentionHeader appends month m's retention spend that names no client.
func (g *Generator) retentionHeader(m int) {
	r := g.retentionSeed(6, uint64(m), 0)
	ms, me := g.monthStart(m), g.monthStart(m+1)
	for i := range g.biz {
		b := &g.biz[i]
		if b.onboard.After(ms) || !g.loyal(i) {
			continue
		}
		var kind schemas.RetentionKind
		var amt int64
		switch u := r.Float64(); {
		case u < 0.25:
			kind, amt = schemas.RetentionLoyaltyDiscount, b.price*int64(2+r.IntN(5))
		case u < 0.32:
			kind, amt = schemas.RetentionGuarantee, b.price
		case u < 0.40:
			kind, amt = schemas.RetentionOther, b.price*int64(1+r.IntN(3))/2
		default:
			continue
		}
		at := ms.Add(time.Duration(r.Float64() * float64(me.Sub(ms)-time.Hour))).Truncate(time.Second)
		g.emitRetention(r, schemas.RetentionCost{
			EventID:    "rc" + g.tag + "-" + b.id[1:] + "-" + strconv.Itoa(m) + "-h",
			BusinessID: b.id,
			Amount:     decimal.New(max(roundTo(amt, b.cur.step), b.cur.step), -b.cur.exp),
			Currency:   b.cur.code,
			Kind:       kind,
			OccurredAt: at,
		})
	}
}

// emitRetention appends v (keyed by its business), maybe a re-delivery and maybe a malformed
// sibling (its kind missing or the JSON cut), at the configured rates.
func (g *Generator) emitRetention(r *rand.Rand, v schemas.RetentionCost) {
	key := []byte(v.BusinessID)
	e := Event{Topic: schemas.TopicRetentionCosts, Key: key, Value: g.encode(v)}
	g.buf = append(g.buf, e)
	g.stats.retentionCosts++
	if v.ClientID != "" {
		g.stats.retentionAttributed++
	}
	if g.cfg.DuplicateRate > 0 && r.Float64() < g.cfg.DuplicateRate {
		e.Duplicate = true
		g.buf = append(g.buf, e)
	}
	if g.cfg.MalformedRate > 0 && r.Float64() < g.cfg.MalformedRate {
		g.seq++
		v.EventID += "-m" + strconv.Itoa(g.seq)
		b := g.encode(v)
		kind := MissingField
		if r.IntN(2) == 0 {
			kind, b = BadJSON, b[:len(b)/2:len(b)/2]
		} else {
			b = editJSON(b, "kind", nil)
		}
		g.buf = append(g.buf, Event{Topic: schemas.TopicRetentionCosts, Key: key, Value: b, Malformed: kind})
	}
}
