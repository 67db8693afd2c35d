package main

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/consumers/runners/ledger"
	"github.com/taskole/revshare/consumers/runners/ops"
	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/consumers/topology"
	"github.com/taskole/revshare/pipelines/commission"
)

func ledgerCommand() command {
	const summary = "run the commission ledger: enrollments + bookings → referral owners, commissions, dead letters (exactly once)"
	return command{
		name:    "ledger",
		summary: summary,
		run: func(ctx context.Context, args []string) error {
			fs := newFlags("ledger", summary)
			var c common
			c.register(fs, "127.0.0.1:9464")
			defaultRate := fs.String("default-rate", commission.Config{}.WithDefaults().DefaultRate.String(), "platform referral rate when the owner has none in force (a fraction)")
			hold := fs.Duration("hold", commission.DefaultHold, "hold period: an accrual is payable this long after the booking")
			horizon := fs.Duration("horizon", commission.DefaultHorizon, "bookings are kept in state this long (event time) for refunds and corrections")
			commit := fs.Duration("commit-interval", stream.DefaultCommitInterval, "how long a transaction stays open")
			maxBatch := fs.Int("max-batch-records", stream.DefaultMaxBatchRecords, "input records per transaction at most")
			session := fs.Duration("session-timeout", stream.DefaultSessionTimeout, "consumer group session timeout (a dead instance's partitions move after it)")
			rebalance := fs.Duration("rebalance-timeout", stream.DefaultRebalanceTimeout, "consumer group rebalance timeout (state restore runs within it)")
			txnTimeout := fs.Duration("transaction-timeout", stream.DefaultTransactionTimeout, "transaction timeout (how long a crashed instance's open transaction blocks its partitions unless it restarts under the same --instance)")
			ratesWait := fs.Duration("rates-wait", ledger.DefaultRatesWait, "how long a fetched batch waits for the rates table to reach the businesses topic's end offsets before it is judged (past it: judged with what the table holds, logged and counted)")
			leave := fs.Bool("leave-group", false, "on shutdown, leave the group so the partitions move at once (scaling in); default: keep them for a restart under the same --instance")
			group := fs.String("group", topology.GroupLedger, "consumer group (--topic-prefix is prepended)")
			changelog := fs.String("changelog", "", "state changelog topic (default: taskole.ledger-state.v1 under --topic-prefix)")
			partitions := fs.Int("partitions", 12, "partition count of topics created when missing")
			bf := registerBounds(fs)
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			bounds, err := bf.bounds()
			if err != nil {
				return err
			}
			rate, err := decimal.NewFromString(*defaultRate)
			if err != nil {
				return fmt.Errorf("parsing --default-rate: %w", err)
			}
			log, err := c.logger("ledger")
			if err != nil {
				return err
			}
			kopts, err := c.kafkaSecurity()
			if err != nil {
				return err
			}
			reg := ops.NewRegistry()
			topics := topology.New(c.topicPrefix).Names()
			r, err := ledger.New(ledger.Config{
				ClientOpts:         kopts,
				Brokers:            c.brokerList(),
				Topics:             topics,
				Changelog:          *changelog,
				Group:              c.topicPrefix + *group,
				Instance:           c.instance(),
				Partitions:         int32(*partitions),
				Rules:              commission.Config{DefaultRate: rate, Hold: *hold, Horizon: *horizon, Bounds: bounds},
				CommitInterval:     *commit,
				MaxBatchRecords:    *maxBatch,
				SessionTimeout:     *session,
				RebalanceTimeout:   *rebalance,
				TransactionTimeout: *txnTimeout,
				LeaveOnClose:       *leave,
				RatesWait:          *ratesWait,
				Logger:             log,
				Registry:           reg,
			})
			if err != nil {
				return err
			}
			defer r.Close()
			return serve(ctx, &c, "ledger", log, reg, r.Ready, r.Run)
		},
	}
}
