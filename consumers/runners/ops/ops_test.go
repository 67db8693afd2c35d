package ops

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestServer(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "taskole_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	var ready atomic.Bool
	waiting := func() []string { return []string{"t.taskole.bookings.v1", "t.taskole.ledger-state.v1"} }
	s, err := New(Config{Addr: "127.0.0.1:0", Registry: reg, Ready: ready.Load, Waiting: waiting})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var base string
	for i := 0; i < 100 && (base == "" || strings.HasSuffix(base, ":0")); i++ {
		time.Sleep(10 * time.Millisecond)
		base = "http://" + s.Addr()
	}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, path string
		ready      bool
		code       int
		contains   string
	}{
		{"healthz", "/healthz", false, 200, "ok"},
		{"not ready", "/readyz", false, 503, "not ready: waiting for t.taskole.bookings.v1, t.taskole.ledger-state.v1"},
		{"ready", "/readyz", true, 200, "ready"},
		{"metrics", "/metrics", true, 200, "taskole_test_total 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready.Store(tt.ready)
			code, body := get(tt.path)
			if code != tt.code || !strings.Contains(body, tt.contains) {
				t.Errorf("GET %s = %d %q, want %d containing %q", tt.path, code, body, tt.code, tt.contains)
			}
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
