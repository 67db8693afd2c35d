package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/schemas"
)

// TestJudgeAcrossBatchSizes runs the judge over a backlog that makes its polls change size
// (nextJudgeBatch): 3,000 small records (first poll 500, then up to judgeMaxRecords), then
// 300 records of 96 KiB (polls of about 85), then small ones again, every seventh refused.
// Each refused record must have exactly one dead letter, no other record any, and the judge's
// group must commit past every record.
func TestJudgeAcrossBatchSizes(t *testing.T) {
	brokers := itest.Kafka(t)
	in, dlq := itest.Topic(t, "in"), itest.Topic(t, "dlq")
	itest.CreateTopics(t, brokers, 2, in, dlq)
	prod := itest.Client(t, brokers)
	big := bytes.Repeat([]byte("x"), 96<<10)
	var recs []*kgo.Record
	add := func(n int, pad []byte) {
		for range n {
			i := len(recs)
			v := fmt.Appendf(nil, "r%d-", i)
			if i%7 == 0 {
				v = fmt.Appendf(nil, "bad%d-", i)
			}
			recs = append(recs, &kgo.Record{Topic: in, Key: fmt.Appendf(nil, "k%d", i%5), Value: append(v, pad...)})
		}
	}
	add(3000, nil)
	add(300, big)
	add(2000, nil)
	ctx := producedInputs(t, prod, recs)

	group := "judge-" + itest.Unique(t)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	exited := make(chan error, 1)
	go func() {
		exited <- Judge(runCtx, JudgeConfig{Brokers: brokers, Topics: []string{in}, Group: group,
			TransactionalID: group + "-0", DLQ: dlq, Consumer: "judge-test", Logger: testLog()},
			func(r *kgo.Record) error {
				if bytes.HasPrefix(r.Value, []byte("bad")) {
					return schemas.Refused("test:bad", errors.New("refused"))
				}
				return nil
			})
	}()
	adm := kadm.NewClient(prod)
	for {
		if ok, _ := itest.CaughtUpWritten(ctx, adm, group, in); ok {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("judge stopped: %v", err)
		case <-ctx.Done():
			_, lag := itest.CaughtUpWritten(context.Background(), adm, group, in)
			t.Fatalf("judge did not catch up: %s", lag)
		case <-time.After(200 * time.Millisecond):
		}
	}
	stop()
	if err := <-exited; err != nil {
		t.Fatalf("judge: %v", err)
	}

	type at struct {
		p int32
		o int64
	}
	want := map[at]bool{}
	back := readAllCommitted(t, brokers, in)
	for _, r := range back {
		if bytes.HasPrefix(r.Value, []byte("bad")) {
			want[at{r.Partition, r.Offset}] = true
		}
	}
	if len(back) != len(recs) {
		t.Fatalf("read %d input records back, produced %d", len(back), len(recs))
	}
	got := map[at]int{}
	for _, r := range readAllCommitted(t, brokers, dlq) {
		dl, err := schemas.DecodeDeadLetter(r.Value)
		if err != nil {
			t.Fatalf("decoding dead letter: %v", err)
		}
		got[at{dl.Partition, dl.Offset}]++
	}
	for k := range want {
		if got[k] != 1 {
			t.Errorf("refused record %d@%d has %d dead letters, want 1", k.p, k.o, got[k])
		}
	}
	for k, n := range got {
		if !want[k] {
			t.Errorf("accepted record %d@%d has %d dead letters, want 0", k.p, k.o, n)
		}
	}
	if len(want) != (len(recs)+6)/7 {
		t.Fatalf("%d refused records in the topic, want %d", len(want), (len(recs)+6)/7)
	}
}
