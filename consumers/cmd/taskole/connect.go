package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/secure"
)

// conns holds the TLS and authentication flags of Kafka and ClickHouse, shared by every
// subcommand through common.register. Secrets have no default, so --help never shows one;
// each can be given inline, in TASKOLE_*, or as a file (…-file, for mounted Secrets).
type conns struct {
	kafka secure.Kafka
	ch    secure.ClickHouse
}

func (s *conns) register(fs *flag.FlagSet) {
	k, c := &s.kafka, &s.ch
	registerTLS(fs, &k.TLS, "kafka", tlsHelp{
		on:   "connect to Kafka over TLS (implied by any --kafka-tls-* file)",
		ca:   "PEM CA certificates to verify the brokers with (default: system roots)",
		cert: "PEM client certificate for mutual TLS (with --kafka-tls-key-file)",
		key:  "PEM client key for mutual TLS",
		name: "name the broker certificates are verified against (default: the host dialled)",
	})
	fs.StringVar(&k.Mechanism, "kafka-sasl-mechanism", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: no SASL)")
	fs.StringVar(&k.User, "kafka-sasl-user", "", "SASL user")
	registerSecret(fs, &k.Password, "kafka-sasl-password", "SASL password")
	registerTLS(fs, &c.TLS, "clickhouse", tlsHelp{
		on:   "connect to ClickHouse over TLS (its tcp_port_secure; implied by any --clickhouse-tls-* file)",
		ca:   "PEM CA certificates to verify ClickHouse with (default: system roots)",
		cert: "PEM client certificate (with --clickhouse-tls-key-file)",
		key:  "PEM client key",
		name: "name the server certificate is verified against (default: the host dialled)",
	})
	fs.StringVar(&c.User, "clickhouse-user", "", "ClickHouse user (default: the server's default user)")
	registerSecret(fs, &c.Password, "clickhouse-password", "ClickHouse password")
}

// tlsHelp is the help of the five TLS flags of one server.
type tlsHelp struct{ on, ca, cert, key, name string }

// registerTLS registers the TLS flags --<server>-tls, --<server>-tls-ca-file, ... into t.
func registerTLS(fs *flag.FlagSet, t *secure.TLS, server string, h tlsHelp) {
	fs.BoolVar(&t.Enabled, server+"-tls", false, h.on)
	fs.StringVar(&t.CAFile, server+"-tls-ca-file", "", h.ca)
	fs.StringVar(&t.CertFile, server+"-tls-cert-file", "", h.cert)
	fs.StringVar(&t.KeyFile, server+"-tls-key-file", "", h.key)
	fs.StringVar(&t.ServerName, server+"-tls-server-name", "", h.name)
}

// registerSecret registers --<name> (the secret inline) and --<name>-file (a file holding it)
// into s; what is its help ("SASL password").
func registerSecret(fs *flag.FlagSet, s *secure.Secret, name, what string) {
	fs.StringVar(&s.Value, name, "", what+" (prefer --"+name+"-file)")
	fs.StringVar(&s.File, name+"-file", "", "file holding the "+what)
}

// kafkaOpts returns the seed brokers plus the TLS/SASL options: the one place every Kafka
// client of every subcommand gets its connection options from. extra come last.
func (c *common) kafkaOpts(extra ...kgo.Opt) ([]kgo.Opt, error) {
	sec, err := c.conns.kafka.Opts()
	if err != nil {
		return nil, err
	}
	return append(append([]kgo.Opt{kgo.SeedBrokers(c.brokerList()...)}, sec...), extra...), nil
}

// kafkaSecurity returns only the TLS/SASL options (components that add the seeds themselves
// take them as ClientOpts).
func (c *common) kafkaSecurity() ([]kgo.Opt, error) { return c.conns.kafka.Opts() }

// newKafkaClient creates a client from kafkaOpts.
func (c *common) newKafkaClient(extra ...kgo.Opt) (*kgo.Client, error) {
	opts, err := c.kafkaOpts(extra...)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating kafka client: %w", err)
	}
	return cl, nil
}

// clickhouse returns the TLS config and credentials of ClickHouse: the one place every
// ClickHouse connection of every subcommand gets them from.
func (c *common) clickhouse() (secure.Resolved, error) { return c.conns.ch.Resolve() }

// clickhouseOptions returns the driver options of a connection to database (may be empty).
func (c *common) clickhouseOptions(database string) (*clickhouse.Options, error) {
	r, err := c.clickhouse()
	if err != nil {
		return nil, err
	}
	return &clickhouse.Options{
		Addr: []string{c.chAddr},
		Auth: clickhouse.Auth{Database: database, Username: r.User, Password: r.Password},
		TLS:  r.TLS,
	}, nil
}

// withClickHouse runs f with a connection to --clickhouse-database, under a context that
// ends after timeout, and closes the connection.
func (c *common) withClickHouse(ctx context.Context, timeout time.Duration, f func(context.Context, clickhouse.Conn) error) error {
	conn, err := c.openClickHouse(c.chDatabase)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return f(ctx, conn)
}

// openClickHouse opens a connection with clickhouseOptions.
func (c *common) openClickHouse(database string) (clickhouse.Conn, error) {
	opts, err := c.clickhouseOptions(database)
	if err != nil {
		return nil, err
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("opening clickhouse %s: %w", c.chAddr, err)
	}
	return conn, nil
}
