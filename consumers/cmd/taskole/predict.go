package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/consumers/runners/predict"
	"github.com/taskole/revshare/pipelines/clv"
)

const predictSummary = "fit BG/NBD and Gamma-Gamma as of a date and write client_predictions and clv_fits (predicted CLV)"

func predictCommand() command {
	return command{name: "predict", summary: "predicted CLV per client into ClickHouse", help: predictSummary + ". Idempotent for one date.", flags: predictFlags}
}

// predictFlags registers the flags of `taskole predict`.
func predictFlags(fs *flag.FlagSet) action {
	asOf := fs.String("as-of", "", "as-of day YYYY-MM-DD (default: the latest purchase day in the data)")
	rate := fs.Float64("discount-rate", 0.10, "annual discount rate of predicted CLV (discounted at the end of each month)")
	minRepeat := fs.Int("min-repeat-clients", 50, "repeat accounts a sector needs for its own fit (else the platform fit)")
	defaultRate := fs.String("default-rate", "0.05", "an owner's referral rate when it has none (as the ledger's --default-rate)")
	timeout := fs.Duration("timeout", 30*time.Minute, "timeout of the whole run")
	return func(ctx context.Context, c *common) error {
		cfg := predict.Config{MinRepeatClients: *minRepeat, Logger: c.log, Progress: os.Stderr,
			Horizon: clv.Horizon{AnnualRate: *rate, NoDiscount: *rate == 0}}
		var err error
		if cfg.DefaultRate, err = decimal.NewFromString(*defaultRate); err != nil {
			return fmt.Errorf("reading --default-rate: %w", err)
		}
		if *asOf != "" {
			if cfg.AsOf, err = time.Parse(time.DateOnly, *asOf); err != nil {
				return fmt.Errorf("reading --as-of: %w", err)
			}
		}
		return c.withClickHouse(ctx, *timeout, func(ctx context.Context, conn clickhouse.Conn) error {
			_, err := predict.Run(ctx, conn, cfg)
			return err
		})
	}
}
