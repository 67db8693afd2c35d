package migrate_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/taskole/revshare/consumers/testkit/itest"
)

// TestViewsHaveNoUnion pins an 18.16 hazard (docs/DESIGN.md, "One stream for retention
// spend (0138)"): the branches of a UNION ALL run on parallel threads, and two branches that
// analyse their subqueries at once race on the query's shared sample-block cache; such a
// query can spin forever, deaf to KILL QUERY, until the server restarts. So no view the
// migrations leave behind may hold a union (the server stores each view's query formatted,
// comments dropped, keywords in capitals). The pack's own queries are checked in
// sql/queries (TestNoUnion).
func TestViewsHaveNoUnion(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, db, conn := itest.MigratedDatabase(ctx, t)

	if n := itest.Count(ctx, t, conn, "SELECT count() FROM system.tables WHERE database = '"+db+"' AND engine = 'View'"); n < 10 {
		t.Fatalf("%d plain views after the migrations, want the pack's (at least 10): the check below would pass on nothing", n)
	}
	rows, err := conn.Query(ctx, "SELECT name, create_table_query FROM system.tables WHERE database = ? AND engine = 'View' ORDER BY name", db)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, create string
		if err := rows.Scan(&name, &create); err != nil {
			t.Fatal(err)
		}
		if unionWord.MatchString(create) {
			t.Errorf("view %s holds a UNION: on 18.16 its branches can hang the query (re-create it as one chain of joins)", name)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

var unionWord = regexp.MustCompile(`(?i)\bUNION\b`)
