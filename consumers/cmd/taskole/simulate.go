package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/tools/simulate"
	"github.com/taskole/revshare/consumers/topology"
)

const simulateSummary = "generate a deterministic marketplace year and produce it to the input topics"

func simulateCommand() command {
	return command{name: "simulate", summary: simulateSummary, flags: simulateFlags, help: simulateSummary +
		".\nScale comes from --preset (demo ≈ 130k events, small ≈ 50k, load ≈ 27M, streamed);\n" +
		"--clients, --businesses and --months override it. The topics must exist (taskole topics)."}
}

// simulateFlags registers the flags of `taskole simulate`.
func simulateFlags(fs *flag.FlagSet) action {
	sf := registerSimulation(fs)
	rate := fs.Float64("rate", 0, "events per second (0: as fast as possible)")
	eventOrder := fs.Bool("event-order", false, "produce the year sorted by event time, each simulated day acknowledged before the next (held in memory: demo and small presets)")
	return func(ctx context.Context, c *common) error {
		cfg, err := sf.config()
		if err != nil {
			return err
		}
		g, err := simulate.New(cfg)
		if err != nil {
			return err
		}
		cl, err := c.newKafkaClient(
			kgo.ClientID("taskole-simulate-"+c.instance()),
			kgo.MaxBufferedRecords(100_000),
			kgo.ProducerLinger(5*time.Millisecond),
			kgo.MetadataMinAge(500*time.Millisecond), // topics created just before: find them fast
		)
		if err != nil {
			return err
		}
		defer cl.Close()
		eff := g.Config()
		c.log.Info("simulating", "preset", *sf.preset, "seed", eff.Seed, "clients", eff.Clients,
			"businesses", eff.Businesses, "months", eff.Months, "start", eff.Start.Format("2006-01"), "rate", *rate)
		return produceSimulation(ctx, cl, g, simulate.ProduceOptions{
			Topics:     topology.New(c.topicPrefix).Names(),
			Rate:       *rate,
			Progress:   os.Stdout,
			EventOrder: *eventOrder,
		})
	}
}

// produceSimulation produces g's events and prints the throughput and the statistics.
func produceSimulation(ctx context.Context, cl *kgo.Client, g *simulate.Generator, opts simulate.ProduceOptions) error {
	began := time.Now()
	stats, err := simulate.Produce(ctx, cl, g, opts)
	if err != nil {
		return fmt.Errorf("producing simulated events: %w", err)
	}
	elapsed := time.Since(began)
	fmt.Printf("produced %d records in %s (%.0f records/s)\n", stats.Records, elapsed.Round(time.Millisecond),
		float64(stats.Records)/max(elapsed.Seconds(), 1e-3))
	return stats.Write(os.Stdout)
}

// parseMonth reads YYYY-MM, YYYY-MM-DD or RFC 3339; the simulation starts at that UTC month.
func parseMonth(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01", time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not YYYY-MM, YYYY-MM-DD or RFC 3339", s)
}

// simulationFlags are the flags that shape the simulated marketplace.
type simulationFlags struct {
	preset                      *string
	seed                        *uint64
	clients, businesses, months *int
	start                       *string
	dupRate, badRate            *float64
}

// registerSimulation registers the flags of the marketplace's shape on fs.
func registerSimulation(fs *flag.FlagSet) *simulationFlags {
	f := &simulationFlags{
		preset: fs.String("preset", "demo", "scale preset: "+strings.Join(simulate.Presets(), ", ")),
		seed:   fs.Uint64("seed", simulate.DefaultSeed, "random seed; the same seed yields the same events and ids"),
	}
	f.clients = fs.Int("clients", 0, "number of clients (0: the preset's)")
	f.businesses = fs.Int("businesses", 0, "number of businesses (0: the preset's)")
	f.months = fs.Int("months", 0, "simulated months (0: the preset's)")
	f.start = fs.String("start", simulate.DefaultStart.Format("2006-01"), "first simulated month: YYYY-MM, YYYY-MM-DD or RFC 3339")
	f.dupRate = fs.Float64("duplicate-rate", 0, "share of events delivered twice (0: default 0.01, negative: none)")
	f.badRate = fs.Float64("malformed-rate", 0, "chance of a malformed record after an event (0: default 0.002, negative: none)")
	return f
}

// config is the preset with the flags' overrides.
func (f *simulationFlags) config() (simulate.Config, error) {
	cfg, err := simulate.Preset(*f.preset)
	if err != nil {
		return cfg, fmt.Errorf("reading --preset: %w", err)
	}
	cfg.Seed = *f.seed
	if *f.clients != 0 {
		cfg.Clients = *f.clients
	}
	if *f.businesses != 0 {
		cfg.Businesses = *f.businesses
	}
	if *f.months != 0 {
		cfg.Months = *f.months
	}
	if cfg.Start, err = parseMonth(*f.start); err != nil {
		return cfg, fmt.Errorf("reading --start: %w", err)
	}
	cfg.DuplicateRate, cfg.MalformedRate = *f.dupRate, *f.badRate
	return cfg, nil
}
