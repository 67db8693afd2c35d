package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/taskole/revshare/consumers/testkit/itest"
)

func TestParseMonth(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2025-03", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"2024-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), true},
		{"2025-01-31T23:30:00-02:00", time.Date(2025, 2, 1, 1, 30, 0, 0, time.UTC), true},
		{"March 2025", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := parseMonth(tt.in)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseMonth(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestSimulateCommand(t *testing.T) {
	brokers := itest.Kafka(t)
	topics := itest.Topics(t)
	itest.CreateTopics(t, brokers, 4, string(topics.Enrollments), string(topics.Bookings),
		string(topics.Businesses), string(topics.Feedback), string(topics.AcquisitionCosts), string(topics.RetentionCosts))
	prefix := topics.Prefix
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := runCommand(ctx, "simulate", "--preset", "small", "--clients", "200", "--months", "6",
		"--start", "2024-07", "--kafka-brokers", strings.Join(brokers, ","), "--topic-prefix", prefix)
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	if err := runCommand(ctx, "simulate", "--preset", "nope"); err == nil || !strings.Contains(err.Error(), "preset") {
		t.Fatalf("unknown preset error = %v", err)
	}
}
