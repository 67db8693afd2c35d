package migrate_test

import (
	"strings"
	"testing"

	"github.com/taskole/revshare/consumers/runners/migrate"
	"github.com/taskole/revshare/sql/migrations"
)

// TestRebuildPlan pins what a rebuild empties and refills, in order: every table a
// materialized view writes to, each with the backfill of the migration that created it.
func TestRebuildPlan(t *testing.T) {
	ms, err := migrate.Load(migrations.FS())
	if err != nil {
		t.Fatal(err)
	}
	plan, err := migrate.RebuildPlan(ms)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range plan {
		f := strings.Fields(s.SQL)
		got = append(got, strings.Join(f[:3], " "))
	}
	want := []string{
		"TRUNCATE TABLE IF", "INSERT INTO feedback_monthly",
		"TRUNCATE TABLE IF", "INSERT INTO purchase_months_rollup",
		"TRUNCATE TABLE IF", "INSERT INTO purchase_times_rollup",
		"TRUNCATE TABLE IF", "INSERT INTO current_owners",
		"TRUNCATE TABLE IF", "INSERT INTO client_months_rollup",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := 0; i < len(plan); i += 2 {
		if table := strings.Fields(plan[i+1].SQL)[2]; plan[i].SQL != "TRUNCATE TABLE IF EXISTS "+table {
			t.Errorf("statement %d empties %q before filling %s", i+1, plan[i].SQL, table)
		}
	}
}

// TestRebuildPlanRefuses: a rollup filled by two migrations (a rebuild would count it twice),
// or by none, has no plan; an INSERT into a table no view writes to is not a rollup's backfill.
func TestRebuildPlanRefuses(t *testing.T) {
	view := "CREATE MATERIALIZED VIEW IF NOT EXISTS r_mv TO r AS\nSELECT x FROM raw;\n"
	fill := "INSERT INTO r (x)\nSELECT x FROM raw;\n"
	tests := []struct {
		name string
		ms   []migrate.Migration
		want string // substring of the error; "" for a plan of two statements
	}{
		{"one backfill", []migrate.Migration{{Name: "0001_a", SQL: view + fill}}, ""},
		{"two backfills", []migrate.Migration{{Name: "0001_a", SQL: view + fill}, {Name: "0002_b", SQL: fill}}, "backfilled by 0001_a and by 0002_b"},
		{"no backfill", []migrate.Migration{{Name: "0001_a", SQL: view}}, "without a backfill in the migrations: r"},
		{"seed data is not a rollup", []migrate.Migration{{Name: "0001_a", SQL: view + fill + "INSERT INTO settings VALUES (1);\n"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := migrate.RebuildPlan(tt.ms)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.want == "" && len(plan) != 2:
				t.Fatalf("plan of %d statements, want 2: %v", len(plan), plan)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
