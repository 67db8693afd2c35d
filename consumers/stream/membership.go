package stream

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// leaveTimeout bounds the LeaveGroup request of Close.
const leaveTimeout = 5 * time.Second

// leave removes this static member from the group (kgo leaves only dynamic members on
// close), so that the group reassigns its partitions now rather than after the session
// timeout. A failure is logged: the session timeout then does the same, later.
func (p *Processor[S]) leave() {
	ctx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	defer cancel()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(p.cfg.Brokers...), kgo.WithLogger(kgoLogger{p.log})}, p.cfg.ClientOpts...)...)
	if err != nil {
		p.log.Warn("leaving group", "error", err)
		return
	}
	defer cl.Close()
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = p.cfg.Group
	m := kmsg.NewLeaveGroupRequestMember()
	m.InstanceID = kmsg.StringPtr(p.cfg.InstanceID)
	m.Reason = kmsg.StringPtr("static member closing for good (LeaveOnClose)")
	req.Members = append(req.Members, m)
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
		for _, r := range resp.Members {
			if err == nil {
				err = kerr.ErrorForCode(r.ErrorCode)
			}
		}
	}
	if err != nil {
		p.log.Warn("leaving group", "instance_id", p.cfg.InstanceID, "error", err)
		return
	}
	p.log.Info("left group", "instance_id", p.cfg.InstanceID)
}
