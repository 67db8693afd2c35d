package query_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/consumers/testkit/querytest"
)

// TestQueryPackMatchesReference generates a marketplace of a few thousand clients, writes
// it to the raw tables of a freshly migrated database as the sink would (re-deliveries,
// superseded owner records, shuffled order), runs every query of the pack and compares each
// result, row by row and cell by cell, with the reference computation of querytest: money to
// the last decimal, counts to the client, ratios to 1e-9. With TASKOLE_SQL_GATE_DIR set it
// also writes the bundle of the current-ClickHouse gate there (gate_test.go).
func TestQueryPackMatchesReference(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	addr, db, conn := itest.MigratedDatabase(ctx, t)

	w := generate(42, 48, 3000)
	w.load(ctx, t, conn)
	t.Logf("generated %d clients, %d purchases, %d enrollments, %d feedback answers, %d spend events, %d retention costs, %d dead letters",
		len(w.Clients), len(w.Purchases), len(w.Enrollments), len(w.Feedback), len(w.Spend), len(w.Retention), len(w.DeadLetters))
	if dir := os.Getenv("TASKOLE_SQL_GATE_DIR"); dir != "" {
		gctx, gcancel := context.WithTimeout(ctx, gateTimeout)
		writeGateBundle(gctx, t, addr, db, dir)
		gcancel()
	}
	r := querytest.NewRef(&w.World)
	querytest.Check(ctx, t, conn, r.Cases(querytest.Options{
		Until: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC),
		At:    time.Date(2025, 9, 15, 12, 0, 0, 0, time.UTC),
		AsOf:  genAsOf,
	}), predictionQueries...)
}

// predictionQueries read client_predictions, which `taskole predict` fills from fitted models,
// not from the world: consumers/runners/predict's integration test checks them against the table.
// (predicted_net_clv is checked here: the world holds predictions to net.)
var predictionQueries = []string{"predicted_clv", "at_risk_clients", "p_alive_distribution"}
