package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/taskole/revshare/consumers/runners/ops"
)

// readiness is a runner's /readyz (topology.Readiness behind the runner's Ready and Waiting).
type readiness interface {
	Ready() bool
	Waiting() []string
}

// serve runs a long-lived consumer next to its ops server (/metrics, /healthz, /readyz on
// --metrics-addr, none when empty) until ctx ends or either fails. A consumer's Run returns
// nil only when its context ends, so a nil return while ctx is live is an error too.
func serve(ctx context.Context, c *common, name string, log *slog.Logger, reg *prometheus.Registry,
	ready readiness, run func(context.Context) error) error {
	g, gctx := errgroup.WithContext(ctx)
	if c.metricsAddr != "" {
		srv, err := ops.New(ops.Config{Addr: c.metricsAddr, Registry: reg, Ready: ready.Ready, Waiting: ready.Waiting, Logger: log})
		if err != nil {
			return err
		}
		defer srv.Close()
		g.Go(func() error { return srv.Run(gctx) })
	}
	g.Go(func() error {
		err := run(gctx)
		if err == nil && ctx.Err() == nil {
			err = fmt.Errorf("%s stopped unexpectedly", name)
		}
		return err
	})
	if err := g.Wait(); err != nil {
		return err
	}
	log.Info(name + " stopped")
	return nil
}
