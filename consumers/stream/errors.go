package stream

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/schemas"
)

// Class is what the processor does about an error. Every error crossing the processor's
// boundary — from a Handler, from producing, from ending a transaction — is classified once,
// by Classify.
type Class uint8

// Error classes.
const (
	// Retryable: abort the open transaction, roll the state of its partitions back to the
	// changelog and re-poll from the committed offsets.
	Retryable Class = iota + 1
	// Poison: the input record can never be processed; it becomes a dead-letter record in the
	// same transaction and processing goes on.
	Poison
	// Fatal: stop Run and return the error (the process restarts; no output is lost or doubled).
	Fatal
	// Renew: the transaction outlived its timeout, the broker aborted it and bumped the
	// producer epoch (a *TimedOutError, timeout.go): replace the transactional client (same
	// transactional id), restore the owned partitions as after a restart, go on.
	Renew
)

func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case Poison:
		return "poison"
	case Fatal:
		return "fatal"
	case Renew:
		return "renew"
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// Classify says what the processor does about err: Poison for invalid input (a
// *schemas.InvalidError in the chain: errors.Is(err, schemas.ErrInvalid)), Renew for an epoch
// error of a transaction that outlived its timeout (a *TimedOutError, see timeout.go),
// Retryable for retriable Kafka errors, broken broker connections (kgo.IsRetryableBrokerErr: a
// reset or dropped connection; not a refused dial, which kgo leaves to its call sites) and
// aborted transactions, Fatal for everything else,
// including context cancellation and a producer fenced while its transaction was younger than
// the timeout (another live instance with the same transactional id). It returns 0 for a nil
// error. It is the one place that classifies errors; errors_test.go pins it.
func Classify(err error) Class {
	if err == nil {
		return 0 // before anything escapes: Classify runs once per handled record
	}
	return classify(err)
}

func classify(err error) Class {
	var to *TimedOutError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, kgo.ErrClientClosed):
		return Fatal
	case errors.Is(err, schemas.ErrInvalid):
		return Poison
	case errors.As(err, &to) && isEpochError(to.Err):
		// Our own transaction timed out: the broker aborted it and bumped our epoch.
		return Renew
	case isEpochError(err),
		errors.Is(err, kerr.TransactionalIDAuthorizationFailed), errors.Is(err, kerr.InvalidTxnState):
		// Another instance took over our transactional id, or the broker rejects us.
		return Fatal
	case errors.Is(err, kgo.ErrAborting), errors.Is(err, kerr.TransactionAbortable),
		errors.Is(err, kerr.OperationNotAttempted), kerr.IsRetriable(err), kgo.IsRetryableBrokerErr(err),
		errors.Is(err, errAborted):
		return Retryable
	}
	return Fatal
}

// Label returns the metric label of a poison error ("unknown" when it has none).
func Label(err error) string {
	var ie *schemas.InvalidError
	if errors.As(err, &ie) && ie.Label() != "" {
		return ie.Label()
	}
	return "unknown"
}

// errAborted reports a transaction that ended in an abort without an error (a rebalance).
var errAborted = errors.New("transaction aborted")
