package stream

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

type labelled struct{}

func (labelled) Error() string { return "invalid input: refund exceeds" }
func (labelled) Label() string { return "refund_exceeds_remaining" }

func TestClassify(t *testing.T) {
	fieldErr := &schemas.FieldError{Field: "amount", Reason: "required"}
	tests := []struct {
		name  string
		err   error
		want  Class
		label string
	}{
		{"nil", nil, 0, ""},
		{"decode error", fmt.Errorf("decoding booking: %w", fieldErr), Poison, "amount:invalid"},
		{"rule error", fmt.Errorf("applying booking b1: %w", labelled{}), Poison, "refund_exceeds_remaining"},
		{"explicit poison", Poisoned("key:mismatch", errors.New("wrong key")), Poison, "key:mismatch"},
		{"retriable kafka", fmt.Errorf("producing: %w", kerr.NotLeaderForPartition), Retryable, ""},
		{"aborting", kgo.ErrAborting, Retryable, ""},
		{"txn abortable", kerr.TransactionAbortable, Retryable, ""},
		{"aborted txn", errAborted, Retryable, ""},
		{"fenced", fmt.Errorf("ending: %w", kerr.ProducerFenced), Fatal, ""},
		{"epoch", kerr.InvalidProducerEpoch, Fatal, ""},
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
		c.TransactionalID != "g-n" || c.RestoreTimeout != 2*DefaultTransactionTimeout || c.SweepEvery != DefaultSweepEvery {
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
