package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/taskole/revshare/consumers/runners/ops"
	"github.com/taskole/revshare/consumers/runners/payouts"
	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/consumers/topology"
	"github.com/taskole/revshare/pipelines/statement"
)

const payoutsSummary = "issue payout statements: taskole.commissions.v1 → taskole.payouts.v1 (exactly once)"

func payoutsCommand() command {
	return command{name: "payouts", summary: payoutsSummary, metricsAddr: "127.0.0.1:9466", flags: payoutsModes,
		help: payoutsSummary + `.

Statements close on the ledger's low watermark: once every input partition of the ledger has
passed period_end + --close-delay in event time (the ledger's progress markers in the
commissions topic). --close-through writes an explicit close command for every period ending at
or before the given date and exits: it takes effect once the ledger has processed every record
its input partitions held when the command was written (idle partitions included), so it never
moves an entry that was in the input by then. --coverage reads the commissions and statements
back from Kafka, prints how many commissions of the closed periods are in the statement of
their period, and exits.`}
}

// payoutsModes registers the flags of `taskole payouts`: the runner's and those of its two
// one-shot modes.
func payoutsModes(fs *flag.FlagSet) action {
	pf := registerPayouts(fs)
	closeThrough := fs.String("close-through", "", "write a close command for every period ending at or before this date (2025-02-01 or RFC 3339) and exit")
	coverage := fs.Bool("coverage", false, "read commissions and statements back, print the coverage of the closed periods and exit")
	return func(ctx context.Context, c *common) error {
		reg := ops.NewRegistry()
		cfg, err := pf.config(c, reg)
		if err != nil {
			return err
		}
		switch {
		case *closeThrough != "":
			return closePeriods(ctx, cfg, *closeThrough)
		case *coverage:
			cov, err := payouts.ReadCoverage(ctx, cfg)
			if err != nil {
				return fmt.Errorf("checking statement coverage: %w", err)
			}
			fmt.Printf("Statement coverage: %s\n", cov)
			return nil
		}
		r, err := payouts.New(cfg)
		if err != nil {
			return err
		}
		defer r.Close()
		return serve(ctx, c, "payouts", reg, r)
	}
}

// closePeriods writes the close command of --close-through.
func closePeriods(ctx context.Context, cfg payouts.Config, through string) error {
	t, err := parseDate(through)
	if err != nil {
		return fmt.Errorf("parsing --close-through: %w", err)
	}
	if err := payouts.Close(ctx, cfg, t); err != nil {
		return err
	}
	cfg.Logger.Info("close command written", "close_through", t)
	return nil
}

// payoutsFlags are the flags of the payouts runner's configuration.
type payoutsFlags struct {
	period, minPayout          *string
	closeDelay, commitInterval *time.Duration
	session, txnTimeout        *time.Duration
	partitions                 *int
	leave                      *bool
}

// registerPayouts registers the payouts runner's flags on fs.
func registerPayouts(fs *flag.FlagSet) *payoutsFlags {
	return &payoutsFlags{
		period:         fs.String("period", "month", "payout period: month (calendar month, UTC) or week (Monday 00:00 UTC)"),
		minPayout:      fs.String("min-payout", "", "minimum payout per currency, e.g. EUR=20.00,JPY=2000 (default 20 in every currency's unit)"),
		closeDelay:     fs.Duration("close-delay", statement.DefaultCloseDelay, "event time after period_end before a period closes"),
		partitions:     fs.Int("partitions", 0, "partitions of topics this command creates (0: broker default)"),
		commitInterval: fs.Duration("commit-interval", 0, "how long a transaction stays open (0: 500ms)"),
		session:        fs.Duration("session-timeout", stream.DefaultSessionTimeout, "consumer group session timeout (a crashed instance's partitions move after it unless it restarts under the same --instance)"),
		txnTimeout:     fs.Duration("transaction-timeout", stream.DefaultTransactionTimeout, "transaction timeout (how long a crashed instance's open transaction blocks its partitions unless it restarts under the same --instance)"),
		leave:          fs.Bool("leave-group", false, "on shutdown, leave the group so the partitions move at once (scaling in); default: keep them for a restart under the same --instance"),
	}
}

// config is the payouts runner's configuration from the flags.
func (f *payoutsFlags) config(c *common, reg *prometheus.Registry) (payouts.Config, error) {
	p, err := statement.ParsePeriod(*f.period)
	if err != nil {
		return payouts.Config{}, fmt.Errorf("parsing --period: %w", err)
	}
	mins, err := statement.ParseMinPayout(*f.minPayout)
	if err != nil {
		return payouts.Config{}, fmt.Errorf("parsing --min-payout: %w", err)
	}
	kopts, err := c.kafkaSecurity()
	if err != nil {
		return payouts.Config{}, err
	}
	return payouts.Config{
		ClientOpts:         kopts,
		Brokers:            c.brokerList(),
		Topics:             topology.New(c.topicPrefix).Names(),
		Instance:           c.instance(),
		Partitions:         int32(*f.partitions),
		Rules:              statement.Config{Period: p, MinPayout: mins, CloseDelay: *f.closeDelay},
		CommitInterval:     *f.commitInterval,
		SessionTimeout:     *f.session,
		TransactionTimeout: *f.txnTimeout,
		LeaveOnClose:       *f.leave,
		Logger:             c.log,
		Registry:           reg,
	}, nil
}

// parseDate accepts a date (midnight UTC) or an RFC 3339 time.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}
