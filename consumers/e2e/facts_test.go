package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
)

// factTotal is what the stored purchase facts of one booking sum to: the commission of every
// owner separately.
type factTotal struct {
	client           string
	purchases        int64
	amount, refunded decimal.Decimal
	commission       map[string]decimal.Decimal
}

// checkPurchaseFacts waits until the sink has stored every committed record of the
// purchase-facts topic, then checks, per booking, that the stored facts sum to what the
// purchases view (migrations 0100/0102) derives from the raw input tables: a purchase (1) or
// none (0), its amount and refunds, and the commission of the client's current owner. No
// fact is stored twice. It returns the number of purchases.
func checkPurchaseFacts(ctx context.Context, t *testing.T, brokers []string, topic string, conn driver.Conn) int {
	t.Helper()
	committed := readCommitted(ctx, t, brokers, topic)
	for _, r := range committed {
		if _, err := schemas.DecodePurchaseFact(r.Value); err != nil {
			t.Fatalf("the ledger wrote a purchase fact its decoder refuses: %v", err)
		}
	}
	itest.WaitFor(ctx, t, "the sink to store every purchase fact", func() (bool, string) {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM purchase_facts").Scan(&n); err != nil {
			return false, err.Error()
		}
		return int(n) == len(committed), fmt.Sprintf("%d of %d facts stored", n, len(committed))
	})
	var rows, ids uint64
	if err := conn.QueryRow(ctx, "SELECT count(), uniqExact(fact_id) FROM purchase_facts").Scan(&rows, &ids); err != nil {
		t.Fatal(err)
	}
	if rows != ids {
		t.Errorf("purchase_facts: %d rows, %d distinct fact ids", rows, ids)
	}
	facts := factTotals(ctx, t, conn)
	q, err := conn.Query(ctx, "SELECT booking_id, client_id, owner_business_id, amount, refunded, commission FROM purchases")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	n, bad := 0, 0
	fail := func(format string, args ...any) {
		if bad++; bad <= 10 {
			t.Errorf(format, args...)
		}
	}
	inView := map[string]bool{}
	for q.Next() {
		var booking, client, owner string
		var amount, refunded, commission decimal.Decimal
		if err := q.Scan(&booking, &client, &owner, &amount, &refunded, &commission); err != nil {
			t.Fatal(err)
		}
		n++
		inView[booking] = true
		f, ok := facts[booking]
		switch {
		case !ok:
			fail("purchase %s of client %s has no facts", booking, client)
		case f.client != client || f.purchases != 1 || !f.amount.Equal(amount) || !f.refunded.Equal(refunded) ||
			!f.commission[owner].Equal(commission):
			fail("purchase %s: facts sum to %d purchases, amount %s, refunded %s, commission of %s %s; the view says 1, %s, %s, %s",
				booking, f.purchases, f.amount, f.refunded, owner, f.commission[owner], amount, refunded, commission)
		}
	}
	if err := q.Err(); err != nil {
		t.Fatal(err)
	}
	for booking, f := range facts {
		if !inView[booking] && (f.purchases != 0 || !f.amount.IsZero() || !f.refunded.IsZero()) {
			fail("booking %s is no purchase in the view, its facts sum to %d purchases, amount %s, refunded %s", booking, f.purchases, f.amount, f.refunded)
		}
	}
	if bad > 0 {
		t.Errorf("purchase facts: %d bookings disagree with the purchases view (of %d purchases)", bad, n)
	}
	return n
}

// factTotals sums the stored purchase facts per booking (and per commission owner).
func factTotals(ctx context.Context, t *testing.T, conn driver.Conn) map[string]*factTotal {
	t.Helper()
	rows, err := conn.Query(ctx, `SELECT booking_id, commission_owner, any(client_id), uniqExact(client_id),
 sum(toInt64(purchases)), sum(amount), sum(refunded), sum(commission)
FROM purchase_facts GROUP BY booking_id, commission_owner`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]*factTotal{}
	for rows.Next() {
		var (
			booking, owner, client string
			clients                uint64
			p                      int64
			amount, ref, comm      decimal.Decimal
		)
		if err := rows.Scan(&booking, &owner, &client, &clients, &p, &amount, &ref, &comm); err != nil {
			t.Fatal(err)
		}
		if clients != 1 {
			t.Errorf("booking %s has facts of %d clients", booking, clients)
		}
		f := out[booking]
		if f == nil {
			f = &factTotal{client: client, commission: map[string]decimal.Decimal{}}
			out[booking] = f
		}
		f.purchases += p
		f.amount, f.refunded = f.amount.Add(amount), f.refunded.Add(ref)
		if owner != "" {
			f.commission[owner] = f.commission[owner].Add(comm)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
