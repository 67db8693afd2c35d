package main

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/taskole/revshare/consumers/runners/ops"
)

// runner is a long-lived consumer: the ledger, the payouts runner, the sink. Ready and
// Waiting are its /readyz (topology.Readiness behind them).
type runner interface {
	Ready() bool
	Waiting() []string
	Run(ctx context.Context) error
	Close()
}

// serveRunner builds the runner of component name with newRunner, on a new metrics
// registry, and serves it until ctx ends; it closes the runner.
func serveRunner[R runner](ctx context.Context, c *common, name string, newRunner func(reg *prometheus.Registry) (R, error)) error {
	reg := ops.NewRegistry()
	r, err := newRunner(reg)
	if err != nil {
		return err
	}
	defer r.Close()
	return serve(ctx, c, name, reg, r)
}

// serve runs a long-lived consumer next to its ops server (/metrics, /healthz, /readyz on
// --metrics-addr, none when empty) until ctx ends or either fails. A consumer's Run returns
// nil only when its context ends, so a nil return while ctx is live is an error too.
func serve(ctx context.Context, c *common, name string, reg *prometheus.Registry, r runner) error {
	g, gctx := errgroup.WithContext(ctx)
	if c.metricsAddr != "" {
		srv, err := ops.New(ops.Config{Addr: c.metricsAddr, Registry: reg, Ready: r.Ready, Waiting: r.Waiting, Logger: c.log})
		if err != nil {
			return err
		}
		defer srv.Close()
		g.Go(func() error { return srv.Run(gctx) })
	}
	g.Go(func() error {
		err := r.Run(gctx)
		if err == nil && ctx.Err() == nil {
			err = fmt.Errorf("%s stopped unexpectedly", name)
		}
		return err
	})
	if err := g.Wait(); err != nil {
		return err
	}
	c.log.Info(name + " stopped")
	return nil
}
