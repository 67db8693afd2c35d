package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/taskole/revshare/consumers/sink"
	"github.com/taskole/revshare/schemas"
)

func sinkCommand() command {
	const summary = "copy every contract topic (read_committed) into ClickHouse's raw tables, exactly once, resuming from ClickHouse"
	return command{
		name:    "sink",
		summary: "copy all topics into ClickHouse raw tables (exactly once)",
		run: func(ctx context.Context, args []string) error {
			fs := newFlags("sink", summary)
			var c common
			c.register(fs, "127.0.0.1:9103")
			group := fs.String("group", "taskole-sink", "Kafka consumer group")
			rows := fs.Int("batch-rows", 50_000, "flush after this many rows (max 1,000,000: one INSERT must stay one part)")
			interval := fs.Duration("batch-interval", time.Second, "flush at least this often")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			log, err := c.logger("sink")
			if err != nil {
				return err
			}
			reg := prometheus.NewRegistry()
			s, err := sink.New(sink.Config{
				Brokers:        c.brokerList(),
				Topics:         schemas.Topics{}.WithPrefix(c.topicPrefix),
				Group:          *group,
				ClickHouseAddr: c.chAddr,
				Database:       c.chDatabase,
				BatchRows:      *rows,
				BatchInterval:  *interval,
				Logger:         log,
				Registerer:     reg,
			})
			if err != nil {
				return err
			}
			defer s.Close()
			g, ctx := errgroup.WithContext(ctx)
			if c.metricsAddr != "" {
				mux := http.NewServeMux()
				mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
				mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
				mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
					if err := s.Ready(); err != nil {
						http.Error(w, err.Error(), http.StatusServiceUnavailable)
						return
					}
					w.Write([]byte("ok\n"))
				})
				srv := &http.Server{Addr: c.metricsAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second,
					BaseContext: func(net.Listener) context.Context { return ctx }}
				g.Go(func() error {
					if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
						return err
					}
					return nil
				})
				g.Go(func() error {
					<-ctx.Done()
					sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					return srv.Shutdown(sctx)
				})
			}
			g.Go(func() error {
				err := s.Run(ctx)
				if err == nil {
					err = context.Canceled // stop the metrics server
				}
				return err
			})
			if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		},
	}
}
