package migrate_test

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/taskole/revshare/consumers/runners/migrate"
	"github.com/taskole/revshare/sql/migrations"
)

// TestRebuildMatchesMigrations: every INSERT of rebuild.sql is, character for character, an
// INSERT of a numbered migration (the backfill that built the rollup), and every table it
// fills is emptied first; so a rebuild computes exactly what a fresh install computes.
func TestRebuildMatchesMigrations(t *testing.T) {
	ms, err := migrate.Load(migrations.FS())
	if err != nil {
		t.Fatal(err)
	}
	backfills := map[string]bool{}
	for _, m := range ms {
		for _, s := range migrate.Split(m.SQL) {
			if strings.HasPrefix(s.SQL, "INSERT INTO ") {
				backfills[s.SQL] = true
			}
		}
	}
	b, err := fs.ReadFile(migrations.FS(), migrate.RebuildFile)
	if err != nil {
		t.Fatal(err)
	}
	truncated := map[string]bool{}
	inserts := 0
	for _, s := range migrate.Split(string(b)) {
		switch {
		case strings.HasPrefix(s.SQL, "TRUNCATE TABLE IF EXISTS "):
			truncated[strings.TrimPrefix(s.SQL, "TRUNCATE TABLE IF EXISTS ")] = true
		case strings.HasPrefix(s.SQL, "INSERT INTO "):
			inserts++
			if !backfills[s.SQL] {
				t.Errorf("%s line %d: not an INSERT of any migration: %s", migrate.RebuildFile, s.Line, s.FirstLine())
			}
			table := strings.Fields(s.SQL)[2]
			if !truncated[table] {
				t.Errorf("%s line %d: %s is filled but not emptied before", migrate.RebuildFile, s.Line, table)
			}
		default:
			t.Errorf("%s line %d: unexpected statement %s", migrate.RebuildFile, s.Line, s.FirstLine())
		}
	}
	if inserts != len(backfills) {
		t.Errorf("%s has %d INSERTs, the migrations %d backfills", migrate.RebuildFile, inserts, len(backfills))
	}
	if len(truncated) != inserts {
		t.Errorf("%s empties %d tables and fills %d", migrate.RebuildFile, len(truncated), inserts)
	}
}
