package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

// runCommand runs the subcommand name with args, as `taskole name args...` does.
func runCommand(ctx context.Context, name string, args ...string) error {
	for _, c := range commands() {
		if c.name == name {
			return c.exec(ctx, args)
		}
	}
	panic("no command " + name)
}

func TestParseFlagsEnvFallback(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    string
		wantErr error
	}{
		{name: "default", want: "127.0.0.1:9092"},
		{name: "env", env: map[string]string{"TASKOLE_KAFKA_BROKERS": "k:1"}, want: "k:1"},
		{name: "flag wins over env", args: []string{"--kafka-brokers", "k:2"}, env: map[string]string{"TASKOLE_KAFKA_BROKERS": "k:1"}, want: "k:2"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: errUsage},
		{name: "stray argument", args: []string{"extra"}, wantErr: errUsage},
		{name: "help", args: []string{"--help"}, wantErr: flag.ErrHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var c common
			fs := newFlags("x", "test")
			fs.SetOutput(io.Discard)
			c.register(fs, "")
			err := parseFlags(fs, tt.args)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("parseFlags error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && c.brokers != tt.want {
				t.Fatalf("brokers = %q, want %q", c.brokers, tt.want)
			}
		})
	}
}

func TestParseFlagsBadEnv(t *testing.T) {
	t.Setenv("TASKOLE_N", "not-a-number")
	fs := newFlags("x", "test")
	fs.Int("n", 1, "a number")
	err := parseFlags(fs, nil)
	if err == nil || !strings.Contains(err.Error(), "TASKOLE_N") {
		t.Fatalf("parseFlags error = %v, want one naming TASKOLE_N", err)
	}
}

func TestRunUnknownCommand(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"nope"}, &out); code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
	if !strings.Contains(out.String(), `unknown command "nope"`) || !strings.Contains(out.String(), "ledger") {
		t.Fatalf("usage output missing the error or the command list:\n%s", out.String())
	}
}

func TestEnvName(t *testing.T) {
	if got := envName("clickhouse-addr"); got != "TASKOLE_CLICKHOUSE_ADDR" {
		t.Fatalf("envName = %q", got)
	}
}

// TestSecretsNotInHelp: a password read from the environment never shows in --help.
func TestSecretsNotInHelp(t *testing.T) {
	t.Setenv("TASKOLE_KAFKA_SASL_PASSWORD", "kafka-hunter2")
	t.Setenv("TASKOLE_CLICKHOUSE_PASSWORD", "ch-hunter2")
	fs := newFlags("sink", "test")
	var c common
	c.register(fs, "127.0.0.1:9465")
	if err := parseFlags(fs, nil); err != nil {
		t.Fatal(err)
	}
	if c.conns.kafka.Password.Value != "kafka-hunter2" || c.conns.ch.Password.Value != "ch-hunter2" {
		t.Fatalf("passwords not read from the environment: %q %q", c.conns.kafka.Password.Value, c.conns.ch.Password.Value)
	}
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.Usage()
	if !strings.Contains(out.String(), "-kafka-sasl-password-file") {
		t.Fatalf("usage lacks the secret flags:\n%s", out.String())
	}
	if strings.Contains(out.String(), "hunter2") {
		t.Errorf("usage prints a secret:\n%s", out.String())
	}
}
