package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/consumers/runners/ledger"
	"github.com/taskole/revshare/consumers/stream"
	"github.com/taskole/revshare/consumers/topology"
	"github.com/taskole/revshare/pipelines/commission"
)

const ledgerSummary = "run the commission ledger: enrollments + bookings → referral owners, commissions, dead letters (exactly once)"

func ledgerCommand() command {
	return command{name: "ledger", summary: ledgerSummary, metricsAddr: "127.0.0.1:9464", flags: func(fs *flag.FlagSet) action {
		return registerLedger(fs).run
	}}
}

// run runs the ledger runner configured by the flags.
func (f *ledgerFlags) run(ctx context.Context, c *common) error {
	rc, err := f.rules()
	if err != nil {
		return err
	}
	return serveRunner(ctx, c, "ledger", func(reg *prometheus.Registry) (*ledger.Runner, error) {
		cfg, err := f.config(c, rc, reg)
		if err != nil {
			return nil, err
		}
		return ledger.New(cfg)
	})
}

// ledgerFlags are the flags of the ledger runner's configuration.
type ledgerFlags struct {
	defaultRate, group, changelog  *string
	hold, horizon, commit          *time.Duration
	session, rebalance, txnTimeout *time.Duration
	maxBatch, partitions           *int
	maxBuffered                    *int
	fetchBytes                     *int
	maxIdle                        *time.Duration
	leave                          *bool
	ratesWait                      *time.Duration
	bounds                         *boundsFlags
}

// registerLedger registers the ledger runner's flags on fs.
func registerLedger(fs *flag.FlagSet) *ledgerFlags {
	return &ledgerFlags{
		defaultRate: fs.String("default-rate", commission.Config{}.WithDefaults().DefaultRate.String(), "platform referral rate when the owner has none in force (a fraction)"),
		hold:        fs.Duration("hold", commission.DefaultHold, "hold period: an accrual is payable this long after the booking"),
		horizon:     fs.Duration("horizon", commission.DefaultHorizon, "bookings are kept in state this long (event time) for refunds and corrections"),
		commit:      fs.Duration("commit-interval", ledger.DefaultCommitInterval, "how long a transaction stays open"),
		maxBatch:    fs.Int("max-batch-records", stream.DefaultMaxBatchRecords, "input records per transaction at most"),
		maxBuffered: fs.Int("max-buffered-records", stream.DefaultMaxBufferedRecords, "records buffered per input partition while the event-time merge waits for another input"),
		fetchBytes:  fs.Int("fetch-max-partition-bytes", stream.DefaultFetchMaxPartitionBytes, "bytes one fetch brings at most per input partition (with --max-buffered-records: memory against catch-up speed)"),
		maxIdle:     fs.Duration("max-task-idle", ledger.DefaultMaxTaskIdle, "how long a live record waits for a quiet input of its partition before the event-time merge passes it (never changes a replay; negative: no wait)"),
		session:     fs.Duration("session-timeout", stream.DefaultSessionTimeout, "consumer group session timeout (a dead instance's partitions move after it)"),
		rebalance:   fs.Duration("rebalance-timeout", stream.DefaultRebalanceTimeout, "consumer group rebalance timeout (state restore runs within it)"),
		txnTimeout:  fs.Duration("transaction-timeout", stream.DefaultTransactionTimeout, "transaction timeout (how long a crashed instance's open transaction blocks its partitions unless it restarts under the same --instance)"),
		ratesWait:   fs.Duration("rates-wait", ledger.DefaultRatesWait, "how long one transaction waits in all for the rates table to reach the businesses topic's end offsets (at most half of --transaction-timeout; past it: judged with what the table holds, logged and counted)"),
		leave:       fs.Bool("leave-group", false, "on shutdown, leave the group so the partitions move at once (scaling in); default: keep them for a restart under the same --instance"),
		group:       fs.String("group", topology.GroupLedger, "consumer group (--topic-prefix is prepended)"),
		changelog:   fs.String("changelog", "", "state changelog topic (default: taskole.ledger-state.v1 under --topic-prefix)"),
		partitions:  fs.Int("partitions", 12, "partition count of topics created when missing"),
		bounds:      registerBounds(fs),
	}
}

// rules is the rules' configuration from the flags.
func (f *ledgerFlags) rules() (commission.Config, error) {
	bounds, err := f.bounds.bounds()
	if err != nil {
		return commission.Config{}, err
	}
	rate, err := decimal.NewFromString(*f.defaultRate)
	if err != nil {
		return commission.Config{}, fmt.Errorf("parsing --default-rate: %w", err)
	}
	return commission.Config{DefaultRate: rate, Hold: *f.hold, Horizon: *f.horizon, Bounds: bounds}, nil
}

// config is the ledger runner's configuration from the flags and the rules' rc.
func (f *ledgerFlags) config(c *common, rc commission.Config, reg *prometheus.Registry) (ledger.Config, error) {
	kopts, err := c.kafkaSecurity()
	if err != nil {
		return ledger.Config{}, err
	}
	if *f.fetchBytes < 0 || *f.fetchBytes > math.MaxInt32 {
		return ledger.Config{}, fmt.Errorf("--fetch-max-partition-bytes %d: out of range [0, %d]", *f.fetchBytes, math.MaxInt32)
	}
	return ledger.Config{
		ClientOpts:             kopts,
		Brokers:                c.brokerList(),
		Topics:                 topology.New(c.topicPrefix).Names(),
		Changelog:              *f.changelog,
		Group:                  c.topicPrefix + *f.group,
		Instance:               c.instance(),
		Partitions:             int32(*f.partitions),
		Rules:                  rc,
		CommitInterval:         *f.commit,
		MaxBatchRecords:        *f.maxBatch,
		MaxBufferedRecords:     *f.maxBuffered,
		FetchMaxPartitionBytes: int32(*f.fetchBytes),
		MaxTaskIdle:            *f.maxIdle,
		SessionTimeout:         *f.session,
		RebalanceTimeout:       *f.rebalance,
		TransactionTimeout:     *f.txnTimeout,
		LeaveOnClose:           *f.leave,
		RatesWait:              *f.ratesWait,
		Logger:                 c.log,
		Registry:               reg,
	}, nil
}
