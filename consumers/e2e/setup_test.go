package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/taskole/revshare/consumers/tools/simulate"
)

// The setup the end-to-end tests share: the simulated marketplace and the sector settings.

// smallPreset is the config of the simulator's "small" preset.
func smallPreset(t *testing.T) simulate.Config {
	t.Helper()
	cfg, err := simulate.Preset("small")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// simulated generates the events of cfg, cloned out of the generator's arena; it returns the
// generator too (Config, Stats).
func simulated(t *testing.T, cfg simulate.Config) ([]simulate.Event, *simulate.Generator) {
	t.Helper()
	g, err := simulate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var events []simulate.Event
	for e, ok := g.Next(); ok; e, ok = g.Next() {
		events = append(events, clone(e))
	}
	return events, g
}

// derivedRun is derive over the whole simulated span of g; it returns that span too.
func derivedRun(t *testing.T, g *simulate.Generator, events []simulate.Event, windows map[string]int) (d *derived, start, end time.Time) {
	t.Helper()
	start = g.Config().Start
	end = start.AddDate(0, g.Config().Months, 0)
	d, err := derive(events, start, end, windows)
	if err != nil {
		t.Fatal(err)
	}
	return d, start, end
}

// insertWindows writes the activity window of every sector of windows (days) to
// sector_settings.
func insertWindows(ctx context.Context, t *testing.T, conn driver.Conn, windows map[string]int) {
	t.Helper()
	b, err := conn.PrepareBatch(ctx, "INSERT INTO sector_settings (sector, activity_window_days, updated_at)")
	if err != nil {
		t.Fatal(err)
	}
	for sector, days := range windows {
		if err := b.Append(sector, uint16(days), time.Unix(0, 0).UTC()); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		t.Fatalf("inserting sector settings: %v", err)
	}
}
