package report

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/taskole/revshare/consumers/testkit/itest"
)

// TestLoadFromQueryPack writes a tiny marketplace into the raw tables of a freshly migrated
// database, loads the report through the query pack and checks every section's figures.
func TestLoadFromQueryPack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, _, conn := itest.MigratedDatabase(ctx, t)

	empty, err := Load(ctx, conn, Source{})
	if err != nil {
		t.Fatalf("loading an empty database: %v", err)
	}
	if len(empty.Retention)+len(empty.Owners)+len(empty.DLQ) != 0 {
		t.Fatalf("empty database gave data: %+v", empty)
	}

	ts := func(v string) time.Time {
		t, err := time.Parse(time.DateTime, v)
		if err != nil {
			panic(err)
		}
		return t
	}
	type rows struct {
		table, cols string
		vals        [][]any
	}
	raw := []rows{
		{"businesses", "event_id, business_id, name, sector, referral_rate, occurred_at, occurred_at_ns, _topic, _partition, _offset", [][]any{
			{"bz1", "b1", "Ilusalong Roos", "beauty", d("0.05"), ts("2024-12-01 00:00:00"), uint32(0), "businesses", uint32(0), uint64(1)},
			{"bz2", "b2", "Massaaž Hele", "massage", d("0.07"), ts("2024-12-01 00:00:00"), uint32(0), "businesses", uint32(0), uint64(2)},
		}},
		{"referral_owners", "client_id, owner_business_id, owned_since, owned_since_ns, source, event_id, _topic, _partition, _offset", [][]any{
			{"c1", "b1", ts("2025-01-10 09:00:00"), uint32(0), "enrollment", "en1", "owners", uint32(0), uint64(1)},
			{"c2", "b2", ts("2025-02-03 10:00:00"), uint32(0), "booking", "k3-completed", "owners", uint32(0), uint64(2)},
		}},
		{"bookings", "event_id, booking_id, client_id, business_id, status, amount, currency, refund_amount, category, occurred_at, occurred_at_ns, _topic, _partition, _offset", [][]any{
			{"k1-completed", "k1", "c1", "b1", "completed", d("40.00"), "EUR", d("0"), "haircut", ts("2025-01-15 12:00:00"), uint32(0), "bookings", uint32(0), uint64(1)},
			{"k2-completed", "k2", "c1", "b2", "completed", d("60.00"), "EUR", d("0"), "classic", ts("2025-02-20 12:00:00"), uint32(0), "bookings", uint32(0), uint64(2)},
			{"k3-completed", "k3", "c2", "b2", "completed", d("50.00"), "EUR", d("0"), "classic", ts("2025-02-03 10:00:00"), uint32(0), "bookings", uint32(0), uint64(3)},
		}},
		{"commissions", "commission_id, kind, reason, owner_business_id, provider_business_id, client_id, booking_id, booking_amount, rate, amount, currency, occurred_at, occurred_at_ns, payable_at, payable_at_ns, source_event_id, _topic, _partition, _offset", [][]any{
			{"cm1", "accrual", "completed", "b1", "b2", "c1", "k2", d("60.00"), d("0.05"), d("3.00"), "EUR", ts("2025-02-20 12:00:00"), uint32(0), ts("2025-03-06 12:00:00"), uint32(0), "k2-completed", "commissions", uint32(0), uint64(1)},
		}},
		// the ledger's purchase facts for those bookings (the query pack reads their rollups)
		{"purchase_facts", "fact_id, client_id, booking_id, provider_business_id, currency, completed_at, completed_at_ns, completed_at_unix, purchases, amount, refunded, commission_owner, commission, source_event_id, occurred_at, occurred_at_ns, occurred_at_unix, _topic, _partition, _offset", [][]any{
			{"pf1", "c1", "k1", "b1", "EUR", ts("2025-01-15 12:00:00"), uint32(0), ts("2025-01-15 12:00:00").Unix(), int8(1), d("40.00"), d("0"), "", d("0"), "k1-completed", ts("2025-01-15 12:00:00"), uint32(0), ts("2025-01-15 12:00:00").Unix(), "facts", uint32(0), uint64(1)},
			{"pf2", "c1", "k2", "b2", "EUR", ts("2025-02-20 12:00:00"), uint32(0), ts("2025-02-20 12:00:00").Unix(), int8(1), d("60.00"), d("0"), "", d("0"), "k2-completed", ts("2025-02-20 12:00:00"), uint32(0), ts("2025-02-20 12:00:00").Unix(), "facts", uint32(0), uint64(2)},
			{"pf3", "c1", "k2", "b2", "EUR", ts("2025-02-20 12:00:00"), uint32(0), ts("2025-02-20 12:00:00").Unix(), int8(0), d("0"), d("0"), "b1", d("3.00"), "k2-completed", ts("2025-02-20 12:00:00"), uint32(0), ts("2025-02-20 12:00:00").Unix(), "facts", uint32(0), uint64(3)},
			{"pf4", "c2", "k3", "b2", "EUR", ts("2025-02-03 10:00:00"), uint32(0), ts("2025-02-03 10:00:00").Unix(), int8(1), d("50.00"), d("0"), "", d("0"), "k3-completed", ts("2025-02-03 10:00:00"), uint32(0), ts("2025-02-03 10:00:00").Unix(), "facts", uint32(0), uint64(4)},
		}},
		{"feedback", "event_id, client_id, business_id, kind, score, occurred_at, occurred_at_ns, _topic, _partition, _offset", [][]any{
			{"f1", "c1", "b1", "nps", uint8(10), ts("2025-01-16 12:00:00"), uint32(0), "feedback", uint32(0), uint64(1)},
			{"f2", "c2", "b1", "nps", uint8(3), ts("2025-01-17 12:00:00"), uint32(0), "feedback", uint32(0), uint64(2)},
		}},
		{"acquisition_costs", "event_id, business_id, amount, currency, channel, occurred_at, occurred_at_ns, _topic, _partition, _offset", [][]any{
			{"a1", "b1", d("100.00"), "EUR", "flyers", ts("2025-01-05 00:00:00"), uint32(0), "costs", uint32(0), uint64(1)},
		}},
		{"retention_costs", "event_id, business_id, client_id, amount, currency, kind, occurred_at, occurred_at_ns, _topic, _partition, _offset", [][]any{
			{"r1", "b1", "c1", d("4.00"), "EUR", "loyalty_discount", ts("2025-01-15 13:00:00"), uint32(0), "retention", uint32(0), uint64(1)},
			{"r2", "b2", "", d("10.00"), "EUR", "other", ts("2025-02-10 00:00:00"), uint32(0), "retention", uint32(0), uint64(2)},
		}},
		{"dlq", "source_topic, source_partition, source_offset, key, value, error, error_label, consumer, failed_at, _topic, _partition, _offset", [][]any{
			{"taskole.bookings.v1", int32(0), int64(7), "c9", "{", "decoding booking: unexpected end", "json:syntax", "ledger", ts("2025-02-01 00:00:00"), "dlq", uint32(0), uint64(1)},
		}},
	}
	for _, r := range raw {
		itest.Insert(ctx, t, conn, r.table, r.cols, r.vals)
	}
	data, err := Load(ctx, conn, Source{Until: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	jan := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	found := false
	for _, c := range data.Retention {
		if c.Cohort.Equal(jan) && c.Offset == 1 {
			found = c.Size == 1 && c.Active == 1
		}
	}
	if !found {
		t.Errorf("retention of the January cohort in February missing: %+v", data.Retention)
	}
	var b1 *Owner
	for i := range data.Owners {
		if data.Owners[i].BusinessID == "b1" {
			b1 = &data.Owners[i]
		}
	}
	if b1 == nil || b1.Name != "Ilusalong Roos" || b1.Currency != "EUR" || b1.Clients != 1 ||
		!b1.Direct.Equal(d("40")) || !b1.Elsewhere.Equal(d("60")) || !b1.Commissions.Equal(d("3")) {
		t.Errorf("owner b1 = %+v", b1)
	}
	if len(data.NPS) != 1 || data.NPS[0].BusinessID != "b1" || data.NPS[0].Promoters != 1 || data.NPS[0].Detractors != 1 {
		t.Errorf("satisfaction = %+v", data.NPS)
	}
	if len(data.LTVCAC) == 0 || data.LTVCAC[0].BusinessID != "b1" || !data.LTVCAC[0].Spend.Equal(d("100")) ||
		!data.LTVCAC[0].CAC.Valid || !data.LTVCAC[0].CAC.Decimal.Equal(d("100")) {
		t.Errorf("ltv:cac = %+v", data.LTVCAC)
	}
	if len(data.DLQ) != 1 || data.DLQ[0].Count != 1 || data.DLQ[0].Reason != "json:syntax" {
		t.Errorf("dead letters = %+v", data.DLQ)
	}
	if len(data.Churn) == 0 || len(data.CLV) == 0 {
		t.Errorf("churn %d rows, clv %d rows", len(data.Churn), len(data.CLV))
	}
	// Net CLV and CRR, worked by hand. January: one purchase of 40.00, one client acquired
	// (cohort CAC 100.00), 4.00 named to c1: gross 40, net 40 - 104 = -64. February: 60.00 and
	// 50.00 by two buyers, lifespan (2 + 1) / 2, so gross 55 x 1 x 1.5 = 82.5; the 10.00 naming
	// no client goes to b2's only client active in February (c2): costs 104 + 10 over 2
	// clients, net 82.5 - 57 = 25.5. CRR: January S = 0 (none); February S = 1 (c1), E = 2,
	// N = 1 (c2 joined): 100%; March S = 2, E = 2, N = 0: 100%.
	wantCLV := map[string][4]string{"2025-01": {"40", "-64", "100", "4"}, "2025-02": {"82.5", "25.5", "50", "7"}}
	if len(data.NetCLV) != len(wantCLV) {
		t.Errorf("net clv = %+v, want %d months", data.NetCLV, len(wantCLV))
	}
	for _, m := range data.NetCLV {
		w, ok := wantCLV[monthLabel(m.Month)]
		if !ok || m.Currency != "EUR" || !m.Gross.Equal(d(w[0])) || !m.Net.Equal(d(w[1])) ||
			!m.AcquisitionPerClient.Equal(d(w[2])) || !m.RetentionPerClient.Equal(d(w[3])) {
			t.Errorf("net clv %s = %+v, want gross, net, acquisition, retention %v", monthLabel(m.Month), m, w)
		}
	}
	wantCRR := map[string][3]int64{"2025-01": {0, 1, 1}, "2025-02": {1, 2, 1}, "2025-03": {2, 2, 0}}
	if len(data.CRR) != len(wantCRR) {
		t.Errorf("crr = %+v, want %d months", data.CRR, len(wantCRR))
	}
	for _, r := range data.CRR {
		if w := wantCRR[monthLabel(r.Month)]; r.Start != w[0] || r.End != w[1] || r.New != w[2] {
			t.Errorf("crr %s = %+v, want S, E, N %v", monthLabel(r.Month), r, w)
		}
	}
	var html, text bytes.Buffer
	if err := HTML(&html, data); err != nil {
		t.Fatal(err)
	}
	if err := Text(&text, data); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "Ilusalong Roos") || !strings.Contains(html.String(), `<rect class="cell"`) {
		t.Errorf("rendered report lacks loaded data:\n%s", text.String())
	}
}
