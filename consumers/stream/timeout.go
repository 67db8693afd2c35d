package stream

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// A transaction that stays open longer than its timeout (the process starved of CPU, stopped,
// or a handler or flush that stalls) is aborted by the broker, which bumps the producer epoch.
// Under KIP-890 part 2 (the cluster's transaction.version 2, which Kafka 4 clusters run)
// franz-go then refuses that producer for good: every later produce and EndTxn fails with
// INVALID_PRODUCER_EPOCH (or PRODUCER_FENCED). That is the same error another live process
// with our transactional id causes when it fences us, so the error alone cannot tell the two
// apart; the age of the failed transaction can. The broker aborts a transaction only once it
// is older than the timeout on the broker's clock, which starts after our Begin: an epoch
// error on a transaction we have held open for longer than the timeout is (or may be) our own
// timeout, and replacing the client is safe — it bumps the epoch of our own transactional id,
// which at worst fences an instance that was itself fencing us, and that one then sees an
// epoch error on a young transaction and stops. An epoch error on a younger transaction can
// only come from another instance: it stays fatal. A bounded number of renewals in a row
// without a commit (maxRenewals) keeps a handler that can never finish within the timeout
// from looping for ever.

// maxRenewals is how many times in a row, without a commit in between, a Processor or Judge
// replaces its client after its transaction timed out; the next timeout is fatal.
const maxRenewals = 5

// TimedOutError is the error of a transaction that ended with an epoch error after it was
// open for Age, at or beyond its Timeout. Classify maps it to Renew.
type TimedOutError struct {
	Age, Timeout time.Duration
	Err          error
}

func (e *TimedOutError) Error() string {
	return fmt.Sprintf("transaction open %v, beyond its timeout %v (aborted by the broker): %v",
		e.Age.Round(time.Millisecond), e.Timeout, e.Err)
}

func (e *TimedOutError) Unwrap() error { return e.Err }

// isEpochError reports the errors of a producer whose epoch was bumped under it.
func isEpochError(err error) bool {
	return errors.Is(err, kerr.InvalidProducerEpoch) || errors.Is(err, kerr.ProducerFenced)
}

// timedOut returns err as a *TimedOutError when it is an epoch error of a transaction open
// for age, at or beyond timeout; else err unchanged.
func timedOut(err error, age, timeout time.Duration) error {
	if err == nil || age < timeout || !isEpochError(err) {
		return err
	}
	return &TimedOutError{Age: age, Timeout: timeout, Err: err}
}

// withFenceHint adds to an epoch error of a young transaction (Classify: Fatal) who fenced us.
func withFenceHint(err error, txnID string) error {
	if Classify(err) != Fatal || !isEpochError(err) {
		return err
	}
	return fmt.Errorf("fenced: another process initialized transactional id %q (a second instance with the same --instance?): %w", txnID, err)
}
