package stream

import (
	"context"
	"fmt"
)

// loopRenewing runs the loop, and again after renewing the client each time a transaction
// outlived its timeout (Classify: Renew); after maxRenewals renewals in a row without a commit
// the next timeout is returned.
func (p *Processor[S]) loopRenewing(ctx context.Context) error {
	err := p.loop(ctx)
	for renewals := 0; Classify(err) == Renew && ctx.Err() == nil; {
		if renewals++; renewals > maxRenewals {
			return fmt.Errorf("giving up after %d client renewals in a row without a commit: %w", maxRenewals, err)
		}
		if err = p.renew(ctx, err); err != nil {
			return err
		}
		committed := p.committed
		err = p.loop(ctx)
		if p.committed != committed {
			renewals = 0
		}
	}
	if ctx.Err() != nil && Classify(err) == Renew {
		return nil // stopping: the timed-out transaction is aborted already
	}
	return err
}

// renew replaces the transactional client after a transaction outlived its timeout (cause
// classifies as Renew; timeout.go says why that is safe). The old client is closed — a static
// member does not leave the group, so the new one rejoins as the same member — everything the
// loop held is dropped as on a lost session, and the new client initializes the producer ID
// of the same transactional id (bumping its epoch) and joins the group: the partitions come
// back through the group callbacks, restored from the changelog, and their records are read
// again from the committed offsets. The broker aborted the timed-out transaction, so its
// outputs, changelog writes and offsets are gone together: nothing is doubled or lost, as
// after a restart under the same --instance.
func (p *Processor[S]) renew(ctx context.Context, cause error) error {
	p.m.renewals.Inc()
	p.log.Warn("transaction outlived the transaction timeout and was aborted by the broker; "+
		"replacing the transactional client and restoring the owned partitions",
		"transactional_id", p.cfg.TransactionalID, "transaction_timeout", p.cfg.TransactionTimeout, "error", cause)

	p.closeMu.Lock()
	old := p.sess
	p.sess = nil
	p.closeMu.Unlock()
	if old != nil {
		old.Close()
	}
	p.reset()
	if err := p.connect(); err != nil {
		return fmt.Errorf("renewing transactional client: %w", err)
	}
	if _, _, err := p.sess.Client().ProducerID(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("renewing transactional client: initializing producer id: %w", err)
	}
	return nil
}

// reset drops everything the old client's loop and callbacks held: owned partitions, their
// merge tasks and buffered records, the open transaction's bookkeeping.
func (p *Processor[S]) reset() {
	p.mu.Lock()
	clear(p.assigned)
	p.events = nil
	p.setOwned()
	p.mu.Unlock()
	p.joined.Store(false)
	p.awaiting.Store(false)

	clear(p.parts)
	clear(p.tasks)
	clear(p.touched)
	clear(p.txnHanded)
	clear(p.txnRepart)
	p.resetUndo()
	p.inTxn, p.mustAbort, p.txnRecs = false, false, 0
	p.prodErr.Store(nil)
	p.counts.reset()
	p.m.lag.Reset()
	p.updateSizeMetrics()
}
