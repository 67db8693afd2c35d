package querytest

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// TestFarFutureAsStored pins the reference's rule for event times after ClickHouse 18.16's
// calendar (the sink saturates them at 2105-12-31 23:59:59 UTC): a client owned and buying in
// 2150 counts in the cohort and month 2105-12, with its exact commission, as the SQL answers
// (consumers/e2e TestFarFutureEventStored checks the SQL side); the world itself is unchanged.
func TestFarFutureAsStored(t *testing.T) {
	far := time.Date(2150, 6, 1, 10, 0, 0, 0, time.UTC)
	w := &World{
		Businesses: map[string]Business{"B1": {ID: "B1", Sector: "beauty", Currency: "EUR"}},
		Clients:    []Client{{ID: "F", Owner: "B1", OwnedSince: far.AddDate(0, -5, 0)}},
		Purchases: []Purchase{{BookingID: "b1", Client: "F", Provider: "P", Currency: "EUR", At: far,
			Amount: decimal.NewFromInt(100), Commission: decimal.NewFromInt(10)}},
	}
	r := NewRef(w)
	rows := r.realizedCLV("owner", time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC))
	if len(rows) != 1 {
		t.Fatalf("realized_clv rows %v, want one", rows)
	}
	if got := rows[0]; got["cohort"] != "2105-12-01" || got["k"] != 0 || !got["commissions"].(decimal.Decimal).Equal(decimal.NewFromInt(10)) {
		t.Errorf("realized_clv row %v, want cohort 2105-12-01, k 0, commissions 10", got)
	}
	if !w.Purchases[0].At.Equal(far) || !w.Clients[0].OwnedSince.Equal(far.AddDate(0, -5, 0)) {
		t.Error("NewRef changed the world it was given")
	}
}
