package payouts_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/runners/payouts"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/consumers/topology"
	"github.com/taskole/revshare/pipelines/statement"
	"github.com/taskole/revshare/schemas"
)

const parts = 3

// ledger is a generated commissions topic as a ledger with one input partition writes it:
// entries in occurred_at order, each with its source watermark header, a progress marker on
// every partition after each chunk, and a last marker at end, which moves the low watermark
// to end.
type ledger struct {
	entries []schemas.Commission
	end     time.Time
}

func genLedger(seed uint64) ledger {
	rng := rand.New(rand.NewPCG(seed, 1))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	hold := 14 * 24 * time.Hour
	curs := []string{"EUR", "JPY", "BHD"}
	var out []schemas.Commission
	for i := 0; i < 600; i++ {
		owner := fmt.Sprintf("owner-%02d", rng.IntN(12))
		cur := curs[rng.IntN(len(curs))]
		exp, _ := schemas.MinorUnit(cur)
		at := start.Add(time.Duration(rng.Int64N(int64(120 * 24 * time.Hour))))
		amt := decimal.New(rng.Int64N(900)+50, -exp+1).Round(exp) // 5.0 … 95.0 in the unit
		if exp == 0 {
			amt = decimal.NewFromInt(rng.Int64N(900) + 50)
		}
		id := fmt.Sprintf("cm-%04d", i)
		acc := schemas.Commission{CommissionID: id + "-a", Kind: schemas.Accrual, Reason: schemas.ReasonCompleted,
			OwnerBusinessID: owner, ProviderBusinessID: "provider", ClientID: "client", BookingID: "b" + id,
			BookingAmount: amt.Mul(decimal.NewFromInt(10)), Rate: decimal.RequireFromString("0.1"), Amount: amt,
			Currency: cur, OccurredAt: at, PayableAt: at.Add(hold), SourceEventID: "ev" + id}
		out = append(out, acc)
		if rng.IntN(4) == 0 { // a refund: reversal payable at max(accrual payable, refund time)
			rev := acc
			rev.CommissionID, rev.Kind, rev.Reason = id+"-r", schemas.Reversal, schemas.ReasonRefund
			rev.Amount = amt.Neg()
			rev.OccurredAt = at.Add(time.Duration(rng.Int64N(int64(40 * 24 * time.Hour))))
			rev.PayableAt = later(acc.PayableAt, rev.OccurredAt)
			rev.SourceEventID = "ev" + id + "r"
			out = append(out, rev)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].OccurredAt.Before(out[j].OccurredAt) })
	end := time.Date(2025, 7, 10, 0, 0, 0, 0, time.UTC)
	l := ledger{entries: out, end: end}
	return l
}

// expected runs the pure rules over the ledger (no entry is late: the ledger is in event-time
// order and payable_at ≥ occurred_at) and returns the encoded statements by payout_id.
func expected(t *testing.T, l ledger, closeThrough time.Time) map[string]string {
	e, err := statement.New(statement.Config{})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]*statement.State{}
	var out []schemas.Payout
	var w time.Time
	for _, c := range l.entries {
		w = later(w, c.OccurredAt)
		s := states[c.OwnerBusinessID]
		if s == nil {
			s = new(statement.State)
			states[c.OwnerBusinessID] = s
		}
		out = e.Advance(out, s, w)
		if _, err := e.Add(s, c); err != nil {
			t.Fatal(err)
		}
	}
	w = later(w, l.end)
	if !closeThrough.IsZero() {
		w = later(w, e.CloseThrough(closeThrough))
	}
	for _, s := range states {
		out = e.Advance(out, s, w)
	}
	m := map[string]string{}
	for _, p := range out {
		m[p.PayoutID] = string(schemas.AppendPayout(nil, p))
	}
	return m
}

type env struct {
	brokers []string
	prefix  string
	topics  schemas.Topics
	cfg     payouts.Config
}

func newEnv(t *testing.T) env { return newEnvOn(t, itest.Kafka(t)) }

// newEnvOn creates the topics of a new prefix on brokers (a private broker for kill tests).
func newEnvOn(t *testing.T, brokers []string) env {
	prefix := "t_" + itest.Unique(t) + "."
	topics := topology.New(prefix).Names()
	cfg := payouts.Config{Brokers: brokers, Topics: topics, CommitInterval: 100 * time.Millisecond,
		LedgerInputs: []string{prefix + "ledger-in"}}
	itest.CreateTopics(t, brokers, parts, string(topics.Commissions), string(topics.Payouts),
		prefix+payouts.DefaultChangelog, prefix+payouts.DefaultControl)
	itest.CreateTopics(t, brokers, 1, string(topics.DLQ), prefix+"ledger-in")
	return env{brokers: brokers, prefix: prefix, topics: topics, cfg: cfg}
}

// produce writes the ledger (keyed by owner, murmur2) with two bad records in the middle,
// a progress marker on every partition after each chunk and a last one at the end; pause is
// called between chunks.
func (v env) produce(t *testing.T, l ledger, pause func(i int)) {
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(v.brokers...), kgo.DefaultProduceTopic(string(v.topics.Commissions)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	man, err := kgo.NewClient(kgo.SeedBrokers(v.brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer man.Close()
	in := v.prefix + "ledger-in"
	var recs []*kgo.Record
	var wms []time.Time // the input's watermark after each record
	var w time.Time
	for i, c := range l.entries {
		var src []byte
		if !w.IsZero() {
			src = []byte(w.Format(time.RFC3339Nano))
		}
		recs = append(recs, &kgo.Record{Key: []byte(c.OwnerBusinessID), Value: schemas.AppendCommission(nil, c),
			Headers: []kgo.RecordHeader{{Key: schemas.SourceWatermarkHeader, Value: src}}})
		w = later(w, c.OccurredAt)
		wms = append(wms, w)
		if i == len(l.entries)/3 {
			recs = append(recs, &kgo.Record{Key: []byte("owner-01"), Value: []byte(`{"commission_id": 7`)})
			bad := l.entries[0]
			recs = append(recs, &kgo.Record{Key: []byte("not-the-owner"), Value: schemas.AppendCommission(nil, bad)})
			wms = append(wms, w, w)
		}
	}
	mark := func(next int, at time.Time) {
		val := schemas.AppendLedgerProgress(nil, schemas.LedgerProgress{
			Inputs:   []schemas.InputTopic{{Topic: in, Partitions: 1}},
			Progress: []schemas.PartitionProgress{{Topic: in, Partition: 0, NextOffset: int64(next), Watermark: at}}})
		for p := 0; p < parts; p++ {
			r := &kgo.Record{Topic: string(v.topics.Commissions), Partition: int32(p), Value: val,
				Headers: []kgo.RecordHeader{{Key: schemas.MarkerHeader, Value: []byte(schemas.MarkerProgress)}}}
			if err := man.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatalf("producing marker: %v", err)
			}
		}
	}
	const chunks = 8
	for k := 0; k < chunks; k++ {
		lo, hi := k*len(recs)/chunks, (k+1)*len(recs)/chunks
		if err := cl.ProduceSync(ctx, recs[lo:hi]...).FirstErr(); err != nil {
			t.Fatalf("producing ledger: %v", err)
		}
		mark(hi, wms[hi-1])
		if pause != nil {
			pause(k)
		}
	}
	mark(len(recs), l.end)
}

// statements reads the committed statements until want of them arrived and nothing more
// comes for a quiet second, or the deadline passes. Every payout_id must appear once.
func (v env) statements(t *testing.T, cl *kgo.Client, got map[string]string, want int, deadline time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	quiet := time.Time{}
	for ctx.Err() == nil {
		pctx, pcancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := cl.PollFetches(pctx)
		pcancel()
		fs.EachRecord(func(r *kgo.Record) {
			p, err := schemas.DecodePayout(r.Value)
			if err != nil {
				t.Errorf("statement does not decode: %v: %s", err, r.Value)
				return
			}
			if string(r.Key) != p.OwnerBusinessID {
				t.Errorf("statement %s keyed %q", p.PayoutID, r.Key)
			}
			if prev, dup := got[p.PayoutID]; dup {
				t.Errorf("statement %s issued twice:\n%s\n%s", p.PayoutID, prev, r.Value)
			}
			got[p.PayoutID] = string(r.Value)
		})
		if len(got) >= want {
			if quiet.IsZero() {
				quiet = time.Now()
			} else if time.Since(quiet) > time.Second {
				return
			}
		}
	}
}

func (v env) reader(t *testing.T, topic string) *kgo.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(v.brokers...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func compare(t *testing.T, got, want map[string]string) {
	t.Helper()
	t.Logf("%d statements, %d expected", len(got), len(want))
	if len(got) != len(want) {
		t.Errorf("%d statements, want %d", len(got), len(want))
	}
	n := 0
	for id, w := range want {
		if got[id] != w {
			if n++; n <= 5 {
				t.Errorf("statement %s:\n got %s\nwant %s", id, got[id], w)
			}
		}
	}
}

func (v env) deadLetters(t *testing.T, want int) {
	t.Helper()
	cl := v.reader(t, string(v.topics.DLQ))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var reasons []string
	for len(reasons) < want && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			d, err := schemas.DecodeDeadLetter(r.Value)
			if err != nil || d.Topic != string(v.topics.Commissions) || d.Consumer != "payouts" {
				t.Errorf("dead letter %s: %v", r.Value, err)
			}
			reasons = append(reasons, d.Error)
		})
	}
	if len(reasons) != want {
		t.Errorf("dead letters %q, want %d", reasons, want)
	}
}

// TestRunner: ledger entries in, statements out (read_committed), equal to the pure rules;
// then an explicit close from finance closes the periods the watermark left open.
func TestRunner(t *testing.T) {
	v := newEnv(t)
	l := genLedger(1)
	want := expected(t, l, time.Time{})
	r, err := payouts.New(v.cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, stop := itest.Start(context.Background(), t, "payouts", r)
	v.produce(t, l, nil)
	out := v.reader(t, string(v.topics.Payouts))
	got := map[string]string{}
	v.statements(t, out, got, len(want), 90*time.Second)
	compare(t, got, want)
	v.deadLetters(t, 2)

	// Finance closes through the end of July: the ticks' periods and carried balances close.
	through := time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)
	if err := payouts.Close(context.Background(), v.cfg, through); err != nil {
		t.Fatal(err)
	}
	want2 := expected(t, l, through)
	v.statements(t, out, got, len(want2), 60*time.Second)
	compare(t, got, want2)
	stop()
}

// TestKillRestart runs `taskole payouts` as a subprocess, kills it with SIGKILL while the
// ledger is being consumed, restarts it, and expects exactly the statements of the pure rules.
func TestKillRestart(t *testing.T) {
	v := newEnv(t)
	bin := filepath.Join(t.TempDir(), "taskole")
	build := exec.Command("go", "build", "-o", bin, "github.com/taskole/revshare/consumers/cmd/taskole")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building taskole: %v\n%s", err, b)
	}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "payouts", "--kafka-brokers", strings.Join(v.brokers, ","), "--topic-prefix", v.prefix,
			"--metrics-addr", "", "--instance", "kill-test", "--commit-interval", "50ms", "--log-level", "warn")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	l := genLedger(2)
	want := expected(t, l, time.Time{})
	out := v.reader(t, string(v.topics.Payouts))
	got := map[string]string{}

	cmd := start()
	killed := false
	v.produce(t, l, func(k int) {
		time.Sleep(400 * time.Millisecond)
		if k == 4 && !killed {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			killed = true
			cmd = start()
		}
	})
	v.statements(t, out, got, len(want), 120*time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("payouts after SIGTERM: %v", err)
	}
	compare(t, got, want)
	v.deadLetters(t, 2)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
