package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

var labelled = schemas.Refused("refund_exceeds_remaining", errors.New("invalid input: refund exceeds"))

func TestClassify(t *testing.T) {
	fieldErr := &schemas.InvalidError{Field: "amount", Reason: "required"}
	tests := []struct {
		name  string
		err   error
		want  Class
		label string
	}{
		{"nil", nil, 0, ""},
		{"decode error", fmt.Errorf("decoding booking: %w", fieldErr), Poison, "amount:invalid"},
		{"rule error", fmt.Errorf("applying booking b1: %w", labelled), Poison, "refund_exceeds_remaining"},
		{"explicit poison", schemas.Refused("key:mismatch", errors.New("wrong key")), Poison, "key:mismatch"},
		{"retriable kafka", fmt.Errorf("producing: %w", kerr.NotLeaderForPartition), Retryable, ""},
		{"leader lost", fmt.Errorf("listing changelog offsets: %w", kerr.UnknownTopicOrPartition), Retryable, ""},
		{"broker connection reset", fmt.Errorf("listing: %w", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), Retryable, ""},
		{"broker connection dropped", fmt.Errorf("listing: %w", io.ErrUnexpectedEOF), Retryable, ""},
		// kgo leaves a refused dial to the call site (it rotates brokers itself); one that
		// reaches the processor ends Run, and the restarted process starts over.
		{"dial refused", fmt.Errorf("listing: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), Fatal, ""},
		{"aborting", kgo.ErrAborting, Retryable, ""},
		{"txn abortable", kerr.TransactionAbortable, Retryable, ""},
		{"aborted txn", errAborted, Retryable, ""},
		{"fenced", fmt.Errorf("ending: %w", kerr.ProducerFenced), Fatal, ""},
		{"epoch", kerr.InvalidProducerEpoch, Fatal, ""},
		{"fenced young transaction", timedOut(fmt.Errorf("producing: %w", kerr.InvalidProducerEpoch), time.Second, 10*time.Second), Fatal, ""},
		{"epoch of timed-out transaction", timedOut(fmt.Errorf("producing: %w", kerr.InvalidProducerEpoch), 12*time.Second, 10*time.Second), Renew, ""},
		{"fenced timed-out transaction", timedOut(kerr.ProducerFenced, 10*time.Second, 10*time.Second), Renew, ""},
		{"wrapped timed-out transaction", fmt.Errorf("ending transaction: %w", &TimedOutError{Age: time.Minute, Timeout: time.Second, Err: kerr.InvalidProducerEpoch}), Renew, ""},
		{"timed-out transaction, other error", timedOut(kerr.NotLeaderForPartition, time.Minute, time.Second), Retryable, ""},
		{"timed out, not an epoch error", &TimedOutError{Age: time.Minute, Timeout: time.Second, Err: errors.New("disk on fire")}, Fatal, ""},
		{"timed out, then cancelled", &TimedOutError{Age: time.Minute, Timeout: time.Second, Err: fmt.Errorf("%w: %w", kerr.InvalidProducerEpoch, context.Canceled)}, Fatal, ""},
		{"fenced, with the hint", withFenceHint(timedOut(kerr.InvalidProducerEpoch, time.Second, 10*time.Second), "g-x"), Fatal, ""},
		{"timed out, no hint added", withFenceHint(timedOut(kerr.InvalidProducerEpoch, time.Minute, 10*time.Second), "g-x"), Renew, ""},
		{"begin after epoch error", fmt.Errorf("beginning transaction: producer ID has a fatal, unrecoverable error, err: %w", kerr.InvalidProducerEpoch), Fatal, ""},
		{"cancelled", fmt.Errorf("polling: %w", context.Canceled), Fatal, ""},
		{"closed", kgo.ErrClientClosed, Fatal, ""},
		{"unknown", errors.New("disk on fire"), Fatal, ""},
		{"non-retriable kafka", kerr.MessageTooLarge, Fatal, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
			if tt.want == Poison && Label(tt.err) != tt.label {
				t.Errorf("Label(%v) = %q, want %q", tt.err, Label(tt.err), tt.label)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	base := Config{Brokers: []string{"b"}, Name: "n", Group: "g", Inputs: []string{"in"}, Changelog: "cl"}
	c, err := base.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.CommitInterval != DefaultCommitInterval || c.MaxBatchRecords != DefaultMaxBatchRecords ||
		c.TransactionalID != "g-n" || c.InstanceID != "g-n" || c.RestoreTimeout != 2*DefaultTransactionTimeout+abortCheckInterval || c.SweepEvery != DefaultSweepEvery {
		t.Errorf("defaults not applied: %+v", c)
	}
	bad := []func(*Config){
		func(c *Config) { c.Brokers = nil },
		func(c *Config) { c.Group = "" },
		func(c *Config) { c.Inputs = nil },
		func(c *Config) { c.Changelog = "" },
		func(c *Config) { c.Changelog = "in" },
		func(c *Config) { c.CommitInterval = -1 },
		func(c *Config) { c.CommitInterval = DefaultTransactionTimeout },
	}
	for i, f := range bad {
		c := base
		f(&c)
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("case %d: invalid config accepted: %+v", i, c)
		}
	}
}

// TestDeadLetterReason pins the dead-letter record: the poison label travels as reason.
func TestDeadLetterReason(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	rec := &kgo.Record{Topic: "taskole.bookings.v1", Partition: 2, Offset: 41, Key: []byte("cli-1"), Value: []byte(`{"x":1}`)}
	for _, tt := range []struct {
		cause  error
		reason string
	}{
		{fmt.Errorf("applying booking b1: %w", labelled), "refund_exceeds_remaining"},
		{fmt.Errorf("decoding booking: %w", &schemas.InvalidError{Field: "amount", Reason: "not a decimal string"}), "amount:invalid"},
		{schemas.Refused("", errors.New("no label")), "unknown"},
	} {
		out := DeadLetter("taskole.dlq.v1", "ledger", rec, tt.cause, at)
		d, err := schemas.DecodeDeadLetter(out.Value)
		if err != nil {
			t.Fatal(err)
		}
		if d.Reason != tt.reason || d.Error != tt.cause.Error() || d.Topic != rec.Topic || d.Offset != 41 || string(out.Key) != "cli-1" {
			t.Errorf("dead letter of %v = %+v (key %q), want reason %q", tt.cause, d, out.Key, tt.reason)
		}
	}
}

// TestFencedHint pins which errors get the fenced explanation: epoch errors of young
// transactions only.
func TestFencedHint(t *testing.T) {
	tests := []struct {
		name string
		err  error
		hint bool
	}{
		{"young epoch error", timedOut(kerr.InvalidProducerEpoch, time.Second, 10*time.Second), true},
		{"producer fenced", kerr.ProducerFenced, true},
		{"timed out", timedOut(kerr.InvalidProducerEpoch, 11*time.Second, 10*time.Second), false},
		{"retryable", kerr.NotLeaderForPartition, false},
		{"other fatal", errors.New("disk on fire"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := withFenceHint(tt.err, "g-x")
			if has := strings.Contains(got.Error(), `fenced: another process initialized transactional id "g-x"`); has != tt.hint {
				t.Errorf("withFenceHint(%v) = %v, hint %v, want %v", tt.err, got, has, tt.hint)
			}
			if !errors.Is(got, tt.err) || Classify(got) != Classify(tt.err) {
				t.Errorf("withFenceHint(%v) changed the error or its class: %v (%v)", tt.err, got, Classify(got))
			}
		})
	}
}
