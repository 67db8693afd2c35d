// Package ops serves a component's operational endpoints over HTTP: Prometheus /metrics from
// the component's own registry (never the global default), /healthz (the process is up) and
// /readyz (the component says it is ready, e.g. after restoring its state).
package ops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config configures a Server. Addr is required; the zero value of the rest means defaults.
type Config struct {
	Addr     string               // listen address, e.g. ":9464"
	Registry *prometheus.Registry // default: a new registry with Go and process collectors
	// Ready reports readiness for /readyz; nil means ready once Run listens.
	Ready func() bool
	// Waiting, when set, names what the component still waits for (the topics of its
	// topology.Readiness); /readyz lists them while not ready.
	Waiting func() []string
	Logger  *slog.Logger
}

// Server is the operational HTTP server of one component.
type Server struct {
	cfg  Config
	srv  *http.Server
	mu   sync.Mutex
	ln   net.Listener
	once sync.Once
}

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// New validates cfg and returns a Server; Run listens.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		return nil, errors.New("ops config: no listen address")
	}
	if cfg.Registry == nil {
		cfg.Registry = NewRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{Registry: cfg.Registry}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if cfg.Ready != nil && !cfg.Ready() {
			msg := "not ready"
			if cfg.Waiting != nil {
				if waiting := cfg.Waiting(); len(waiting) > 0 {
					msg += ": waiting for " + strings.Join(waiting, ", ")
				}
			}
			http.Error(w, msg, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return s, nil
}

// Addr returns the address the server listens on (after Run started), else Config.Addr.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return s.ln.Addr().String()
	}
	return s.cfg.Addr
}

// Run serves until ctx is cancelled, then shuts down gracefully.
func (s *Server) Run(ctx context.Context) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.cfg.Addr, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.cfg.Logger.Info("ops server listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving ops endpoints: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutting down ops server: %w", err)
	}
	return nil
}

// Close stops the server at once. It is idempotent.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() { err = s.srv.Close() })
	return err
}
