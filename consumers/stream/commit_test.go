package stream

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/metrictest"
)

// metaHandler counts its records per partition in metadata, and its Committer writes the count
// to the output partition of the same number at every commit.
type metaHandler struct{ countHandler }

func (h *metaHandler) Handle(ctx context.Context, rec *kgo.Record, tx *Tx[counter]) error {
	n, _ := binary.Varint(tx.Meta("seen"))
	tx.SetMeta("seen", binary.AppendVarint(nil, n+1))
	return h.countHandler.Handle(ctx, rec, tx)
}

func (h *metaHandler) BeforeCommit(c *Commit) error {
	for _, m := range c.Changed() {
		c.Produce(&kgo.Record{Topic: h.out, Partition: m.Partition, Value: fmt.Appendf(nil, "%s=%x", m.Name, m.Value)})
	}
	return nil
}

// TestMetaAndCommitter: metadata survives a restart (restored from the changelog) and the
// Committer's records commit on the partition they name, after the transaction's outputs.
func TestMetaAndCommitter(t *testing.T) {
	f := newFixture(t)
	regs := map[string]*prometheus.Registry{}
	run := func(name string) *instance {
		regs[name] = prometheus.NewRegistry()
		p, err := New(Config{Brokers: f.c.ListenAddrs(), Name: name, Group: fxGroup, Inputs: []string{fxIn},
			Changelog: fxChangelog, CommitInterval: 100 * time.Millisecond, MaxBatchRecords: 7,
			TransactionTimeout: 6 * time.Second, SessionTimeout: 1500 * time.Millisecond, RebalanceTimeout: 3 * time.Second,
			Logger: testLog(), Registry: regs[name],
			ClientOpts: []kgo.Opt{kgo.FetchMaxWait(100 * time.Millisecond), kgo.HeartbeatInterval(200 * time.Millisecond)}},
			&metaHandler{countHandler{inst: name, out: fxOut}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		in := &instance{name: name, p: p, cancel: cancel, exited: make(chan struct{})}
		go func() { in.err = p.Run(ctx); close(in.exited) }()
		t.Cleanup(func() { in.stop() })
		return in
	}
	a := run("a")
	f.produce(30)
	f.waitCommitted(20 * time.Second)
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	b := run("b")
	f.produce(30)
	f.waitCommitted(20 * time.Second)
	if err := b.stop(); err != nil {
		t.Fatal(err)
	}
	perPart := map[int32]int64{}
	for k := range fxKeys {
		perPart[f.partitionOf(fmt.Sprintf("k%d", k))] += 10
	}
	last := map[int32]string{}
	// Outputs are keyed like the inputs on a topic of the same partition count, so the outputs of
	// input partition p land on output partition p, before the marker of their transaction.
	outputs := map[int32]int{} // data outputs on each partition since its last marker
	var markers, data float64
	for _, r := range f.readCommitted(fxOut) {
		if r.Key == nil {
			last[r.Partition] = string(r.Value)
			outputs[r.Partition] = 0
			markers++
			continue
		}
		outputs[r.Partition]++
		data++
	}
	// The counters tell the Committer's records apart from the handler's: what a run over the
	// same input wrote is records_out - committer_records, however it was cut into transactions.
	var added, out float64
	for _, reg := range regs {
		added += metrictest.Sum(t, reg, "taskole_stream_committer_records_total", "topic", fxOut)
		out += metrictest.Sum(t, reg, "taskole_stream_records_out_total", "topic", fxOut)
	}
	if added != markers || out-added != data {
		t.Errorf("counters: %v committer records and %v handler records of %v out; the topic holds %v markers and %v outputs",
			added, out-added, out, markers, data)
	}
	for p, n := range perPart {
		if want := fmt.Sprintf("seen=%x", binary.AppendVarint(nil, n)); last[p] != want {
			t.Errorf("partition %d: last marker %q, want %q (metadata lost across the restart?)", p, last[p], want)
		}
	}
	for p, n := range outputs {
		if n != 0 {
			t.Errorf("partition %d: %d outputs after the last marker of the last transaction", p, n)
		}
	}
}

// TestRestoredGaugesWhileIdle: an instance that restores its partitions and then gets no input
// reports the restored state at once (the assignment wakes its loop; its gauges used to stay 0
// until a first record was fetched).
func TestRestoredGaugesWhileIdle(t *testing.T) {
	f := newFixture(t)
	a := f.start("a")
	f.produce(30)
	f.waitCommitted(20 * time.Second)
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	b := f.start("b")
	deadline := time.Now().Add(10 * time.Second)
	var keys float64
	for time.Now().Before(deadline) {
		if keys = metricValueOf(t, b.reg, "taskole_stream_state_keys"); keys == fxKeys {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("idle restored instance reports %v state keys, want %d", keys, fxKeys)
}

// TestSetMetaKeepsCommittedBytes: SetMeta reuses a name's bytes only within the transaction
// that first set them; the value a committed transaction wrote (still held by its changelog
// record or shown to its Committer) is never written again.
func TestSetMetaKeepsCommittedBytes(t *testing.T) {
	pt := newPart[counter](0, &countHandler{}, false)
	tx := &Tx[counter]{p: pt}
	tx.SetMeta("seen", []byte("one"))
	first := tx.Meta("seen")
	tx.SetMeta("seen", []byte("two"))
	if got := string(tx.Meta("seen")); got != "two" {
		t.Fatalf("Meta after a second SetMeta = %q, want %q", got, "two")
	}
	if &first[0] != &tx.Meta("seen")[0] {
		t.Errorf("a second SetMeta in the same transaction allocated new bytes")
	}
	held := tx.Meta("seen") // what the commit hands to the changelog record and the Committer
	clear(pt.metaDirty)     // the transaction committed (Processor.end)
	tx.SetMeta("seen", []byte("six"))
	if string(held) != "two" {
		t.Errorf("the committed value changed to %q after the next transaction's SetMeta, want %q", held, "two")
	}
	if got := string(tx.Meta("seen")); got != "six" {
		t.Errorf("Meta = %q, want %q", got, "six")
	}
}
