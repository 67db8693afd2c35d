package secure

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/taskole/revshare/consumers/testkit/tabletest"
)

func TestKafkaOpts(t *testing.T) {
	dir := t.TempDir()
	pass := filepath.Join(dir, "pass")
	if err := os.WriteFile(pass, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		k       Kafka
		opts    int
		wantErr string
	}{
		{name: "zero: plaintext", k: Kafka{}, opts: 0},
		{name: "tls only", k: Kafka{TLS: TLS{Enabled: true}}, opts: 1},
		{name: "tls implied by server name", k: Kafka{TLS: TLS{ServerName: "kafka"}}, opts: 1},
		{name: "plain", k: Kafka{Mechanism: "PLAIN", User: "u", Password: Secret{Value: "p"}}, opts: 1},
		{name: "scram-512 lower case, file", k: Kafka{Mechanism: "scram-sha-512", User: "u", Password: Secret{File: pass}}, opts: 1},
		{name: "scram-256 over tls", k: Kafka{TLS: TLS{Enabled: true}, Mechanism: "SCRAM-SHA-256", User: "u"}, opts: 2},
		{name: "unknown mechanism", k: Kafka{Mechanism: "GSSAPI", User: "u"}, wantErr: "unknown kafka SASL mechanism"},
		{name: "no user", k: Kafka{Mechanism: "PLAIN"}, wantErr: "needs a user"},
		{name: "user without mechanism", k: Kafka{User: "u"}, wantErr: "without a SASL mechanism"},
		{name: "both secrets", k: Kafka{Mechanism: "PLAIN", User: "u", Password: Secret{Value: "a", File: pass}}, wantErr: "both inline and as a file"},
		{name: "missing secret file", k: Kafka{Mechanism: "PLAIN", User: "u", Password: Secret{File: filepath.Join(dir, "nope")}}, wantErr: "reading secret file"},
		{name: "missing CA", k: Kafka{TLS: TLS{CAFile: filepath.Join(dir, "nope")}}, wantErr: "reading CA file"},
		{name: "CA not PEM", k: Kafka{TLS: TLS{CAFile: pass}}, wantErr: "no PEM certificate"},
		{name: "cert without key", k: Kafka{TLS: TLS{CertFile: pass}}, wantErr: "both the cert file and the key file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := tt.k.Opts()
			if tabletest.Err(t, err, tt.wantErr) {
				return
			}
			if len(opts) != tt.opts {
				t.Errorf("%d options, want %d", len(opts), tt.opts)
			}
		})
	}
}

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "p")
	if err := os.WriteFile(f, []byte("line one\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := Secret{File: f}
	got, err := s.Reveal()
	if err != nil || got != "line one" {
		t.Fatalf("Reveal = %q, %v; want %q", got, err, "line one")
	}
	for _, s := range []Secret{{Value: "hunter2"}, {File: f}} {
		if str := s.String(); strings.Contains(str, "hunter2") || strings.Contains(str, "line one") || str == "" {
			t.Errorf("String() = %q, want it redacted", str)
		}
	}
	if (Secret{}).String() != "" {
		t.Error("empty secret prints something")
	}
}

func TestClickHouseResolve(t *testing.T) {
	r, err := ClickHouse{}.Resolve()
	if err != nil || r.TLS != nil || r.User != "" || r.Password != "" {
		t.Fatalf("zero value: %+v, %v; want plaintext, no credentials", r, err)
	}
	r, err = ClickHouse{TLS: TLS{Enabled: true, ServerName: "ch"}, User: "u", Password: Secret{Value: "p"}}.Resolve()
	if err != nil || r.TLS == nil || r.TLS.ServerName != "ch" || r.User != "u" || r.Password != "p" {
		t.Fatalf("tls + password: %+v, %v", r, err)
	}
	if _, err := (ClickHouse{Password: Secret{Value: "p"}}).Resolve(); err == nil {
		t.Error("password without user accepted")
	}
}
