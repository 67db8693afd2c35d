package stream

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fault-injection tests of the exactly-once guarantees on kfake (the harness is in
// harness_test.go). Each one injects a fault with kfake's ControlKey at a chosen point of a
// transaction and then asserts, read committed, that every input has exactly one output,
// computed against the right state, and that the changelog holds the reference state.

// TestFaultEndTxnFails fails the EndTxn of the third committing transaction once.
func TestFaultEndTxnFails(t *testing.T) {
	tests := []struct {
		name  string
		code  *kerr.Error // nil: the broker drops the connection instead of answering
		abort bool        // the processor must see an aborted transaction
		fatal bool        // Run must fail (the instance is then restarted)
	}{
		// The commit's outcome is unknown: kgo retries as an abort (producer id reload).
		{name: "unknown server error", code: kerr.UnknownServerError, abort: true},
		// The coordinator asks for an abort.
		{name: "transaction abortable", code: kerr.TransactionAbortable, abort: true},
		// No answer at all: the request is retried on a new connection.
		{name: "connection dropped"},
		// A non-retriable answer: Run fails, a restarted instance (same transactional id)
		// fences the old producer and takes over from the committed offsets.
		{name: "invalid txn state", code: kerr.InvalidTxnState, fatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var commits, injected atomic.Int32
			f.c.ControlKey(int16(kmsg.EndTxn), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
				req := kreq.(*kmsg.EndTxnRequest)
				if !req.Commit || commits.Add(1) < 3 {
					return nil, nil, false // not handled: the control stays installed
				}
				injected.Add(1) // handled: the control is dropped
				if tt.code == nil {
					return nil, errors.New("injected: connection dropped"), true
				}
				resp := req.ResponseKind().(*kmsg.EndTxnResponse)
				resp.ErrorCode = tt.code.Code
				return resp, nil, true
			})
			a := f.start("a")
			for range 6 {
				f.produce(20)
				time.Sleep(150 * time.Millisecond)
			}
			if tt.fatal {
				select {
				case <-a.exited:
				case <-time.After(10 * time.Second):
					t.Fatal("Run did not fail on a fatal EndTxn error")
				}
				if Classify(a.err) != Fatal || !errors.Is(a.err, tt.code) {
					t.Fatalf("Run = %v, want a fatal %v", a.err, tt.code)
				}
				a.stop()
				a = f.start("a")
			}
			// Liveness: progress resumes well before the broker's transaction timeout (6s)
			// would abort a transaction left open by the failed end or by the failed instance.
			f.finish(5*time.Second, a)
			if injected.Load() != 1 {
				t.Errorf("EndTxn failures injected = %d, want 1", injected.Load())
			}
			if tt.abort && a.txns(t, "aborted") < 1 {
				t.Errorf("no aborted transaction counted after a failed EndTxn")
			}
		})
	}
}

// TestFaultRebalanceDuringTransaction rebalances the group while instance a's transaction is
// open: in the first case a second instance joins while a's TxnOffsetCommit is held back (its
// outputs and changelog writes already produced), so the commit arrives with the old
// generation; in the second the coordinator answers the TxnOffsetCommit with
// REBALANCE_IN_PROGRESS.
func TestFaultRebalanceDuringTransaction(t *testing.T) {
	t.Run("instance joins during commit", func(t *testing.T) {
		f := newFixture(t)
		a := f.start("a")
		f.waitStable(10*time.Second, "a")
		f.produce(60)
		f.waitCommitted(10 * time.Second)

		held, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		f.c.ControlKey(int16(kmsg.TxnOffsetCommit), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
			if kreq.(*kmsg.TxnOffsetCommitRequest).TransactionalID != fxGroup+"-a" {
				return nil, nil, false
			}
			once.Do(func() { close(held) })
			f.c.SleepControl(func() { <-release })
			f.c.DropControl()
			return nil, nil, false // the cluster answers it, after the rebalance
		})
		f.produce(60)
		select {
		case <-held:
		case <-time.After(10 * time.Second):
			t.Fatal("a did not commit")
		}
		// Release the commit once b's join has started the rebalance. The coordinator may
		// still accept it (same generation; with KIP-447 the commit may then complete during
		// the rebalance, b's offset fetch waiting for it), or refuse it and a aborts.
		b := f.start("b")
		waitFor(t, 10*time.Second, "b to join", func() bool {
			state, m := f.members()
			return state == "PreparingRebalance" || state == "CompletingRebalance" || len(m) == 2
		})
		close(release)
		f.waitStable(10*time.Second, "a", "b")

		f.produce(60)
		outs := f.finish(15*time.Second, a, b)
		t.Logf("a: %v transactions committed, %v aborted", a.txns(t, "committed"), a.txns(t, "aborted"))
		// The partition b took over had its state restored: its outputs continue a's counts
		// (checked by f.check) and come from both instances.
		by := map[int32]map[string]bool{}
		for _, o := range outs {
			if by[o.part] == nil {
				by[o.part] = map[string]bool{}
			}
			by[o.part][o.inst] = true
		}
		moved := false
		for _, insts := range by {
			moved = moved || insts["a"] && insts["b"]
		}
		if !moved {
			t.Errorf("no partition moved from a to b: emitters per partition %v", by)
		}
	})

	t.Run("commit answered rebalance in progress", func(t *testing.T) {
		f := newFixture(t)
		var commits, injected atomic.Int32
		f.c.ControlKey(int16(kmsg.TxnOffsetCommit), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
			req := kreq.(*kmsg.TxnOffsetCommitRequest)
			if commits.Add(1) < 3 {
				return nil, nil, false
			}
			injected.Add(1)
			resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
			for _, rt := range req.Topics {
				st := kmsg.NewTxnOffsetCommitResponseTopic()
				st.Topic = rt.Topic
				for _, rp := range rt.Partitions {
					sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
					sp.Partition = rp.Partition
					sp.ErrorCode = kerr.RebalanceInProgress.Code
					st.Partitions = append(st.Partitions, sp)
				}
				resp.Topics = append(resp.Topics, st)
			}
			return resp, nil, true
		})
		a := f.start("a")
		for range 6 {
			f.produce(20)
			time.Sleep(150 * time.Millisecond)
		}
		f.finish(15*time.Second, a)
		if injected.Load() != 1 {
			t.Errorf("TxnOffsetCommit failures injected = %d, want 1", injected.Load())
		}
		if a.txns(t, "aborted") < 1 {
			t.Errorf("no aborted transaction counted after REBALANCE_IN_PROGRESS")
		}
	})
}

// TestFaultLostPartition loses instance a's membership while it has an open transaction: a
// stalls inside a transaction that already holds outputs, and its heartbeats are held at the
// broker until its session expires. b must take a's partition over from the committed offsets
// and the changelog; a's transaction must abort once a comes back.
func TestFaultLostPartition(t *testing.T) {
	f := newFixture(t)
	var armed atomic.Bool
	var handled atomic.Int32
	var lostPart atomic.Int32
	blocked, release := make(chan struct{}), make(chan struct{})
	f.hook = func(inst string, rec *kgo.Record) {
		if inst != "a" || !armed.Load() {
			return
		}
		// Stall on the second record: the first one's output is in the open transaction.
		if handled.Add(1) == 2 {
			lostPart.Store(rec.Partition)
			close(blocked)
			<-release
		}
	}
	a := f.start("a")
	f.waitStable(10*time.Second, "a")
	b := f.start("b")
	ids := f.waitStable(10*time.Second, "a", "b")
	f.produce(60)
	f.waitCommitted(10 * time.Second)

	armed.Store(true)
	f.produce(60)
	select {
	case <-blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("a did not handle the second batch")
	}
	hbRelease := make(chan struct{})
	var held atomic.Int32
	f.c.ControlKey(int16(kmsg.Heartbeat), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		if kreq.(*kmsg.HeartbeatRequest).MemberID != ids["a"] {
			return nil, nil, false
		}
		held.Add(1)
		f.c.SleepControl(func() { <-hbRelease })
		return nil, nil, false // answered by the cluster after the session expired
	})
	// a's session expires; b is alone in the group, restores a's partition and commits it.
	f.waitStable(10*time.Second, "b")
	f.waitCommitted(15 * time.Second)
	close(release)
	time.Sleep(300 * time.Millisecond)
	close(hbRelease)

	f.produce(30)
	outs := f.finish(15*time.Second, a, b)
	if held.Load() == 0 {
		t.Error("no heartbeat of a was held")
	}
	if a.txns(t, "aborted") < 1 {
		t.Error("a's open transaction was not aborted")
	}
	// Every second-batch input (counts 11–20) of the lost partition was emitted by b.
	p := lostPart.Load()
	n := 0
	for _, o := range outs {
		if o.part == p && o.n > 10 && o.n <= 20 {
			n++
			if o.inst != "b" {
				t.Errorf("output %s=%d of lost partition %d emitted by %s, want b", o.id, o.n, p, o.inst)
			}
		}
	}
	if n == 0 {
		t.Errorf("no second-batch output on lost partition %d", p)
	}
	t.Logf("lost partition %d: %d second-batch outputs redone by b", p, n)
}

// TestFaultRestoreListingFails answers the restore's first listings of the changelog with
// UNKNOWN_TOPIC_OR_PARTITION, as a broker does right after the partition's leader was killed
// and before the client's metadata caught up: the restore retries (it used to end Run), and
// every input still has exactly one output.
func TestFaultRestoreListingFails(t *testing.T) {
	f := newFixture(t)
	var injected atomic.Int32
	f.c.ControlKey(int16(kmsg.ListOffsets), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		req := kreq.(*kmsg.ListOffsetsRequest)
		if len(req.Topics) != 1 || req.Topics[0].Topic != fxChangelog || injected.Load() >= 3 {
			return nil, nil, false
		}
		f.c.KeepControl() // fail the next listings too, up to three
		injected.Add(1)
		resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewListOffsetsResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewListOffsetsResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	a := f.start("a")
	f.produce(40)
	f.finish(20*time.Second, a)
	if n := injected.Load(); n != 3 {
		t.Errorf("failed changelog listings = %d, want 3", n)
	}
}
