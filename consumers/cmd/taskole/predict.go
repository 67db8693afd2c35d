package main

import (
	"context"
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
	return command{name: "predict", summary: "predicted CLV per client into ClickHouse", run: runPredict}
}

func runPredict(ctx context.Context, args []string) error {
	fs := newFlags("predict", predictSummary+". Idempotent for one date.")
	var c common
	c.register(fs, "")
	asOf := fs.String("as-of", "", "as-of day YYYY-MM-DD (default: the latest purchase day in the data)")
	rate := fs.Float64("discount-rate", 0.10, "annual discount rate of predicted CLV (discounted at the end of each month)")
	minRepeat := fs.Int("min-repeat-clients", 50, "repeat accounts a sector needs for its own fit (else the platform fit)")
	defaultRate := fs.String("default-rate", "0.05", "an owner's referral rate when it has none (as the ledger's --default-rate)")
	timeout := fs.Duration("timeout", 30*time.Minute, "timeout of the whole run")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := c.logger("predict")
	if err != nil {
		return err
	}
	cfg := predict.Config{MinRepeatClients: *minRepeat, Logger: log, Progress: os.Stderr,
		Horizon: clv.Horizon{AnnualRate: *rate, NoDiscount: *rate == 0}}
	if cfg.DefaultRate, err = decimal.NewFromString(*defaultRate); err != nil {
		return fmt.Errorf("reading --default-rate: %w", err)
	}
	if *asOf != "" {
		if cfg.AsOf, err = time.Parse(time.DateOnly, *asOf); err != nil {
			return fmt.Errorf("reading --as-of: %w", err)
		}
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{c.chAddr}, Auth: clickhouse.Auth{Database: c.chDatabase}})
	if err != nil {
		return fmt.Errorf("opening clickhouse %s: %w", c.chAddr, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	_, err = predict.Run(ctx, conn, cfg)
	return err
}
