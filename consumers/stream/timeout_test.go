package stream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/consumers/testkit/metrictest"
	"github.com/taskole/revshare/schemas"
)

// The transactions of these tests outlive their timeout on purpose, against the real broker
// (Kafka 4.1, transaction.version 2): a handler blocks inside an open transaction that has
// produced records until the broker reports it aborted (its periodic check of timed-out
// transactions runs every 10 s), which bumps the producer epoch. Before renew.go the next
// produce failed with INVALID_PRODUCER_EPOCH, classified fatal, and Run returned it; now the
// runner replaces its client, restores its partitions, goes on, and the outcome is still
// exactly once.

// txnTimeoutForTest is far below the default, so the broker aborts the blocked transaction
// at its next check.
const txnTimeoutForTest = time.Second

// awaitBrokerAbort returns false unless the transaction of txnID is open on the broker within
// 2 s (it has produced something); else it waits until the broker ended it — the transaction
// outlived its timeout, so that is the broker's abort — and returns true.
func awaitBrokerAbort(t *testing.T, adm *kadm.Client, txnID string) bool {
	state := func() (string, int16) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		d, err := adm.DescribeTransactions(ctx, txnID)
		if err != nil {
			t.Logf("describing transaction %s: %v", txnID, err)
			return "", 0
		}
		tx, ok := d[txnID]
		if !ok || tx.Err != nil {
			t.Logf("describing transaction %s: %v %v", txnID, ok, tx.Err)
			return "", 0
		}

		return tx.State, tx.ProducerEpoch
	}
	// The outputs handled so far in this transaction are produced in the background: give
	// them a moment to reach the broker.
	st, epoch := state()
	for i := 0; st != "Ongoing" && i < 20; i++ {
		time.Sleep(100 * time.Millisecond)
		st, epoch = state()
	}
	if st != "Ongoing" {
		return false
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if s, e := state(); s != "Ongoing" || e != epoch {
			t.Logf("transaction %s: %s (epoch %d) → %s (epoch %d) after the timeout", txnID, st, epoch, s, e)
			return true
		}
	}
	t.Errorf("the broker did not abort transaction %s within 2m of its %v timeout", txnID, txnTimeoutForTest)
	return true
}

// keyedInputs returns n records of topic in over keys keys (k0, k1, …), each valued
// "<key>-<sequence number of the key>", the sequence continuing seq.
func keyedInputs(in string, n, keys int, seq map[string]int) []*kgo.Record {
	recs := make([]*kgo.Record, n)
	for i := range recs {
		k := fmt.Sprintf("k%d", i%keys)
		seq[k]++
		recs[i] = &kgo.Record{Topic: in, Key: []byte(k), Value: fmt.Appendf(nil, "%s-%d", k, seq[k])}
	}
	return recs
}

// producedInputs produces recs and returns the test's context, ended after 4 minutes or at
// its cleanup.
func producedInputs(t *testing.T, prod *kgo.Client, recs []*kgo.Record) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	produceInputs(ctx, t, prod, recs)
	return ctx
}

// produceInputs produces recs synchronously, failing the test on an error.
func produceInputs(ctx context.Context, t *testing.T, prod *kgo.Client, recs []*kgo.Record) {
	t.Helper()
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("producing inputs: %v", err)
	}
}

// blockedRun is a consumer (what: Run or Judge) whose handler blocks once (blocked) until the
// broker aborted its transaction.
type blockedRun struct {
	what      string
	exited    <-chan error
	stop      func()
	blocked   *atomic.Int64
	adm       *kadm.Client
	group, in string
	reg       *prometheus.Registry
	consumer  string // the producer-renewals label
}

// awaitRenewed waits until r's group has caught up on its input after the block, stops r and
// checks that it returned no error and renewed its producer at least once.
func awaitRenewed(ctx context.Context, t *testing.T, r blockedRun) {
	t.Helper()
	for done := false; !done; {
		select {
		case err := <-r.exited:
			t.Fatalf("%s returned before its inputs were handled (blocked %d): %v", r.what, r.blocked.Load(), err)
		case <-ctx.Done():
			ok, lag := itest.CaughtUp(context.Background(), r.adm, r.group, 0, r.in)
			t.Fatalf("inputs not handled in time (blocked %d, caught up %v, %s)", r.blocked.Load(), ok, lag)
		case <-time.After(200 * time.Millisecond):
			ok, _ := itest.CaughtUp(ctx, r.adm, r.group, 0, r.in)
			done = ok && r.blocked.Load() > 0
		}
	}
	r.stop()
	if err := <-r.exited; err != nil {
		t.Fatalf("%s: %v", r.what, err)
	}
	if got := counterValue(t, r.reg, "taskole_stream_producer_renewals_total", r.consumer); got < 1 {
		t.Errorf("taskole_stream_producer_renewals_total = %v, want ≥ 1", got)
	}
}

// counterValue returns the value of counter name in reg whose consumer label is consumer.
func counterValue(t *testing.T, reg *prometheus.Registry, name, consumer string) float64 {
	t.Helper()
	return metrictest.Sum(t, reg, name, "consumer", consumer)
}

// readAllCommitted reads topic read_committed from the start to its last stable offsets.
func readAllCommitted(t *testing.T, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return itest.ReadCommitted(ctx, t, brokers, topic, itest.LastStable)
}

// TestProcessorTransactionOutlivesTimeout blocks the handler inside an open transaction until
// the broker aborted it; the processor must keep running and the outputs and the changelog
// must be exactly once (one output per input, each handled against the count before it).
func TestProcessorTransactionOutlivesTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the broker's abort of a timed-out transaction")
	}
	brokers := itest.Kafka(t)
	const parts, keys, n = 2, 6, 120
	in, changelog, out := itest.Topic(t, "in"), itest.Topic(t, "changelog"), itest.Topic(t, "out")
	itest.CreateTopics(t, brokers, parts, in, changelog, out)
	prod := itest.Client(t, brokers)
	adm := kadm.NewClient(prod)
	seq := map[string]int{}
	recs := keyedInputs(in, n, keys, seq)
	ctx := producedInputs(t, prod, recs)

	group := "g-" + itest.Unique(t)
	txnID := group + "-timeout"
	var handled, blocked atomic.Int64
	hook := func(_ string, _ *kgo.Record) {
		// Block once, in a transaction that has produced (the broker knows it open).
		if handled.Add(1) >= 5 && blocked.Load() == 0 && awaitBrokerAbort(t, adm, txnID) {
			blocked.Add(1)
		}
	}
	reg := prometheus.NewRegistry()
	p, err := New(Config{
		Brokers:            brokers,
		Name:               "timeout",
		Group:              group,
		TransactionalID:    txnID,
		Inputs:             []string{in},
		Changelog:          changelog,
		CommitInterval:     100 * time.Millisecond,
		MaxBatchRecords:    20,
		TransactionTimeout: txnTimeoutForTest,
		SessionTimeout:     10 * time.Second,
		Logger:             testLog(),
		Registry:           reg,
		ClientOpts:         []kgo.Opt{kgo.FetchMaxWait(100 * time.Millisecond)},
	}, &countHandler{inst: "timeout", out: out, hook: hook})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	exited := make(chan error, 1)
	go func() { exited <- p.Run(runCtx) }()

	awaitRenewed(ctx, t, blockedRun{what: "Run", exited: exited, stop: stop, blocked: &blocked,
		adm: adm, group: group, in: in, reg: reg, consumer: "timeout"})

	checkExactlyOnce(t, brokers, out, changelog, seq)
}

// TestJudgeTransactionOutlivesTimeout blocks the judge inside an open transaction that has
// produced dead letters until the broker aborted it; Judge must keep running, and every
// refused record must have exactly one committed dead letter.
func TestJudgeTransactionOutlivesTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the broker's abort of a timed-out transaction")
	}
	brokers := itest.Kafka(t)
	const n = 40
	in, dlq := itest.Topic(t, "in"), itest.Topic(t, "dlq")
	itest.CreateTopics(t, brokers, 1, in, dlq)
	prod := itest.Client(t, brokers)
	adm := kadm.NewClient(prod)
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: in, Value: fmt.Appendf(nil, "bad-%d", i)}
	}
	ctx := producedInputs(t, prod, recs)

	group := "judge-" + itest.Unique(t)
	txnID := group + "-0"
	var judged, blocked atomic.Int64
	reg := prometheus.NewRegistry()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	exited := make(chan error, 1)
	go func() {
		exited <- Judge(runCtx, JudgeConfig{
			Brokers:            brokers,
			Topics:             []string{in},
			Group:              group,
			TransactionalID:    txnID,
			DLQ:                dlq,
			Consumer:           "judge-test",
			SessionTimeout:     10 * time.Second,
			TransactionTimeout: txnTimeoutForTest,
			Logger:             testLog(),
			Registry:           reg,
		}, func(*kgo.Record) error {
			if judged.Add(1) >= 3 && blocked.Load() == 0 {
				time.Sleep(50 * time.Millisecond) // let kgo send the dead letters so far
				if awaitBrokerAbort(t, adm, txnID) {
					blocked.Add(1)
				}
			}
			return schemas.Refused("test:bad", errors.New("refused"))
		})
	}()

	awaitRenewed(ctx, t, blockedRun{what: "Judge", exited: exited, stop: stop, blocked: &blocked,
		adm: adm, group: group, in: in, reg: reg, consumer: "judge-test-judge"})
	per := map[int64]int{}
	for _, r := range readAllCommitted(t, brokers, dlq) {
		dl, err := schemas.DecodeDeadLetter(r.Value)
		if err != nil {
			t.Fatalf("decoding dead letter: %v", err)
		}
		per[dl.Offset]++
	}
	for off := int64(0); off < n; off++ {
		if per[off] != 1 {
			t.Errorf("record at offset %d has %d dead letters, want 1", off, per[off])
		}
	}
}

// checkExactlyOnce asserts the countHandler's exactly-once outcome: one committed output per
// input (seq: inputs per key), each handled against the key's count before it, and a
// changelog whose last state per key counts every input.
func checkExactlyOnce(t *testing.T, brokers []string, out, changelog string, seq map[string]int) {
	t.Helper()
	var ids, want []string
	for _, r := range readAllCommitted(t, brokers, out) {
		v, _, _ := strings.Cut(string(r.Value), "@")
		id, ns, _ := strings.Cut(v, "=")
		_, is, _ := strings.Cut(id, "-")
		if ns != is {
			t.Errorf("output %q: input %s handled against count %s, want %s", r.Value, id, ns, is)
		}
		ids = append(ids, id)
	}
	for k, c := range seq {
		for i := 1; i <= c; i++ {
			want = append(want, k+"-"+strconv.Itoa(i))
		}
	}
	sort.Strings(ids)
	sort.Strings(want)
	if !slices.Equal(ids, want) {
		t.Errorf("outputs are not every input exactly once:\n missing: %v\n extra:   %v", diff(want, ids), diff(ids, want))
	}
	state := map[string]int64{}
	h := &countHandler{}
	for _, r := range readAllCommitted(t, brokers, changelog) {
		if len(r.Key) == 0 || r.Key[0] != stateKeyPrefix {
			continue
		}
		var s counter
		if err := h.UnmarshalState(&s, r.Value); err != nil {
			t.Fatal(err)
		}
		state[string(r.Key[1:])] = s.n
	}
	for k, c := range seq {
		if state[k] != int64(c) {
			t.Errorf("changelog state of %s = %d, want %d", k, state[k], c)
		}
	}
}

// TestProcessorFencedByTwin starts a second processor with the same transactional id and
// instance id while the first one runs (two processes with the same --instance): the first
// one's next, young transaction fails on the bumped epoch, which must stay fatal (Run returns
// a clear fenced error, it does not renew and fence the twin back); the twin processes every
// input exactly once.
func TestProcessorFencedByTwin(t *testing.T) {
	if testing.Short() {
		t.Skip("integration")
	}
	brokers := itest.Kafka(t)
	const parts, keys = 2, 6
	in, changelog, out := itest.Topic(t, "in"), itest.Topic(t, "changelog"), itest.Topic(t, "out")
	itest.CreateTopics(t, brokers, parts, in, changelog, out)
	prod := itest.Client(t, brokers)
	adm := kadm.NewClient(prod)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	seq := map[string]int{}
	produce := func(n int) {
		t.Helper()
		produceInputs(ctx, t, prod, keyedInputs(in, n, keys, seq))
	}
	group := "g-" + itest.Unique(t)
	start := func(inst string) (*Processor[counter], chan error, context.CancelFunc) {
		p, err := New(Config{
			Brokers:         brokers,
			Name:            "twin",
			Group:           group,
			TransactionalID: group + "-twin",
			Inputs:          []string{in},
			Changelog:       changelog,
			CommitInterval:  100 * time.Millisecond,
			MaxBatchRecords: 20,
			SessionTimeout:  10 * time.Second,
			Logger:          testLog().With("process", inst),
			ClientOpts:      []kgo.Opt{kgo.FetchMaxWait(100 * time.Millisecond)},
		}, &countHandler{inst: inst, out: out})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		runCtx, stop := context.WithCancel(ctx)
		t.Cleanup(stop)
		exited := make(chan error, 1)
		go func() { exited <- p.Run(runCtx) }()
		return p, exited, stop
	}
	caughtUp := func() bool { ok, _ := itest.CaughtUp(ctx, adm, group, 0, in); return ok }

	produce(60)
	_, exitedA, _ := start("a")
	itest.WaitFor(ctx, t, "the first process to catch up", func() (bool, string) { return caughtUp(), "" })
	_, exitedB, stopB := start("b")
	var errA error
	for done := false; !done; {
		produce(12)
		select {
		case errA = <-exitedA:
			done = true
		case err := <-exitedB:
			t.Fatalf("the second process exited: %v", err)
		case <-ctx.Done():
			t.Fatal("the first process was not stopped by the fence")
		case <-time.After(300 * time.Millisecond):
		}
	}
	if errA == nil || Classify(errA) != Fatal || !isEpochError(errA) || !strings.Contains(errA.Error(), "fenced") {
		t.Fatalf("first process: Run = %v (class %v), want a fatal fenced epoch error", errA, Classify(errA))
	}
	t.Logf("first process stopped: %v", errA)
	itest.WaitFor(ctx, t, "the second process to catch up", func() (bool, string) { return caughtUp(), "" })
	stopB()
	if err := <-exitedB; err != nil {
		t.Fatalf("second process: Run: %v", err)
	}
	checkExactlyOnce(t, brokers, out, changelog, seq)
}
