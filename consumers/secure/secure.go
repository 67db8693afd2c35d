// Package secure builds the TLS and authentication options of the Kafka and ClickHouse
// clients from one configuration, so every component connects the same way: TLS with a
// private CA and optional client certificate, SASL PLAIN / SCRAM-SHA-256 / SCRAM-SHA-512 for
// Kafka, user and password for ClickHouse. Secrets may come from files (mounted Secrets).
//
// The zero value of every struct means plaintext and no authentication (the local servers).
package secure

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// TLS configures one TLS client. Enabled is implied by any file or server name.
type TLS struct {
	Enabled    bool
	CAFile     string // PEM roots to verify the server with (default: the system roots)
	CertFile   string // PEM client certificate (mutual TLS), with KeyFile
	KeyFile    string
	ServerName string // name to verify the server certificate against (default: the host dialled)
}

func (t TLS) on() bool {
	return t.Enabled || t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.ServerName != ""
}

// Config returns the tls.Config, or nil when TLS is off.
func (t TLS) Config() (*tls.Config, error) {
	if !t.on() {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("reading CA file %s: no PEM certificate in it", t.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, errors.New("a client certificate needs both the cert file and the key file")
	}
	if t.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// Secret is a value given inline or read from a file (trailing newline removed). It never
// prints its value.
type Secret struct {
	Value string
	File  string
}

// String hides the value (so a logged config never leaks it).
func (s Secret) String() string {
	if s.Value == "" && s.File == "" {
		return ""
	}
	return "[redacted]"
}

// Reveal returns the secret, reading its file when one is set.
func (s Secret) Reveal() (string, error) {
	if s.Value != "" && s.File != "" {
		return "", errors.New("a secret is given both inline and as a file; give one")
	}
	if s.File == "" {
		return s.Value, nil
	}
	b, err := os.ReadFile(s.File)
	if err != nil {
		return "", fmt.Errorf("reading secret file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// SASL mechanisms Kafka accepts.
const (
	MechanismPlain       = "PLAIN"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"
)

// Kafka is how clients reach the brokers.
type Kafka struct {
	TLS       TLS
	Mechanism string // "" (no SASL), PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	User      string
	Password  Secret
}

// Opts returns the kgo options for TLS and SASL (none when both are off). Every Kafka client
// of the project appends them.
func (k Kafka) Opts() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	tc, err := k.TLS.Config()
	if err != nil {
		return nil, fmt.Errorf("configuring kafka tls: %w", err)
	}
	if tc != nil {
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if k.Mechanism == "" {
		if k.User != "" || k.Password != (Secret{}) {
			return nil, errors.New("kafka user or password given without a SASL mechanism")
		}
		return opts, nil
	}
	if k.User == "" {
		return nil, fmt.Errorf("kafka SASL %s needs a user", k.Mechanism)
	}
	pass, err := k.Password.Reveal()
	if err != nil {
		return nil, fmt.Errorf("reading kafka password: %w", err)
	}
	var m sasl.Mechanism
	switch strings.ToUpper(k.Mechanism) {
	case MechanismPlain:
		m = plain.Auth{User: k.User, Pass: pass}.AsMechanism()
	case MechanismSCRAMSHA256:
		m = scram.Auth{User: k.User, Pass: pass}.AsSha256Mechanism()
	case MechanismSCRAMSHA512:
		m = scram.Auth{User: k.User, Pass: pass}.AsSha512Mechanism()
	default:
		return nil, fmt.Errorf("unknown kafka SASL mechanism %q (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", k.Mechanism)
	}
	return append(opts, kgo.SASL(m)), nil
}

// ClickHouse is how clients reach the server.
type ClickHouse struct {
	TLS      TLS
	User     string // default: the server's default user
	Password Secret
}

// Resolved is a ClickHouse connection's TLS config (nil: plaintext) and credentials.
type Resolved struct {
	TLS      *tls.Config
	User     string
	Password string
}

// Resolve reads the files and returns what clickhouse.Options needs.
func (c ClickHouse) Resolve() (Resolved, error) {
	tc, err := c.TLS.Config()
	if err != nil {
		return Resolved{}, fmt.Errorf("configuring clickhouse tls: %w", err)
	}
	pass, err := c.Password.Reveal()
	if err != nil {
		return Resolved{}, fmt.Errorf("reading clickhouse password: %w", err)
	}
	if pass != "" && c.User == "" {
		// The driver sends "default" for an empty user; say so rather than guess.
		return Resolved{}, errors.New("clickhouse password given without a user")
	}
	return Resolved{TLS: tc, User: c.User, Password: pass}, nil
}
