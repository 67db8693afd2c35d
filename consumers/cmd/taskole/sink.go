package main

import (
	"context"
	"flag"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/taskole/revshare/consumers/runners/sink"
	"github.com/taskole/revshare/consumers/topology"
)

func sinkCommand() command {
	return command{
		name:        "sink",
		summary:     "copy all topics into ClickHouse raw tables (exactly once)",
		help:        "copy every contract topic (read_committed) into ClickHouse's raw tables, exactly once, resuming from ClickHouse",
		metricsAddr: "127.0.0.1:9465", // ledger :9464, sink :9465, payouts :9466
		flags:       sinkFlags,
	}
}

// sinkFlags registers the flags of `taskole sink`.
func sinkFlags(fs *flag.FlagSet) action {
	group := fs.String("group", topology.GroupSink, "Kafka consumer group (--topic-prefix is prepended)")
	rows := fs.Int("batch-rows", 50_000, "flush after this many rows (max 1,000,000: one INSERT must stay one part)")
	interval := fs.Duration("batch-interval", time.Second, "flush at least this often")
	shutdown := fs.Duration("shutdown-timeout", 10*time.Second, "on SIGTERM, how long the final flush and leaving the group may take")
	bf := registerBounds(fs)
	return func(ctx context.Context, c *common) error {
		bounds, err := bf.bounds()
		if err != nil {
			return err
		}
		return serveRunner(ctx, c, "sink", func(reg *prometheus.Registry) (*sink.Sink, error) {
			kopts, err := c.kafkaSecurity()
			if err != nil {
				return nil, err
			}
			chc, err := c.clickhouse()
			if err != nil {
				return nil, err
			}
			return sink.New(sink.Config{
				ClientOpts:      kopts,
				Username:        chc.User,
				Password:        chc.Password,
				TLS:             chc.TLS,
				Brokers:         c.brokerList(),
				Topics:          topology.New(c.topicPrefix).Names(),
				Group:           c.topicPrefix + *group,
				ClickHouseAddr:  c.chAddr,
				Database:        c.chDatabase,
				BatchRows:       *rows,
				BatchInterval:   *interval,
				ShutdownTimeout: *shutdown,
				Bounds:          bounds,
				Instance:        c.instance(),
				Logger:          c.log,
				Registerer:      reg,
			})
		})
	}
}
