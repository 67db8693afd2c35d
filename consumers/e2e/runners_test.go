package e2e

import (
	"log/slog"
	"testing"
	"time"

	"github.com/taskole/revshare/consumers/runners/ledger"
	"github.com/taskole/revshare/consumers/runners/payouts"
	"github.com/taskole/revshare/consumers/runners/sink"
	"github.com/taskole/revshare/schemas"
)

// The consumers of an end-to-end run, as every test here sets them up: group <group>-<runner>,
// commits and batches every 200 ms, no logs. Run them with itest.Start.

// newLedger returns the ledger instance called instance on partitions co-partitions.
func newLedger(t *testing.T, brokers []string, topics schemas.Topics, group, instance string, partitions int32) *ledger.Runner {
	t.Helper()
	led, err := ledger.New(ledger.Config{Brokers: brokers, Topics: topics, Group: group + "-ledger",
		Instance: instance, Partitions: partitions, CommitInterval: 200 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return led
}

// newPayouts returns the payouts consumer.
func newPayouts(t *testing.T, brokers []string, topics schemas.Topics, group string) *payouts.Runner {
	t.Helper()
	po, err := payouts.New(payoutsConfig(brokers, topics, group))
	if err != nil {
		t.Fatal(err)
	}
	return po
}

func payoutsConfig(brokers []string, topics schemas.Topics, group string) payouts.Config {
	return payouts.Config{Brokers: brokers, Topics: topics, Group: group + "-payouts",
		CommitInterval: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}
}

// newSink returns a sink called name (its group <group>-<name>) into database db on addr,
// flushing at batchRows rows (0: the default).
func newSink(t *testing.T, brokers []string, topics schemas.Topics, group, name, addr, db string, batchRows int) *sink.Sink {
	t.Helper()
	s, err := sink.New(sink.Config{Brokers: brokers, Topics: topics, Group: group + "-" + name, Instance: name,
		ClickHouseAddr: addr, Database: db, BatchRows: batchRows, BatchInterval: 200 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
