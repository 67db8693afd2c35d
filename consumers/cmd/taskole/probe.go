package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/taskole/revshare/consumers/topology"
	"github.com/taskole/revshare/schemas"
)

func probeCommand() command {
	const summary = "measures booking → commission latency through a running ledger (a load generator)"
	return command{
		name:    "probe",
		summary: summary,
		run: func(ctx context.Context, args []string) error {
			var (
				c        common
				rate     float64
				duration time.Duration
				drain    time.Duration
				runID    string
				perPart  bool
			)
			fs := newFlags("probe", summary+`.

For each probe client it produces an enrollment with one business and then a completed booking
with another, at --rate bookings per second for --duration, and reads the commissions topic
read_committed: the latency of a booking is the time from its produce acknowledgement to the
moment its accrual is readable. Prints count, p50, p90, p99 and max.`)
			c.register(fs, "")
			fs.Float64Var(&rate, "rate", 1000, "bookings per second")
			fs.DurationVar(&duration, "duration", 20*time.Second, "how long to produce")
			fs.DurationVar(&drain, "drain", 30*time.Second, "how long to wait for the last commissions")
			fs.BoolVar(&perPart, "per-partition", false, "also print the max latency per bookings partition (which partitions stalled)")
			fs.StringVar(&runID, "run-id", strconv.FormatInt(time.Now().UnixNano(), 36), "prefix of the probe's ids")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			if rate <= 0 || duration <= 0 {
				return errors.New("--rate and --duration must be positive")
			}
			topics := topology.New(c.topicPrefix).Names()
			kopts, err := c.kafkaOpts()
			if err != nil {
				return err
			}
			res, err := probe(ctx, kopts, topics, rate, duration, drain, runID)
			if err != nil {
				return err
			}
			fmt.Println(res)
			if perPart {
				for _, p := range slices.Sorted(maps.Keys(res.maxBy)) {
					fmt.Printf("probe: partition=%d max=%s\n", p, res.maxBy[p].Round(time.Millisecond))
				}
			}
			return nil
		},
	}
}

type probeResult struct {
	sent, seen         int
	p50, p90, p99, max time.Duration
	achieved           float64
	maxBy              map[int32]time.Duration // max latency by bookings partition
}

func (r probeResult) String() string {
	return fmt.Sprintf("probe: sent=%d seen=%d rate=%.0f/s p50=%s p90=%s p99=%s max=%s",
		r.sent, r.seen, r.achieved, r.p50.Round(time.Millisecond), r.p90.Round(time.Millisecond),
		r.p99.Round(time.Millisecond), r.max.Round(time.Millisecond))
}

func probe(ctx context.Context, kopts []kgo.Opt, topics schemas.Topics, rate float64, duration, drain time.Duration, runID string) (probeResult, error) {
	prod, err := kgo.NewClient(append(kopts[:len(kopts):len(kopts)], kgo.ProducerLinger(0))...)
	if err != nil {
		return probeResult{}, fmt.Errorf("creating producer: %w", err)
	}
	defer prod.Close()
	cons, err := kgo.NewClient(append(kopts[:len(kopts):len(kopts)],
		kgo.ConsumeTopics(string(topics.Commissions)),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()),
		kgo.FetchMaxWait(50*time.Millisecond))...)
	if err != nil {
		return probeResult{}, fmt.Errorf("creating consumer: %w", err)
	}
	defer cons.Close()
	// Make sure the consumer has its end offsets before the first booking is produced.
	if err := cons.Ping(ctx); err != nil {
		return probeResult{}, fmt.Errorf("pinging kafka: %w", err)
	}
	// One short poll makes the consumer resolve its end offsets before the first booking is
	// produced (bounded: on an idle topic nothing comes back).
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	cons.PollRecords(pctx, 1)
	cancel()
	var (
		mu      sync.Mutex
		sentAt  = map[string]time.Time{}
		partOf  = map[string]int32{}
		maxBy   = map[int32]time.Duration{}
		lat     []time.Duration
		sent    int
		started = time.Now()
	)
	g, gctx := errgroup.WithContext(ctx)
	doneProducing := make(chan struct{})
	g.Go(func() error {
		defer close(doneProducing)
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		interval := time.Duration(float64(time.Second) / rate)
		next := time.Now()
		for i := 0; time.Since(started) < duration; i++ {
			if d := time.Until(next); d > 0 {
				select {
				case <-gctx.Done():
					return gctx.Err()
				case <-time.After(d):
				}
			}
			next = next.Add(interval)
			client := fmt.Sprintf("probe-%s-%d", runID, i)
			at := base.Add(time.Duration(i) * time.Millisecond)
			enr := schemas.AppendEnrollment(nil, schemas.Enrollment{EventID: client + "-e", ClientID: client,
				BusinessID: "probe-owner", Source: "invite", OccurredAt: at})
			bk := schemas.AppendBooking(nil, schemas.Booking{EventID: client + "-b", BookingID: client, ClientID: client,
				BusinessID: "probe-provider", Status: schemas.StatusCompleted, Amount: decimal.New(5000, -2),
				Currency: "EUR", OccurredAt: at.Add(time.Hour)})
			key := []byte(client)
			prod.Produce(gctx, &kgo.Record{Topic: string(topics.Enrollments), Key: key, Value: enr}, nil)
			prod.Produce(gctx, &kgo.Record{Topic: string(topics.Bookings), Key: key, Value: bk}, func(r *kgo.Record, err error) {
				if err != nil {
					return
				}
				mu.Lock()
				sentAt[client] = time.Now()
				partOf[client] = r.Partition
				sent++
				mu.Unlock()
			})
		}
		return prod.Flush(gctx)
	})
	g.Go(func() error {
		var deadline <-chan time.Time
		for {
			select {
			case <-doneProducing:
				if deadline == nil {
					deadline = time.After(drain)
				}
			default:
			}
			select {
			case <-deadline:
				return nil
			default:
			}
			pctx, cancel := context.WithTimeout(gctx, 200*time.Millisecond)
			fs := cons.PollFetches(pctx)
			cancel()
			if gctx.Err() != nil {
				return gctx.Err()
			}
			now := time.Now()
			fs.EachRecord(func(r *kgo.Record) {
				cm, err := schemas.DecodeCommission(r.Value)
				if err != nil || cm.Kind != schemas.Accrual {
					return
				}
				mu.Lock()
				// Matched by booking: if the ledger saw the booking before the enrollment
				// (two topics), the accrual comes as an ownership correction instead.
				if t, ok := sentAt[cm.BookingID]; ok {
					d := now.Sub(t)
					lat = append(lat, d)
					p := partOf[cm.BookingID]
					maxBy[p] = max(maxBy[p], d)
					delete(sentAt, cm.BookingID)
				}
				mu.Unlock()
			})
			mu.Lock()
			finished := deadline != nil && len(sentAt) == 0
			mu.Unlock()
			if finished {
				return nil
			}
		}
	})
	if err := g.Wait(); err != nil {
		return probeResult{}, err
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lat) == 0 {
		return probeResult{}, fmt.Errorf("no commission seen for %d probe bookings: is `taskole ledger` running on these topics?", sent)
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[int(math.Ceil(p*float64(len(lat))))-1] }
	return probeResult{sent: sent, seen: len(lat), p50: q(0.50), p90: q(0.90), p99: q(0.99), max: lat[len(lat)-1],
		achieved: float64(sent) / duration.Seconds(), maxBy: maxBy}, nil
}
