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
	fs.BoolVar(&k.TLS.Enabled, "kafka-tls", false, "connect to Kafka over TLS (implied by any --kafka-tls-* file)")
	fs.StringVar(&k.TLS.CAFile, "kafka-tls-ca-file", "", "PEM CA certificates to verify the brokers with (default: system roots)")
	fs.StringVar(&k.TLS.CertFile, "kafka-tls-cert-file", "", "PEM client certificate for mutual TLS (with --kafka-tls-key-file)")
	fs.StringVar(&k.TLS.KeyFile, "kafka-tls-key-file", "", "PEM client key for mutual TLS")
	fs.StringVar(&k.TLS.ServerName, "kafka-tls-server-name", "", "name the broker certificates are verified against (default: the host dialled)")
	fs.StringVar(&k.Mechanism, "kafka-sasl-mechanism", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (empty: no SASL)")
	fs.StringVar(&k.User, "kafka-sasl-user", "", "SASL user")
	fs.StringVar(&k.Password.Value, "kafka-sasl-password", "", "SASL password (prefer --kafka-sasl-password-file)")
	fs.StringVar(&k.Password.File, "kafka-sasl-password-file", "", "file holding the SASL password")
	fs.BoolVar(&c.TLS.Enabled, "clickhouse-tls", false, "connect to ClickHouse over TLS (its tcp_port_secure; implied by any --clickhouse-tls-* file)")
	fs.StringVar(&c.TLS.CAFile, "clickhouse-tls-ca-file", "", "PEM CA certificates to verify ClickHouse with (default: system roots)")
	fs.StringVar(&c.TLS.CertFile, "clickhouse-tls-cert-file", "", "PEM client certificate (with --clickhouse-tls-key-file)")
	fs.StringVar(&c.TLS.KeyFile, "clickhouse-tls-key-file", "", "PEM client key")
	fs.StringVar(&c.TLS.ServerName, "clickhouse-tls-server-name", "", "name the server certificate is verified against (default: the host dialled)")
	fs.StringVar(&c.User, "clickhouse-user", "", "ClickHouse user (default: the server's default user)")
	fs.StringVar(&c.Password.Value, "clickhouse-password", "", "ClickHouse password (prefer --clickhouse-password-file)")
	fs.StringVar(&c.Password.File, "clickhouse-password-file", "", "file holding the ClickHouse password")
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
