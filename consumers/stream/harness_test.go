package stream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/metrictest"
)

// The fault-injection harness: a kfake cluster, a per-key counter Handler and read-committed
// readers of its outputs and changelog.
//
// Input record i of key k has the value "k-i" (i counts from 1 per key). The handler adds one
// to the key's counter and emits "k-i=n@instance", so an exactly-once run emits "k-i=i" for
// every input exactly once, and its changelog ends with counter = inputs per key. A record
// handled twice against un-rolled-back state, or lost, shows up as a wrong n or a wrong count.

// counter is the test state: inputs seen per key.
type counter struct{ n int64 }

// countHandler is the test Handler. hook, when set, runs first in Handle (and may block it).
type countHandler struct {
	inst string
	out  string
	hook func(inst string, rec *kgo.Record)
}

func (h *countHandler) Handle(_ context.Context, rec *kgo.Record, tx *Tx[counter]) error {
	if h.hook != nil {
		h.hook(h.inst, rec)
	}
	s := tx.State(string(rec.Key))
	s.n++
	tx.Produce(&kgo.Record{Topic: h.out, Key: rec.Key, Value: fmt.Appendf(nil, "%s=%d@%s", rec.Value, s.n, h.inst)})
	return nil
}

func (h *countHandler) AppendState(dst []byte, s *counter) ([]byte, error) {
	return binary.AppendVarint(dst, s.n), nil
}

func (h *countHandler) UnmarshalState(s *counter, data []byte) error {
	n, k := binary.Varint(data)
	if k <= 0 || k != len(data) {
		return fmt.Errorf("bad counter %x", data)
	}
	s.n = n
	return nil
}

func (h *countHandler) EmptyState(s *counter) bool { return s.n == 0 }

const (
	fxPartitions = 2
	fxKeys       = 6
	fxGroup      = "g"
	fxIn         = "in"
	fxChangelog  = "changelog"
	fxOut        = "out"
)

// fixture is one kfake cluster with the input, changelog and output topics.
type fixture struct {
	t     *testing.T
	c     *kfake.Cluster
	prod  *kgo.Client
	adm   *kadm.Client
	mu    sync.Mutex
	seq   map[string]int // inputs produced per key
	parts map[string]int32
	hook  func(inst string, rec *kgo.Record)
	eager bool // processors decode restored state during the restore (default: lazily)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.SeedTopics(fxPartitions, fxIn, fxChangelog, fxOut),
		kfake.GroupMinSessionTimeout(100*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	return &fixture{t: t, c: c, prod: prod, adm: kadm.NewClient(prod), seq: map[string]int{}, parts: map[string]int32{}}
}

func testLog() *slog.Logger {
	lvl := slog.LevelError
	if os.Getenv("STREAM_TEST_DEBUG") != "" {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

// produce writes n inputs, round robin over the keys, and waits for their acks.
func (f *fixture) produce(n int) {
	f.t.Helper()
	f.mu.Lock()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		k := fmt.Sprintf("k%d", i%fxKeys)
		f.seq[k]++
		recs[i] = &kgo.Record{Topic: fxIn, Key: []byte(k), Value: fmt.Appendf(nil, "%s-%d", k, f.seq[k])}
	}
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		f.t.Fatalf("producing inputs: %v", err)
	}
	f.mu.Lock()
	for _, r := range recs {
		f.parts[string(r.Key)] = r.Partition
	}
	f.mu.Unlock()
}

// partitionOf returns the input partition of key.
func (f *fixture) partitionOf(key string) int32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.parts[key]
}

// instance is one running Processor.
type instance struct {
	name   string
	p      *Processor[counter]
	reg    *prometheus.Registry
	cancel context.CancelFunc
	exited chan struct{} // closed when Run returned
	err    error         // Run's error, valid after exited
}

// start runs a processor named name (transactional id g-name, kgo client id name).
func (f *fixture) start(name string) *instance {
	f.t.Helper()
	in := f.prepare(name)
	f.run(in)
	return in
}

// prepare creates start's processor without running it.
func (f *fixture) prepare(name string) *instance {
	f.t.Helper()
	reg := prometheus.NewRegistry()
	p, err := New(Config{
		Brokers:            f.c.ListenAddrs(),
		Name:               name,
		Group:              fxGroup,
		Inputs:             []string{fxIn},
		Changelog:          fxChangelog,
		LazyRestore:        !f.eager,
		CommitInterval:     100 * time.Millisecond,
		MaxBatchRecords:    20,
		TransactionTimeout: 6 * time.Second,
		SessionTimeout:     1500 * time.Millisecond,
		RebalanceTimeout:   3 * time.Second,
		Logger:             testLog().With("instance", name),
		Registry:           reg,
		ClientOpts: []kgo.Opt{
			kgo.ClientID(name),
			kgo.FetchMaxWait(100 * time.Millisecond),
			kgo.HeartbeatInterval(200 * time.Millisecond),
		},
	}, &countHandler{inst: name, out: fxOut, hook: f.hook})
	if err != nil {
		f.t.Fatal(err)
	}
	return &instance{name: name, p: p, reg: reg, exited: make(chan struct{})}
}

// run starts a prepared instance's Run.
func (f *fixture) run(in *instance) {
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	go func() {
		in.err = in.p.Run(ctx)
		close(in.exited)
	}()
	f.t.Cleanup(func() { in.stop() })
}

// stop cancels Run, waits for it and closes the processor; it returns Run's error.
func (in *instance) stop() error {
	if in.cancel == nil {
		return nil
	}
	in.cancel()
	in.cancel = nil
	select {
	case <-in.exited:
	case <-time.After(15 * time.Second):
		return errors.New("run did not return within 15s of cancelling")
	}
	in.p.Close()
	return in.err
}

// txns returns the processor's transaction count with the given result.
func (in *instance) txns(t *testing.T, result string) float64 {
	t.Helper()
	return metrictest.Sum(t, in.reg, "taskole_stream_transactions_total", "result", result)
}

// finish waits (up to timeout) until the group has committed every input, stops every
// instance (failing the test on an error of Run) and returns f.check's outputs.
func (f *fixture) finish(timeout time.Duration, ins ...*instance) []output {
	f.t.Helper()
	f.waitCommitted(timeout)
	for _, in := range ins {
		if err := in.stop(); err != nil {
			f.t.Fatalf("Run %s: %v", in.name, err)
		}
	}
	return f.check()
}

// waitFor polls cond every 20ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// committedAll reports whether the group's committed offsets reach the input's end.
func (f *fixture) committedAll() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ends, err := f.adm.ListEndOffsets(ctx, fxIn)
	if err != nil {
		return false
	}
	committed, err := f.adm.FetchOffsets(ctx, fxGroup)
	if err != nil {
		return false
	}
	all := true
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(fxIn, o.Partition)
		all = all && (o.Offset == 0 || ok && c.At == o.Offset)
	})
	return all
}

// waitCommitted waits until the group has committed every input produced.
func (f *fixture) waitCommitted(timeout time.Duration) {
	f.t.Helper()
	waitFor(f.t, timeout, "the group to commit every input", f.committedAll)
}

// members returns the group's state and its members' client ids by member id.
func (f *fixture) members() (string, map[string]string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	gs, err := f.adm.DescribeGroups(ctx, fxGroup)
	if err != nil {
		return "", nil
	}
	g := gs[fxGroup]
	m := map[string]string{}
	for _, mem := range g.Members {
		m[mem.MemberID] = mem.ClientID
	}
	return g.State, m
}

// waitStable waits until the group is stable with exactly the given client ids as members
// and returns their member ids by client id.
func (f *fixture) waitStable(timeout time.Duration, clients ...string) map[string]string {
	f.t.Helper()
	var ids map[string]string
	waitFor(f.t, timeout, fmt.Sprintf("group stable with %v", clients), func() bool {
		state, m := f.members()
		if state != "Stable" || len(m) != len(clients) {
			return false
		}
		ids = map[string]string{}
		for mid, cid := range m {
			ids[cid] = mid
		}
		for _, c := range clients {
			if ids[c] == "" {
				return false
			}
		}
		return true
	})
	return ids
}

// readCommitted reads topic read_committed from the start to its end once no transaction is
// open on it.
func (f *fixture) readCommitted(topic string) []*kgo.Record {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ends map[int32]int64
	waitFor(f.t, 10*time.Second, "no open transaction on "+topic, func() bool {
		hwm, err := f.adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return false
		}
		lso, err := f.adm.ListCommittedOffsets(ctx, topic)
		if err != nil {
			return false
		}
		ends = map[int32]int64{}
		stable := true
		hwm.Each(func(o kadm.ListedOffset) {
			l, ok := lso.Lookup(topic, o.Partition)
			stable = stable && ok && l.Offset == o.Offset
			ends[o.Partition] = o.Offset
		})
		return stable
	})
	consume := map[int32]kgo.Offset{}
	for p, e := range ends {
		if e > 0 {
			consume[p] = kgo.NewOffset().AtStart()
		}
	}
	if len(consume) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.c.ListenAddrs()...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: consume}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords(),
		kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		f.t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for len(consume) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			f.t.Fatalf("reading %s: %v (left: %v)", topic, ctx.Err(), consume)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset >= ends[r.Partition] {
				return
			}
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
			if r.Offset == ends[r.Partition]-1 {
				delete(consume, r.Partition)
			}
		})
	}
	return out
}

// output is one decoded output record.
type output struct {
	id   string // input value "k-i"
	n    int64  // counter after the input
	inst string // processor that emitted it
	part int32  // input partition of its key
}

// check asserts the exactly-once outcome: one output per input with the key's running count,
// and a changelog whose last state per key counts every input. It returns the outputs.
func (f *fixture) check() []output {
	f.t.Helper()
	f.mu.Lock()
	want := map[string]int64{}
	var ids []string
	for k, n := range f.seq {
		want[k] = int64(n)
		for i := 1; i <= n; i++ {
			ids = append(ids, fmt.Sprintf("%s-%d", k, i))
		}
	}
	f.mu.Unlock()
	sort.Strings(ids)

	var outs []output
	var got []string
	wrong := 0
	for _, r := range f.readCommitted(fxOut) {
		v, inst, _ := strings.Cut(string(r.Value), "@")
		id, ns, _ := strings.Cut(v, "=")
		n, err := strconv.ParseInt(ns, 10, 64)
		if err != nil {
			f.t.Fatalf("bad output %q", r.Value)
		}
		k, is, _ := strings.Cut(id, "-")
		if i, _ := strconv.ParseInt(is, 10, 64); (i != n || k != string(r.Key)) && wrong < 10 {
			wrong++
			f.t.Errorf("output %q (key %s): input %s was handled against count %d, want %d", r.Value, r.Key, id, n-1, i-1)
		}
		outs = append(outs, output{id: id, n: n, inst: inst, part: f.partitionOf(k)})
		got = append(got, id)
	}
	sort.Strings(got)
	if !slices.Equal(got, ids) {
		f.t.Errorf("outputs are not every input exactly once:\n missing: %v\n extra:   %v", diff(ids, got), diff(got, ids))
	}

	state := map[string]int64{}
	h := &countHandler{}
	for _, r := range f.readCommitted(fxChangelog) {
		if len(r.Key) == 0 || r.Key[0] != stateKeyPrefix {
			continue
		}
		var s counter
		if r.Value != nil {
			if err := h.UnmarshalState(&s, r.Value); err != nil {
				f.t.Fatal(err)
			}
		}
		if p := f.partitionOf(string(r.Key[1:])); p != r.Partition {
			f.t.Errorf("state of %s on changelog partition %d, its input partition is %d", r.Key[1:], r.Partition, p)
		}
		state[string(r.Key[1:])] = s.n
	}
	if !mapsEqual(state, want) {
		f.t.Errorf("changelog state = %v, want %v", state, want)
	}
	return outs
}

// diff returns the elements of a (sorted) missing from b (sorted), as multisets.
func diff(a, b []string) []string {
	var d []string
	i, j := 0, 0
	for i < len(a) {
		switch {
		case j < len(b) && a[i] == b[j]:
			i++
			j++
		case j < len(b) && b[j] < a[i]:
			j++
		default:
			d = append(d, a[i])
			i++
		}
	}
	return d
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
