package stream

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/itest"
)

// TestPartitionsGaugeAfterBrokerOutage kills a private broker (kill -9) for longer than the
// session timeout, so the member's session ends and the group assigns the partitions anew,
// then starts it again: once the processor is ready again, taskole_stream_partitions must
// equal the partitions it owns (all of them: it is the only member), and it must stay ready
// only while it owns them restored. Before the fix the gauge read 0 after such an outage while
// /readyz answered ready.
func TestPartitionsGaugeAfterBrokerOutage(t *testing.T) {
	if os.Getenv("TASKOLE_RECOVERY") != "1" {
		t.Skip("broker outage test: run with `make test-recovery` (TASKOLE_RECOVERY=1)")
	}
	br := itest.PrivateKafka(t)
	brokers := []string{br.Addr}
	const parts = 3
	in, changelog, out := itest.Topic(t, "in"), itest.Topic(t, "changelog"), itest.Topic(t, "out")
	itest.CreateTopics(t, brokers, parts, in, changelog, out)

	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	produceN := func(n int, tag string) {
		t.Helper()
		recs := make([]*kgo.Record, n)
		for i := range recs {
			recs[i] = &kgo.Record{Topic: in, Key: fmt.Appendf(nil, "k%d", i%7), Value: fmt.Appendf(nil, "%s-%d", tag, i)}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("producing: %v", err)
		}
	}

	group := "g-" + itest.Unique(t)
	adm := kadm.NewClient(prod)
	reg := prometheus.NewRegistry()
	p, err := New(Config{
		Brokers:            brokers,
		Name:               "outage",
		Group:              group,
		Inputs:             []string{in},
		Changelog:          changelog,
		TransactionalID:    "tx-" + itest.Unique(t),
		CommitInterval:     100 * time.Millisecond,
		TransactionTimeout: 10 * time.Second,
		SessionTimeout:     6 * time.Second, // the broker's minimum: the outage below is 3× longer
		Logger:             testLog(),
		Registry:           reg,
	}, &countHandler{inst: "outage", out: out})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan error, 1)
	go func() { exited <- p.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(60 * time.Second):
			t.Error("Run did not return within 60s of cancelling")
		}
		p.Close()
	}()
	gauge := func() float64 { return metricValueOf(t, reg, "taskole_stream_partitions") }
	// owned is what the group's coordinator says this member was assigned.
	owned := func() int {
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer dcancel()
		gs, err := adm.DescribeGroups(dctx, group)
		if err != nil || gs[group].State != "Stable" {
			return -1
		}
		n := 0
		for _, m := range gs[group].Members {
			if ca, ok := m.Assigned.AsConsumer(); ok {
				for _, tp := range ca.Topics {
					n += len(tp.Partitions)
				}
			}
		}
		return n
	}

	produceN(50, "a")
	waitFor(t, 90*time.Second, "ready with every partition", func() bool { return p.Ready() && gauge() == parts })
	// Idle before the outage: everything committed, so nothing is redone after it (the first
	// transaction after a lost session aborts, and its rollback restores: not ready meanwhile).
	waitFor(t, 60*time.Second, "the input committed", func() bool { return committedAt(t, adm, group, in) == 50 })

	br.Kill()
	// The session ends while the broker is down: the member owns nothing, so it is not ready.
	waitFor(t, 60*time.Second, "not ready while the broker is down", func() bool { return !p.Ready() })
	if g := gauge(); g != 0 {
		t.Errorf("taskole_stream_partitions = %v after the session was lost, want 0", g)
	}
	time.Sleep(20 * time.Second)
	br.Start()

	// Ready again with no new input (an idle member): the gauge must say what it owns, and
	// readiness must agree, for as long as we look.
	waitFor(t, 120*time.Second, "ready after the outage", func() bool { return p.Ready() && owned() == parts })
	for range 30 {
		if g, o := gauge(), owned(); !p.Ready() || g != float64(o) || o != parts {
			t.Fatalf("after the outage: ready %v, taskole_stream_partitions = %v, owning %d of %d partitions", p.Ready(), g, o, parts)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// And it processes again: new input is committed.
	produceN(50, "b")
	waitFor(t, 60*time.Second, "the new input committed", func() bool { return committedAt(t, adm, group, in) == 100 })
	select {
	case err := <-exited:
		t.Fatalf("processor exited during the outage: %v", err)
	default:
	}
}

// committedAt returns the sum of the group's committed offsets on topic.
func committedAt(t *testing.T, adm *kadm.Client, group, topic string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	os, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return -1
	}
	var n int64
	os.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			n += o.At
		}
	})
	return n
}

// metricValueOf returns the value of the unlabelled gauge name in reg (0 when absent).
func metricValueOf(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}
