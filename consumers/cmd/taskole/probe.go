package main

import (
	"context"
	"errors"
	"flag"
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

const probeSummary = "measures booking → commission latency through a running ledger (a load generator)"

func probeCommand() command {
	return command{name: "probe", summary: probeSummary, flags: probeFlags, help: probeSummary + `.

For each probe client it produces an enrollment with one business and then a completed booking
with another, at --rate bookings per second for --duration, and reads the commissions topic
read_committed: the latency of a booking is the time from its produce acknowledgement to the
moment its accrual is readable. Prints count, p50, p90, p99 and max.`}
}

// probeFlags registers the flags of `taskole probe`.
func probeFlags(fs *flag.FlagSet) action {
	rate := fs.Float64("rate", 1000, "bookings per second")
	duration := fs.Duration("duration", 20*time.Second, "how long to produce")
	drain := fs.Duration("drain", 30*time.Second, "how long to wait for the last commissions")
	perPart := fs.Bool("per-partition", false, "also print the max latency per bookings partition (which partitions stalled)")
	perSecond := fs.Bool("per-second", false, "also print the max latency per second of the run (when it stalled)")
	linger := fs.Duration("linger", 5*time.Millisecond, "the probe producer's linger (5ms: the default of the Java client since Kafka 4.0 and of librdkafka; 0 sends a request per record)")
	runID := fs.String("run-id", strconv.FormatInt(time.Now().UnixNano(), 36), "prefix of the probe's ids")
	return func(ctx context.Context, c *common) error {
		if *rate <= 0 || *duration <= 0 {
			return errors.New("--rate and --duration must be positive")
		}
		if *linger < 0 {
			return errors.New("--linger must not be negative")
		}
		topics := topology.New(c.topicPrefix).Names()
		kopts, err := c.kafkaOpts()
		if err != nil {
			return err
		}
		res, err := probe(ctx, kopts, topics, probeSpec{rate: *rate, duration: *duration, drain: *drain, linger: *linger, runID: *runID})
		if err != nil {
			return err
		}
		fmt.Println(res)
		if *perPart {
			for _, p := range slices.Sorted(maps.Keys(res.maxBy)) {
				fmt.Printf("probe: partition=%d max=%s\n", p, res.maxBy[p].Round(time.Millisecond))
			}
		}
		if *perSecond {
			for _, sec := range slices.Sorted(maps.Keys(res.maxAt)) {
				fmt.Printf("probe: second=%d max=%s\n", sec, res.maxAt[sec].Round(time.Millisecond))
			}
		}
		return nil
	}
}

type probeResult struct {
	sent, seen         int
	p50, p90, p99, max time.Duration
	achieved           float64
	maxBy              map[int32]time.Duration // max latency by bookings partition
	maxAt              map[int]time.Duration   // max latency by second of the run the booking was acknowledged in
}

func (r probeResult) String() string {
	return fmt.Sprintf("probe: sent=%d seen=%d rate=%.0f/s p50=%s p90=%s p99=%s max=%s",
		r.sent, r.seen, r.achieved, r.p50.Round(time.Millisecond), r.p90.Round(time.Millisecond),
		r.p99.Round(time.Millisecond), r.max.Round(time.Millisecond))
}

// probeSpec is what one probe run sends: rate bookings/s for duration, produced with linger;
// drain is how long it waits for the last accruals; runID prefixes its ids.
type probeSpec struct {
	rate                    float64
	duration, drain, linger time.Duration
	runID                   string
}

func probe(ctx context.Context, kopts []kgo.Opt, topics schemas.Topics, spec probeSpec) (probeResult, error) {
	prod, err := kgo.NewClient(append(kopts[:len(kopts):len(kopts)], kgo.ProducerLinger(spec.linger))...)
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
	pr := &prober{prod: prod, cons: cons, topics: topics, rate: spec.rate, duration: spec.duration, drain: spec.drain, runID: spec.runID,
		sentAt: map[string]time.Time{}, partOf: map[string]int32{}, maxBy: map[int32]time.Duration{}, maxAt: map[int]time.Duration{},
		started: time.Now()}
	g, gctx := errgroup.WithContext(ctx)
	doneProducing := make(chan struct{})
	g.Go(func() error {
		defer close(doneProducing)
		return pr.produce(gctx)
	})
	g.Go(func() error { return pr.consume(gctx, doneProducing) })
	if err := g.Wait(); err != nil {
		return probeResult{}, err
	}
	return pr.result()
}

// prober is one probe run: the producer's side records when each probe booking was
// acknowledged, the consumer's side the latency until its accrual is readable.
type prober struct {
	prod, cons      *kgo.Client
	topics          schemas.Topics
	rate            float64
	duration, drain time.Duration
	runID           string
	started         time.Time

	mu     sync.Mutex
	sentAt map[string]time.Time
	partOf map[string]int32
	maxBy  map[int32]time.Duration
	maxAt  map[int]time.Duration
	lat    []time.Duration
	sent   int
}

// produce produces one probe client's enrollment and completed booking at the probe's rate
// for its duration, then flushes.
func (pr *prober) produce(ctx context.Context) error {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	interval := time.Duration(float64(time.Second) / pr.rate)
	next := time.Now()
	for i := 0; time.Since(pr.started) < pr.duration; i++ {
		if d := time.Until(next); d > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(d):
			}
		}
		next = next.Add(interval)
		client := fmt.Sprintf("probe-%s-%d", pr.runID, i)
		// Event times follow the order of production, as a live producer's do: the ledger
		// merges its inputs in event time, so a booking dated after enrollments not yet
		// produced would wait for them (an hour ahead, it waited for the end of the run).
		at := base.Add(time.Since(pr.started))
		enr := schemas.AppendEnrollment(nil, schemas.Enrollment{EventID: client + "-e", ClientID: client,
			BusinessID: "probe-owner", Source: "invite", OccurredAt: at})
		bk := schemas.AppendBooking(nil, schemas.Booking{EventID: client + "-b", BookingID: client, ClientID: client,
			BusinessID: "probe-provider", Status: schemas.StatusCompleted, Amount: decimal.New(5000, -2),
			Currency: "EUR", OccurredAt: at.Add(time.Microsecond)})
		key := []byte(client)
		pr.prod.Produce(ctx, &kgo.Record{Topic: string(pr.topics.Enrollments), Key: key, Value: enr}, nil)
		pr.prod.Produce(ctx, &kgo.Record{Topic: string(pr.topics.Bookings), Key: key, Value: bk}, func(r *kgo.Record, err error) {
			if err != nil {
				return
			}
			pr.mu.Lock()
			pr.sentAt[client] = time.Now()
			pr.partOf[client] = r.Partition
			pr.sent++
			pr.mu.Unlock()
		})
	}
	return pr.prod.Flush(ctx)
}

// consume reads the commissions until every acknowledged booking has its accrual, or the
// drain time has passed since doneProducing closed.
func (pr *prober) consume(ctx context.Context, doneProducing <-chan struct{}) error {
	var deadline <-chan time.Time
	for {
		select {
		case <-doneProducing:
			if deadline == nil {
				deadline = time.After(pr.drain)
			}
		default:
		}
		select {
		case <-deadline:
			return nil
		default:
		}
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fs := pr.cons.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		now := time.Now()
		fs.EachRecord(func(r *kgo.Record) { pr.seen(r, now) })
		pr.mu.Lock()
		finished := deadline != nil && len(pr.sentAt) == 0
		pr.mu.Unlock()
		if finished {
			return nil
		}
	}
}

// seen records the latency of the probe booking whose accrual r is, read at now.
func (pr *prober) seen(r *kgo.Record, now time.Time) {
	cm, err := schemas.DecodeCommission(r.Value)
	if err != nil || cm.Kind != schemas.Accrual {
		return
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	// Matched by booking: if the ledger saw the booking before the enrollment
	// (two topics), the accrual comes as an ownership correction instead.
	if t, ok := pr.sentAt[cm.BookingID]; ok {
		d := now.Sub(t)
		pr.lat = append(pr.lat, d)
		p := pr.partOf[cm.BookingID]
		pr.maxBy[p] = max(pr.maxBy[p], d)
		sec := int(t.Sub(pr.started) / time.Second)
		pr.maxAt[sec] = max(pr.maxAt[sec], d)
		delete(pr.sentAt, cm.BookingID)
	}
}

// result summarizes the latencies seen.
func (pr *prober) result() (probeResult, error) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	lat := pr.lat
	if len(lat) == 0 {
		return probeResult{}, fmt.Errorf("no commission seen for %d probe bookings: is `taskole ledger` running on these topics?", pr.sent)
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[int(math.Ceil(p*float64(len(lat))))-1] }
	return probeResult{sent: pr.sent, seen: len(lat), p50: q(0.50), p90: q(0.90), p99: q(0.99), max: lat[len(lat)-1],
		achieved: float64(pr.sent) / pr.duration.Seconds(), maxBy: pr.maxBy, maxAt: pr.maxAt}, nil
}
