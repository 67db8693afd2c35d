package main

import (
	"context"
	"time"

	"github.com/taskole/revshare/consumers/runners/ops"
	"github.com/taskole/revshare/consumers/runners/sink"
	"github.com/taskole/revshare/consumers/topology"
)

func sinkCommand() command {
	const summary = "copy every contract topic (read_committed) into ClickHouse's raw tables, exactly once, resuming from ClickHouse"
	return command{
		name:    "sink",
		summary: "copy all topics into ClickHouse raw tables (exactly once)",
		run: func(ctx context.Context, args []string) error {
			fs := newFlags("sink", summary)
			var c common
			c.register(fs, "127.0.0.1:9465") // ledger :9464, sink :9465, payouts :9466
			group := fs.String("group", topology.GroupSink, "Kafka consumer group (--topic-prefix is prepended)")
			rows := fs.Int("batch-rows", 50_000, "flush after this many rows (max 1,000,000: one INSERT must stay one part)")
			interval := fs.Duration("batch-interval", time.Second, "flush at least this often")
			shutdown := fs.Duration("shutdown-timeout", 10*time.Second, "on SIGTERM, how long the final flush and leaving the group may take")
			bf := registerBounds(fs)
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			bounds, err := bf.bounds()
			if err != nil {
				return err
			}
			log, err := c.logger("sink")
			if err != nil {
				return err
			}
			kopts, err := c.kafkaSecurity()
			if err != nil {
				return err
			}
			chc, err := c.clickhouse()
			if err != nil {
				return err
			}
			reg := ops.NewRegistry()
			s, err := sink.New(sink.Config{
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
				Logger:          log,
				Registerer:      reg,
			})
			if err != nil {
				return err
			}
			defer s.Close()
			return serve(ctx, &c, "sink", log, reg, s, s.Run)
		},
	}
}
