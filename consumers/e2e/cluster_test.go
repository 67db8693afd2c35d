package e2e

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/taskole/revshare/consumers/runners/migrate"
	"github.com/taskole/revshare/consumers/testkit/itest"
	"github.com/taskole/revshare/consumers/testkit/querytest"
	"github.com/taskole/revshare/consumers/tools/query"
	"github.com/taskole/revshare/consumers/tools/simulate"
	"github.com/taskole/revshare/schemas"
	"github.com/taskole/revshare/sql/migrations"
	"github.com/taskole/revshare/sql/queries"
)

// TestClusterShardedMatchesSingleServer runs a simulated marketplace year through the ledger
// and two sinks on the local clusters: one into a single-server database (plain MergeTree,
// on shard 02's server), one into the two-shard layout (migrate --cluster taskole_sharded:
// Distributed tables over Replicated <t>_local). Afterwards every raw table of the sharded
// layout holds exactly the records of Kafka — the same set as the single server, none missing,
// none doubled, each Kafka partition on one shard — and every query of the pack answers
// there as on the single server (and as the Go reference).
func TestClusterShardedMatchesSingleServer(t *testing.T) {
	cl := itest.ShardedCluster(t)
	brokers := cl.Brokers
	topics := itest.Topics(t)
	unique := itest.Unique(t)
	single, sharded := "taskole_e1_"+unique, "taskole_e2_"+unique
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	const parts = 6

	if _, err := migrate.Up(ctx, migrate.Config{Addr: cl.Shard2, Database: single}, migrations.FS()); err != nil {
		t.Fatalf("migrating the single server: %v", err)
	}
	if _, err := migrate.Up(ctx, migrate.Config{Addr: cl.ClickHouse[0], Database: sharded, Cluster: cl.Sharded}, migrations.FS()); err != nil {
		t.Fatalf("migrating the sharded cluster: %v", err)
	}
	open := func(addr, db string) driver.Conn {
		c, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, Auth: clickhouse.Auth{Database: db},
			Settings: clickhouse.Settings{"insert_distributed_sync": 1}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	one, many := open(cl.Shard2, single), open(cl.ClickHouse[1], sharded)
	shard1, shard2 := open(cl.ClickHouse[0], sharded), open(cl.Shard2, sharded)
	t.Cleanup(func() {
		bg := context.Background()
		_ = one.Exec(bg, "DROP DATABASE IF EXISTS "+single)
		_ = many.Exec(bg, "DROP DATABASE IF EXISTS "+sharded+" ON CLUSTER "+cl.Sharded)
		for _, c := range []driver.Conn{one, many, shard1, shard2} {
			c.Close()
		}
	})
	windows := map[string]int{"fitness": 30, "nutrition": 90}
	for _, c := range []driver.Conn{one, many} {
		insertWindows(ctx, t, c, windows)
	}

	cfg := smallPreset(t)
	cfg.Seed = 20252
	events, g := simulated(t, cfg)
	d, start, end := derivedRun(t, g, events, windows)
	inputs := []schemas.Topic{topics.Enrollments, topics.Bookings, topics.Businesses, topics.Feedback,
		topics.AcquisitionCosts, topics.RetentionCosts}
	var names []string
	for _, tp := range inputs {
		names = append(names, string(tp))
	}
	itest.CreateTopics(t, brokers, parts, append(names, string(topics.Payouts))...)
	pcl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	g2, err := simulate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	produced, err := simulate.Produce(ctx, pcl, g2, simulate.ProduceOptions{Topics: topics})
	pcl.Close()
	if err != nil {
		t.Fatalf("producing: %v", err)
	}
	t.Logf("produced %d records into %d partitions per topic", produced.Records, parts)

	group := "e2s-" + unique
	led := newLedger(t, brokers, topics, group, "ledger", parts)
	sOne := newSink(t, brokers, topics, group, "single", cl.Shard2, single, 5000)
	sMany := newSink(t, brokers, topics, group, "sharded", cl.ClickHouse[0], sharded, 5000)
	egCtx, stop := itest.Start(ctx, t, "ledger and sinks", led, sOne, sMany)
	defer stop()
	adm := itest.Client(t, brokers)
	itest.WaitFor(egCtx, t, "the ledger to consume its inputs", func() (bool, string) {
		return itest.CaughtUp(egCtx, kadm.NewClient(adm), group+"-ledger", 0, string(topics.Enrollments), string(topics.Bookings))
	})
	owners := readCommitted(egCtx, t, brokers, string(topics.ReferralOwners))
	comms := 0
	for _, r := range readCommitted(egCtx, t, brokers, string(topics.Commissions)) {
		if _, marker := headerOf(r, schemas.MarkerHeader); !marker {
			comms++
		}
	}
	ledgerDLQ := 0
	for _, r := range readCommitted(egCtx, t, brokers, string(topics.DLQ)) {
		if !fromConsumer(r, "sink") && !fromConsumer(r, "sink-sharded") && !fromConsumer(r, "sink-single") {
			ledgerDLQ++
		}
	}
	// What Kafka holds, table by table: every input record in its table or (refused) in dlq,
	// every committed ledger output, every ledger dead letter.
	want := map[string]int{"referral_owners": len(owners), "commissions": comms, "dlq": ledgerDLQ}
	d.wantRawTables(want)
	counts := func(c driver.Conn) (map[string]int, error) {
		got := map[string]int{}
		for table := range want {
			var n uint64
			if err := c.QueryRow(egCtx, "SELECT count() FROM "+table).Scan(&n); err != nil {
				return nil, err
			}
			got[table] = int(n)
		}
		return got, nil
	}
	for name, c := range map[string]driver.Conn{"single server": one, "sharded": many} {
		itest.WaitFor(egCtx, t, "the "+name+" sink to store every record", func() (bool, string) {
			got, err := counts(c)
			if err != nil {
				return false, err.Error()
			}
			return reflect.DeepEqual(got, want), fmt.Sprintf("rows %v, want %v", got, want)
		})
	}
	// None doubled, the same records on both, each Kafka partition on one shard, both shards used.
	var onShards [2]uint64
	for table := range want {
		const q = "SELECT count(), uniqExact(_topic, _partition, _offset), sum(cityHash64(_topic, _partition, _offset)) FROM "
		var n1, u1, h1, n2, u2, h2 uint64
		if err := one.QueryRow(ctx, q+table).Scan(&n1, &u1, &h1); err != nil {
			t.Fatal(err)
		}
		if err := many.QueryRow(ctx, q+table).Scan(&n2, &u2, &h2); err != nil {
			t.Fatal(err)
		}
		if n2 != u2 || n1 != u1 || n1 != n2 || h1 != h2 {
			t.Errorf("%s: single server %d rows (%d distinct), sharded %d rows (%d distinct); record sets equal: %v", table, n1, u1, n2, u2, h1 == h2)
		}
		var split uint64
		if err := many.QueryRow(ctx, "SELECT count() FROM (SELECT _topic, _partition FROM "+table+"_local GROUP BY _topic, _partition)").Scan(&split); err != nil {
			t.Fatal(err)
		}
		var p1, p2, r1, r2 uint64
		if err := shard1.QueryRow(ctx, "SELECT uniqExact(_topic, _partition), count() FROM "+table+"_local").Scan(&p1, &r1); err != nil {
			t.Fatal(err)
		}
		if err := shard2.QueryRow(ctx, "SELECT uniqExact(_topic, _partition), count() FROM "+table+"_local").Scan(&p2, &r2); err != nil {
			t.Fatal(err)
		}
		var total uint64
		if err := many.QueryRow(ctx, "SELECT uniqExact(_topic, _partition) FROM "+table).Scan(&total); err != nil {
			t.Fatal(err)
		}
		if p1+p2 != total || r1+r2 != n2 {
			t.Errorf("%s: shard 01 holds %d partitions (%d rows), shard 02 %d (%d rows), %d partitions and %d rows in all: a partition is on both shards",
				table, p1, r1, p2, r2, total, n2)
		}
		onShards[0] += r1
		onShards[1] += r2
	}
	if onShards[0] == 0 || onShards[1] == 0 {
		t.Errorf("raw rows per shard %v: the layout does not shard", onShards)
	}
	t.Logf("raw rows: %d on shard 01, %d on shard 02", onShards[0], onShards[1])

	// Every query of the pack: the sharded answer equals the single server's, and the Go
	// reference (except the consumer labels of dlq_counts, checked by the e2e test).
	until := end.AddDate(0, -1, 0)
	cases := querytest.NewRef(&d.world).Cases(querytest.Options{Until: until, At: start.AddDate(0, 8, 14).Add(12 * time.Hour)})
	var ref []querytest.Case
	for _, c := range cases {
		if c.Query != "dlq_counts" {
			ref = append(ref, c)
		}
	}
	querytest.Check(ctx, t, many, ref, "dlq_counts", "predicted_clv", "at_risk_clients", "p_alive_distribution",
		"predicted_net_clv") // as in TestPipelineMatchesReference: this pipeline runs no predict
	compared := 0
	for _, c := range cases {
		q, err := queries.Lookup(c.Query)
		if err != nil {
			t.Fatal(err)
		}
		a, err := query.Run(ctx, one, q, c.Params)
		if err != nil {
			t.Fatalf("single server: %v", err)
		}
		b, err := query.Run(ctx, many, q, c.Params)
		if err != nil {
			t.Fatalf("sharded: %v", err)
		}
		if diff := sameAnswer(a, b); diff != "" {
			t.Errorf("%s %v: sharded answer differs from the single server's: %s", c.Query, c.Params, diff)
		}
		compared++
	}
	t.Logf("%d query runs answered alike on the single server and the sharded layout", compared)
}

// sameAnswer compares two results of one query as sets of rows: every cell formatted, floats
// to a relative 1e-9 (a sum over shards adds in another order).
func sameAnswer(a, b *query.Table) string {
	if !reflect.DeepEqual(a.Columns, b.Columns) {
		return fmt.Sprintf("columns %v vs %v", a.Columns, b.Columns)
	}
	if len(a.Rows) != len(b.Rows) {
		return fmt.Sprintf("%d rows vs %d", len(a.Rows), len(b.Rows))
	}
	if len(a.Rows) == 0 {
		return ""
	}
	rows := func(t *query.Table) [][]string {
		out := make([][]string, len(t.Rows))
		for r := range t.Rows {
			for c := range t.Columns {
				out[r] = append(out[r], t.Format(r, c))
			}
		}
		sort.Slice(out, func(i, j int) bool { return key(t, out[i]) < key(t, out[j]) })
		return out
	}
	ra, rb := rows(a), rows(b)
	for r := range ra {
		for c := range ra[r] {
			if ra[r][c] == rb[r][c] {
				continue
			}
			if strings.Contains(a.Types[c], "Float") {
				x, errx := strconv.ParseFloat(ra[r][c], 64)
				y, erry := strconv.ParseFloat(rb[r][c], 64)
				if errx == nil && erry == nil && math.Abs(x-y) <= 1e-9*math.Max(1, math.Max(math.Abs(x), math.Abs(y))) {
					continue
				}
			}
			return fmt.Sprintf("row %v vs %v (column %s)", ra[r], rb[r], a.Columns[c])
		}
	}
	return ""
}

// key sorts a formatted row by its non-float cells (float cells may differ in the last bits).
func key(t *query.Table, row []string) string {
	var b strings.Builder
	for c, v := range row {
		if !strings.Contains(t.Types[c], "Float") {
			b.WriteString(v)
		}
		b.WriteByte(0)
	}
	return b.String()
}
