package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/itest"
)

func TestPasses(t *testing.T) {
	for _, tc := range []struct {
		committed, end int64
		want           passage
	}{
		{0, 0, passed},
		{5, 5, passed},
		{6, 5, passed},
		{4, 5, ifMarker},
		{0, 1, ifMarker},
		{3, 5, ifMarker},
		{0, 2, ifMarker},
		{0, maxMarkerRange, ifMarker},
		{0, maxMarkerRange + 1, notPassed},
	} {
		if got := passes(tc.committed, tc.end); got != tc.want {
			t.Errorf("passes(%d, %d) = %d, want %d", tc.committed, tc.end, got, tc.want)
		}
	}
}

// TestRangeScan pins what counts as committed data below an end offset: plain records and
// records of committed transactions do; markers and aborted transactions' records do not.
func TestRangeScan(t *testing.T) {
	data := func(pid int64) *kgo.Record { return &kgo.Record{ProducerID: pid} }
	ctl := func(pid int64, typ uint16) *kgo.Record {
		return &kgo.Record{ProducerID: pid, Key: []byte{0, 0, byte(typ >> 8), byte(typ)}}
	}
	plain := &kgo.Record{ProducerID: -1}
	for _, tc := range []struct {
		name      string
		recs      func() []*kgo.Record
		committed bool
		open      int
	}{
		{"commit marker alone", func() []*kgo.Record { return []*kgo.Record{ctl(7, 1)} }, false, 0},
		{"aborted record and its marker", func() []*kgo.Record { return []*kgo.Record{data(7), ctl(7, 0)} }, false, 0},
		{"committed record and its marker", func() []*kgo.Record { return []*kgo.Record{data(7), ctl(7, 1)} }, true, 0},
		{"record of an open transaction", func() []*kgo.Record { return []*kgo.Record{data(7)} }, false, 1},
		{"plain record", func() []*kgo.Record { return []*kgo.Record{plain} }, true, 0},
		{"aborted, then another producer's commit", func() []*kgo.Record { return []*kgo.Record{data(7), ctl(7, 0), ctl(8, 1)} }, false, 0},
	} {
		sc := &rangeScan{open: map[int64]bool{}}
		for _, r := range tc.recs() {
			if r.ProducerID >= 0 {
				if len(r.Key) == 4 {
					r.Attrs = kgo.NewRecordAttrs(kgo.RecordAttrsOpts{Transactional: true, Control: true})
				} else {
					r.Attrs = kgo.NewRecordAttrs(kgo.RecordAttrsOpts{Transactional: true})
				}
			}
			sc.add(r)
		}
		if sc.committed != tc.committed || len(sc.open) != tc.open {
			t.Errorf("%s: committed %v open %d, want %v %d", tc.name, sc.committed, len(sc.open), tc.committed, tc.open)
		}
	}
}

// TestBarrier runs the barrier on the real broker: a group one record short of a plain
// topic's end has not passed it, one record short of a transactional topic's end (the commit
// marker) has; and a group that commits only when the upstream group passed, on a topic the
// upstream wrote in response, is waited for in a second round.
func TestBarrier(t *testing.T) {
	brokers := itest.Kafka(t)
	plain, txn, down := itest.Topic(t, "plain"), itest.Topic(t, "txn"), itest.Topic(t, "down")
	itest.CreateTopics(t, brokers, 1, plain, txn, down)
	up, dn := "up-"+itest.Unique(t), "down-"+itest.Unique(t)
	cl := itest.Client(t, brokers)
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	defer func() { _, _ = adm.DeleteGroups(context.Background(), up, dn) }()

	for i := range 3 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: plain, Value: []byte{byte(i)}}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	tx := itest.Client(t, brokers, kgo.TransactionalID(itest.Unique(t)))
	if err := tx.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := tx.ProduceSync(ctx, &kgo.Record{Topic: txn, Value: []byte{byte(i)}}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	commit := func(group string, at map[string]int64) {
		t.Helper()
		offs := kadm.Offsets{}
		for topic, o := range at {
			offs.AddOffset(topic, 0, o, -1)
		}
		resp, err := adm.CommitOffsets(ctx, group, offs)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatalf("committing %v for %s: %v", at, group, err)
		}
	}
	// Both one short of the end (3): data on plain, the commit marker on txn.
	commit(up, map[string]int64{plain: 2, txn: 2})
	commit(dn, map[string]int64{down: 0})

	b := newBarrier(cl, []kgo.Opt{kgo.SeedBrokers(brokers...)}, []string{up, dn})
	snap, err := b.stableEnds(ctx, map[string][]string{up: {plain, txn}})
	if err != nil {
		t.Fatal(err)
	}
	if snap[tp{plain, 0}] != 3 || snap[tp{txn, 0}] != 3 {
		t.Fatalf("end offsets %v, want 3 and 3 (2 records + marker)", snap)
	}
	behind, err := b.behind(ctx, up, []string{plain, txn}, snap)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(behind, " "); got != plain+"/0:2<3" {
		t.Errorf("behind = %q, want only %s/0 (the marker on %s counts as passed)", got, plain, txn)
	}
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	err = b.wait(short, t.Logf)
	cancelShort()
	if err == nil {
		t.Fatal("barrier passed while a group was a record behind")
	}

	// The upstream group catches up and "writes" a record downstream in response; the
	// downstream group commits it a moment later. The barrier must wait for that second hop.
	go func() {
		time.Sleep(time.Second)
		// As in a consumer's transaction: the output is in the log before the offsets commit.
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: down, Value: []byte("x")}).FirstErr(); err != nil {
			t.Error(err)
			return
		}
		commit(up, map[string]int64{plain: 3, txn: 2})
		time.Sleep(2 * time.Second)
		commit(dn, map[string]int64{down: 1})
	}()
	var log []string
	if err := b.wait(ctx, func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)) }); err != nil {
		t.Fatalf("barrier: %v (log %q)", err, log)
	}
	offs, err := adm.FetchOffsets(ctx, dn)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := offs.Lookup(down, 0); o.At != 1 {
		t.Errorf("barrier returned before the downstream group passed the upstream's output (committed %d, log %q)", o.At, log)
	}
}
