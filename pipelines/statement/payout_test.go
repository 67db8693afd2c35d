package statement

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/taskole/revshare/schemas"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// cm builds a ledger entry of owner "o1" payable at payable (occurred a day before).
func cm(id, cur, amount, payable string) schemas.Commission {
	d := decimal.RequireFromString(amount)
	kind := schemas.Accrual
	if d.Sign() < 0 {
		kind = schemas.Reversal
	}
	p := ts(payable)
	return schemas.Commission{CommissionID: id, Kind: kind, Reason: schemas.ReasonCompleted,
		OwnerBusinessID: "o1", Currency: cur, Amount: d, OccurredAt: p.Add(-24 * time.Hour), PayableAt: p}
}

// op is one step of a scenario: an entry to add (after advancing to its occurred_at, as the
// runner does) or a bare watermark.
type op struct {
	c    *schemas.Commission
	wm   string
	want Outcome
}

func add(id, cur, amount, payable string) op {
	c := cm(id, cur, amount, payable)
	return op{c: &c, want: Booked}
}

func late(id, cur, amount, payable, occurred string) op {
	c := cm(id, cur, amount, payable)
	c.OccurredAt = ts(occurred)
	return op{c: &c, want: Late}
}

func wm(t string) op { return op{wm: t} }

// line renders a statement compactly, amounts with their exact exponent.
func line(p schemas.Payout) string {
	return fmt.Sprintf("%s %s open=%s acc=%s rev=%s net=%s pay=%s cf=%s ids=%s",
		p.Currency, p.PeriodStart.Format("2006-01-02"), fx(p.OpeningBalance), fx(p.Accrued), fx(p.Reversed),
		fx(p.Net), fx(p.Payable), fx(p.CarriedForward), strings.Join(p.CommissionIDs, ","))
}

// fx formats d keeping its exponent (as the JSON encoder does).
func fx(d decimal.Decimal) string {
	if d.Exponent() >= 0 {
		return d.String()
	}
	return d.StringFixed(-d.Exponent())
}

// check asserts the invariants every statement must satisfy.
func check(t *testing.T, e *Engine, p schemas.Payout) {
	t.Helper()
	exp, _ := schemas.MinorUnit(p.Currency)
	for name, d := range map[string]decimal.Decimal{"opening": p.OpeningBalance, "accrued": p.Accrued,
		"reversed": p.Reversed, "net": p.Net, "payable": p.Payable, "carried": p.CarriedForward} {
		if d.Exponent() != -exp {
			t.Errorf("%s: %s %s has exponent %d, want %d", line(p), name, d, d.Exponent(), -exp)
		}
	}
	if !p.Accrued.Add(p.Reversed).Equal(p.Net) || !p.OpeningBalance.Add(p.Net).Equal(p.Payable.Add(p.CarriedForward)) {
		t.Errorf("%s: totals do not add up", line(p))
	}
	if p.Accrued.Sign() < 0 || p.Reversed.Sign() > 0 || p.Payable.Sign() < 0 {
		t.Errorf("%s: sign", line(p))
	}
	if p.Payable.Sign() > 0 && (p.Payable.LessThan(e.MinPayout(p.Currency)) || !p.CarriedForward.IsZero()) {
		t.Errorf("%s: paid below the minimum or with a carry", line(p))
	}
	if p.CommissionCount != len(p.CommissionIDs) || !slices.IsSorted(p.CommissionIDs) {
		t.Errorf("%s: ids %v count %d", line(p), p.CommissionIDs, p.CommissionCount)
	}
	if p.PayoutID != ID(p.OwnerBusinessID, p.Currency, p.PeriodStart) || !p.PeriodEnd.After(p.PeriodStart) {
		t.Errorf("%s: id or period", line(p))
	}
}

func run(t *testing.T, e *Engine, ops []op) []string {
	t.Helper()
	var s State
	var out []schemas.Payout
	var w time.Time
	for _, o := range ops {
		if o.c == nil {
			if v := ts(o.wm); v.After(w) {
				w = v
			}
			out = e.Advance(out, &s, w)
			continue
		}
		if o.c.OccurredAt.After(w) {
			w = o.c.OccurredAt
		}
		out = e.Advance(out, &s, w)
		got, err := e.Add(&s, *o.c)
		if err != nil {
			t.Fatalf("adding %s: %v", o.c.CommissionID, err)
		}
		if got != o.want {
			t.Errorf("adding %s: outcome %v, want %v", o.c.CommissionID, got, o.want)
		}
		// Every step survives a restart.
		b, _ := s.MarshalBinary()
		var r State
		if err := r.UnmarshalBinary(b); err != nil {
			t.Fatalf("restoring state: %v", err)
		}
		b2, _ := r.MarshalBinary()
		if string(b) != string(b2) {
			t.Fatalf("state round trip differs")
		}
		s = r
	}
	var lines []string
	for _, p := range out {
		check(t, e, p)
		lines = append(lines, line(p))
	}
	return lines
}

func TestStatements(t *testing.T) {
	week := Config{Period: Week}
	jpyMin := Config{MinPayout: map[string]decimal.Decimal{"JPY": decimal.NewFromInt(2000)}}
	tests := []struct {
		name string
		cfg  Config
		ops  []op
		want []string
	}{
		{
			name: "exactly the minimum is paid",
			ops:  []op{add("a", "EUR", "20.00", "2025-01-15T10:00:00Z"), wm("2025-02-04T00:00:00Z")},
			want: []string{"EUR 2025-01-01 open=0.00 acc=20.00 rev=0.00 net=20.00 pay=20.00 cf=0.00 ids=a"},
		},
		{
			name: "one cent below carries forward, then pays",
			ops: []op{
				add("a", "EUR", "12.34", "2025-01-15T10:00:00Z"),
				add("b", "EUR", "7.65", "2025-01-31T23:59:59Z"),
				add("c", "EUR", "0.01", "2025-02-01T00:00:00Z"),
				wm("2025-03-04T00:00:00Z"),
			},
			want: []string{
				"EUR 2025-01-01 open=0.00 acc=19.99 rev=0.00 net=19.99 pay=0.00 cf=19.99 ids=a,b",
				"EUR 2025-02-01 open=19.99 acc=0.01 rev=0.00 net=0.01 pay=20.00 cf=0.00 ids=c",
			},
		},
		{
			name: "carry forward across several periods",
			ops: []op{
				add("a", "EUR", "5.00", "2025-01-10T00:00:00Z"),
				add("b", "EUR", "5.00", "2025-02-10T00:00:00Z"),
				add("c", "EUR", "5.00", "2025-03-10T00:00:00Z"),
				add("d", "EUR", "5.00", "2025-04-10T00:00:00Z"),
				wm("2025-06-04T00:00:00Z"),
			},
			want: []string{
				"EUR 2025-01-01 open=0.00 acc=5.00 rev=0.00 net=5.00 pay=0.00 cf=5.00 ids=a",
				"EUR 2025-02-01 open=5.00 acc=5.00 rev=0.00 net=5.00 pay=0.00 cf=10.00 ids=b",
				"EUR 2025-03-01 open=10.00 acc=5.00 rev=0.00 net=5.00 pay=0.00 cf=15.00 ids=c",
				"EUR 2025-04-01 open=15.00 acc=5.00 rev=0.00 net=5.00 pay=20.00 cf=0.00 ids=d",
			},
		},
		{
			name: "a carried balance gets a statement in periods without entries",
			ops: []op{
				add("a", "EUR", "3.00", "2025-01-10T00:00:00Z"),
				add("b", "EUR", "30.00", "2025-04-10T00:00:00Z"),
				wm("2025-05-04T00:00:00Z"),
			},
			want: []string{
				"EUR 2025-01-01 open=0.00 acc=3.00 rev=0.00 net=3.00 pay=0.00 cf=3.00 ids=a",
				"EUR 2025-02-01 open=3.00 acc=0.00 rev=0.00 net=0.00 pay=0.00 cf=3.00 ids=",
				"EUR 2025-03-01 open=3.00 acc=0.00 rev=0.00 net=0.00 pay=0.00 cf=3.00 ids=",
				"EUR 2025-04-01 open=3.00 acc=30.00 rev=0.00 net=30.00 pay=33.00 cf=0.00 ids=b",
			},
		},
		{
			name: "no statement for periods with neither entries nor balance",
			ops: []op{
				add("a", "EUR", "25.00", "2025-01-10T00:00:00Z"),
				add("b", "EUR", "25.00", "2025-04-10T00:00:00Z"),
				wm("2025-05-04T00:00:00Z"),
			},
			want: []string{
				"EUR 2025-01-01 open=0.00 acc=25.00 rev=0.00 net=25.00 pay=25.00 cf=0.00 ids=a",
				"EUR 2025-04-01 open=0.00 acc=25.00 rev=0.00 net=25.00 pay=25.00 cf=0.00 ids=b",
			},
		},
		{
			name: "reversal within the period nets before the threshold",
			ops: []op{
				add("a", "EUR", "30.00", "2025-01-10T00:00:00Z"),
				add("r", "EUR", "-10.01", "2025-01-20T00:00:00Z"),
				wm("2025-02-04T00:00:00Z"),
			},
			want: []string{"EUR 2025-01-01 open=0.00 acc=30.00 rev=-10.01 net=19.99 pay=0.00 cf=19.99 ids=a,r"},
		},
		{
			name: "late reversal after the statement lands in the next one, negative balance carries",
			ops: []op{
				add("a", "EUR", "30.00", "2025-01-10T00:00:00Z"),
				wm("2025-02-04T00:00:00Z"), // January closes: 30.00 paid
				late("r", "EUR", "-30.00", "2025-01-10T00:00:00Z", "2025-01-25T00:00:00Z"),
				add("b", "EUR", "10.00", "2025-03-10T00:00:00Z"),
				add("c", "EUR", "45.00", "2025-04-10T00:00:00Z"),
				wm("2025-05-04T00:00:00Z"),
			},
			want: []string{
				"EUR 2025-01-01 open=0.00 acc=30.00 rev=0.00 net=30.00 pay=30.00 cf=0.00 ids=a",
				"EUR 2025-02-01 open=0.00 acc=0.00 rev=-30.00 net=-30.00 pay=0.00 cf=-30.00 ids=r",
				"EUR 2025-03-01 open=-30.00 acc=10.00 rev=0.00 net=10.00 pay=0.00 cf=-20.00 ids=b",
				"EUR 2025-04-01 open=-20.00 acc=45.00 rev=0.00 net=45.00 pay=25.00 cf=0.00 ids=c",
			},
		},
		{
			name: "close delay: the period stays open until period_end + 72h",
			ops: []op{
				add("a", "EUR", "20.00", "2025-01-31T12:00:00Z"),
				wm("2025-02-03T23:59:59Z"),
				add("b", "EUR", "1.00", "2025-01-31T13:00:00Z"), // still January
				wm("2025-02-04T00:00:00Z"),
			},
			want: []string{"EUR 2025-01-01 open=0.00 acc=21.00 rev=0.00 net=21.00 pay=21.00 cf=0.00 ids=a,b"},
		},
		{
			name: "duplicate commission ids count once, open or closed",
			ops: []op{
				add("a", "EUR", "20.00", "2025-01-10T00:00:00Z"),
				{c: ptr(cm("a", "EUR", "20.00", "2025-01-10T00:00:00Z")), want: Duplicate},
				wm("2025-02-04T00:00:00Z"),
				{c: ptr(cm("a", "EUR", "20.00", "2025-01-10T00:00:00Z")), want: Duplicate},
				wm("2025-03-04T00:00:00Z"),
			},
			want: []string{"EUR 2025-01-01 open=0.00 acc=20.00 rev=0.00 net=20.00 pay=20.00 cf=0.00 ids=a"},
		},
		{
			name: "currencies are separate accounts with their own minor units",
			ops: []op{
				add("e1", "EUR", "19.99", "2025-01-10T00:00:00Z"),
				add("j1", "JPY", "20", "2025-01-10T00:00:00Z"),
				add("b1", "BHD", "19.999", "2025-01-11T00:00:00Z"),
				add("b2", "BHD", "0.001", "2025-02-11T00:00:00Z"),
				wm("2025-03-04T00:00:00Z"),
			},
			want: []string{
				// b2 (occurred 2025-02-09) moves the watermark past January's close first.
				"BHD 2025-01-01 open=0.000 acc=19.999 rev=0.000 net=19.999 pay=0.000 cf=19.999 ids=b1",
				"EUR 2025-01-01 open=0.00 acc=19.99 rev=0.00 net=19.99 pay=0.00 cf=19.99 ids=e1",
				"JPY 2025-01-01 open=0 acc=20 rev=0 net=20 pay=20 cf=0 ids=j1",
				"BHD 2025-02-01 open=19.999 acc=0.001 rev=0.000 net=0.001 pay=20.000 cf=0.000 ids=b2",
				"EUR 2025-02-01 open=19.99 acc=0.00 rev=0.00 net=0.00 pay=0.00 cf=19.99 ids=",
			},
		},
		{
			name: "minimum payout per currency",
			cfg:  jpyMin,
			ops: []op{
				add("j1", "JPY", "1999", "2025-01-10T00:00:00Z"),
				add("j2", "JPY", "1", "2025-02-10T00:00:00Z"),
				wm("2025-03-04T00:00:00Z"),
			},
			want: []string{
				"JPY 2025-01-01 open=0 acc=1999 rev=0 net=1999 pay=0 cf=1999 ids=j1",
				"JPY 2025-02-01 open=1999 acc=1 rev=0 net=1 pay=2000 cf=0 ids=j2",
			},
		},
		{
			name: "weekly periods start on Monday UTC",
			cfg:  week,
			ops: []op{
				add("a", "EUR", "15.00", "2025-01-01T10:00:00Z"), // Wednesday: week of 2024-12-30
				add("b", "EUR", "6.00", "2025-01-05T23:59:59Z"),  // Sunday: same week
				add("c", "EUR", "1.00", "2025-01-06T00:00:00Z"),  // Monday: next week
				wm("2025-01-16T00:00:00Z"),
			},
			want: []string{
				"EUR 2024-12-30 open=0.00 acc=21.00 rev=0.00 net=21.00 pay=21.00 cf=0.00 ids=a,b",
				"EUR 2025-01-06 open=0.00 acc=1.00 rev=0.00 net=1.00 pay=0.00 cf=1.00 ids=c",
			},
		},
		{
			name: "zero minimum pays any positive balance",
			cfg:  Config{MinPayout: map[string]decimal.Decimal{"EUR": decimal.Zero}},
			ops:  []op{add("a", "EUR", "0.01", "2025-01-10T00:00:00Z"), wm("2025-02-04T00:00:00Z")},
			want: []string{"EUR 2025-01-01 open=0.00 acc=0.01 rev=0.00 net=0.01 pay=0.01 cf=0.00 ids=a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := run(t, e, tt.ops)
			if !slices.Equal(got, tt.want) {
				t.Errorf("statements:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestAddInvalid(t *testing.T) {
	e, _ := New(Config{})
	good := cm("a", "EUR", "1.00", "2025-01-10T00:00:00Z")
	tests := []struct {
		name  string
		edit  func(*schemas.Commission)
		label string
	}{
		{"empty id", func(c *schemas.Commission) { c.CommissionID = "" }, schemas.LabelMissingField},
		{"empty owner", func(c *schemas.Commission) { c.OwnerBusinessID = "" }, schemas.LabelMissingField},
		{"no payable_at", func(c *schemas.Commission) { c.PayableAt = time.Time{} }, schemas.LabelMissingField},
		{"other owner", func(c *schemas.Commission) { c.OwnerBusinessID = "o2" }, schemas.LabelOwnerMismatch},
		{"unknown currency", func(c *schemas.Commission) { c.Currency = "XXX" }, schemas.LabelUnknownCurrency},
		{"too many places", func(c *schemas.Commission) { c.Amount = decimal.RequireFromString("1.001") }, schemas.LabelPlaces},
		{"JPY with cents", func(c *schemas.Commission) { c.Currency = "JPY"; c.Amount = decimal.RequireFromString("1.5") }, schemas.LabelPlaces},
		{"negative accrual", func(c *schemas.Commission) { c.Amount = decimal.RequireFromString("-1.00") }, schemas.LabelSign},
		{"positive reversal", func(c *schemas.Commission) { c.Kind = schemas.Reversal }, schemas.LabelSign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s State
			if _, err := e.Add(&s, cm("x", "EUR", "2.00", "2025-01-09T00:00:00Z")); err != nil {
				t.Fatal(err)
			}
			before, _ := s.MarshalBinary()
			c := good
			tt.edit(&c)
			_, err := e.Add(&s, c)
			var ie *schemas.InvalidError
			if !errors.As(err, &ie) || ie.Label() != tt.label {
				t.Fatalf("error %v, want label %s", err, tt.label)
			}
			after, _ := s.MarshalBinary()
			if string(before) != string(after) {
				t.Errorf("state changed by a refused entry")
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero value", Config{}, true},
		{"weekly", Config{Period: Week}, true},
		{"unknown period", Config{Period: 7}, false},
		{"negative delay", Config{CloseDelay: -time.Hour}, false},
		{"negative horizon", Config{DedupeHorizon: -time.Hour}, false},
		{"unknown currency", Config{MinPayout: map[string]decimal.Decimal{"EURO": decimal.NewFromInt(1)}}, false},
		{"negative minimum", Config{MinPayout: map[string]decimal.Decimal{"EUR": decimal.NewFromInt(-1)}}, false},
		{"too many places", Config{MinPayout: map[string]decimal.Decimal{"JPY": decimal.RequireFromString("0.5")}}, false},
		{"BHD three places", Config{MinPayout: map[string]decimal.Decimal{"BHD": decimal.RequireFromString("5.125")}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New: %v, want ok=%v", err, tt.ok)
			}
			if err == nil && tt.cfg.CloseDelay == 0 && e.CloseDelay() != DefaultCloseDelay {
				t.Errorf("close delay %v", e.CloseDelay())
			}
		})
	}
}

func TestParse(t *testing.T) {
	m, err := ParseMinPayout("EUR=20.00, JPY=2000,BHD=20.000")
	if err != nil || len(m) != 3 || !m["JPY"].Equal(decimal.NewFromInt(2000)) {
		t.Fatalf("ParseMinPayout: %v %v", m, err)
	}
	if _, err := ParseMinPayout("EUR"); err == nil {
		t.Error("ParseMinPayout accepted a pair without =")
	}
	if _, err := ParseMinPayout("EUR=x"); err == nil {
		t.Error("ParseMinPayout accepted a non-decimal")
	}
	for in, want := range map[string]Period{"month": Month, "": Month, "Week": Week} {
		if p, err := ParsePeriod(in); err != nil || p != want {
			t.Errorf("ParsePeriod(%q) = %v, %v", in, p, err)
		}
	}
	if _, err := ParsePeriod("fortnight"); err == nil {
		t.Error("ParsePeriod accepted fortnight")
	}
}

func TestOpenFrom(t *testing.T) {
	e, _ := New(Config{})
	tests := []struct{ wm, want string }{
		{"2025-02-03T23:59:59Z", "2025-01-01T00:00:00Z"},
		{"2025-02-04T00:00:00Z", "2025-02-01T00:00:00Z"},
		{"2025-03-03T00:00:00Z", "2025-02-01T00:00:00Z"}, // February has 28 days: 2025-03-04 closes it
		{"2025-01-03T12:00:00Z", "2024-12-01T00:00:00Z"}, // across a year
	}
	for _, tt := range tests {
		if got := e.OpenFrom(ts(tt.wm)); !got.Equal(ts(tt.want)) {
			t.Errorf("OpenFrom(%s) = %s, want %s", tt.wm, got, tt.want)
		}
	}
	if !e.OpenFrom(time.Time{}).IsZero() {
		t.Error("zero watermark closes something")
	}
	if got := e.CloseThrough(ts("2025-02-01T00:00:00Z")); !e.OpenFrom(got).Equal(ts("2025-02-01T00:00:00Z")) {
		t.Errorf("CloseThrough(February) opens from %s", e.OpenFrom(got))
	}
}

func TestPayoutJSON(t *testing.T) {
	e, _ := New(Config{})
	var s State
	if _, err := e.Add(&s, cm("a", "EUR", "20", "2025-01-10T00:00:00Z")); err != nil {
		t.Fatal(err)
	}
	out := e.Advance(nil, &s, ts("2025-02-04T00:00:00Z"))
	if len(out) != 1 {
		t.Fatalf("%d statements", len(out))
	}
	got := string(schemas.AppendPayout(nil, out[0]))
	want := `{"payout_id":"` + ID("o1", "EUR", ts("2025-01-01T00:00:00Z")) + `","owner_business_id":"o1","currency":"EUR",` +
		`"period_start":"2025-01-01T00:00:00Z","period_end":"2025-02-01T00:00:00Z","opening_balance":"0.00","accrued":"20.00",` +
		`"reversed":"0.00","net":"20.00","payable":"20.00","carried_forward":"0.00","commission_count":1,"commission_ids":["a"],"late_count":0}`
	if got != want {
		t.Errorf("JSON\n got %s\nwant %s", got, want)
	}
	back, err := schemas.DecodePayout([]byte(got))
	if err != nil || back.PayoutID != out[0].PayoutID || !back.Payable.Equal(out[0].Payable) {
		t.Errorf("decoding the statement: %v", err)
	}
}

func TestUnmarshalCorrupt(t *testing.T) {
	e, _ := New(Config{})
	var s State
	for i, p := range []string{"2025-01-10T00:00:00Z", "2025-02-10T00:00:00Z", "2025-03-10T00:00:00Z"} {
		if _, err := e.Add(&s, cm(fmt.Sprint("id", i), "EUR", "5.00", p)); err != nil {
			t.Fatal(err)
		}
		e.Advance(nil, &s, ts(p).AddDate(0, 1, 0))
	}
	good, _ := s.MarshalBinary()
	for n := 0; n < len(good); n++ {
		var r State
		if err := r.UnmarshalBinary(good[:n]); err == nil {
			t.Errorf("truncation at %d accepted", n)
		}
	}
	var r State
	if err := r.UnmarshalBinary(good); err != nil {
		t.Fatal(err)
	}
	if !r.Balance("EUR").Equal(s.Balance("EUR")) || r.Open() != s.Open() {
		t.Errorf("round trip lost data")
	}
}

func FuzzUnmarshal(f *testing.F) {
	e, _ := New(Config{})
	var s State
	e.Add(&s, cm("a", "EUR", "5.00", "2025-01-10T00:00:00Z"))
	e.Advance(nil, &s, ts("2025-02-10T00:00:00Z"))
	e.Add(&s, cm("b", "JPY", "5", "2025-02-10T00:00:00Z"))
	b, _ := s.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var s State
		if s.UnmarshalBinary(data) != nil {
			return
		}
		again, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var r State
		if err := r.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-decoding an encoded state: %v", err)
		}
		if third, _ := r.MarshalBinary(); string(third) != string(again) {
			t.Fatalf("round trip differs:\n%x\n%x", again, third)
		}
		e.Advance(nil, &s, ts("2030-01-01T00:00:00Z"))
	})
}

// TestAddFromSourceWatermark pins where AddFrom books an entry: in the period of its
// payable_at unless its own input partition had closed that period before it, then (late) in
// the first period that partition leaves open; never before the owner's first open period.
func TestAddFromSourceWatermark(t *testing.T) {
	e, _ := New(Config{})
	tests := []struct {
		name, payable, source, ownerClock string // "" : zero
		want                              Outcome
		period                            string
	}{
		{"no source watermark", "2025-05-20T00:00:00Z", "", "", Booked, "2025-05-01"},
		{"source just before the close", "2025-05-20T00:00:00Z", "2025-06-03T23:59:59Z", "", Booked, "2025-05-01"},
		{"source at the close", "2025-05-20T00:00:00Z", "2025-06-04T00:00:00Z", "", Late, "2025-06-01"},
		{"source months later", "2025-05-20T00:00:00Z", "2025-08-10T00:00:00Z", "", Late, "2025-08-01"},
		{"source inside the close delay of the next month", "2025-05-20T00:00:00Z", "2025-07-02T00:00:00Z", "", Late, "2025-06-01"},
		{"payable after the source", "2025-09-20T00:00:00Z", "2025-08-10T00:00:00Z", "", Booked, "2025-09-01"},
		{"owner closed later than the source", "2025-05-20T00:00:00Z", "2025-06-01T00:00:00Z", "2025-08-05T00:00:00Z", Late, "2025-08-01"},
		{"owner clock behind the source", "2025-05-20T00:00:00Z", "2025-06-01T00:00:00Z", "2025-05-02T00:00:00Z", Booked, "2025-05-01"},
	}
	for _, tt := range tests {
		var s State
		if tt.ownerClock != "" {
			e.Advance(nil, &s, ts(tt.ownerClock))
		}
		var src time.Time
		if tt.source != "" {
			src = ts(tt.source)
		}
		c := cm("a", "EUR", "25.00", tt.payable)
		got, err := e.AddFrom(&s, c, src)
		if err != nil || got != tt.want {
			t.Errorf("%s: outcome %v, %v; want %v", tt.name, got, err, tt.want)
			continue
		}
		sts := e.Advance(nil, &s, ts("2026-06-01T00:00:00Z"))
		if len(sts) != 1 || sts[0].PeriodStart.Format("2006-01-02") != tt.period || sts[0].CommissionCount != 1 {
			t.Errorf("%s: statements %v, want one for %s", tt.name, sts, tt.period)
			continue
		}
		wantLate := 0
		if tt.want == Late {
			wantLate = 1
		}
		if sts[0].LateCount != wantLate || len(sts[0].LateCommissionIDs) != wantLate {
			t.Errorf("%s: late_count %d ids %v, want %d", tt.name, sts[0].LateCount, sts[0].LateCommissionIDs, wantLate)
		}
	}
}

// TestLateFlagSurvivesRestart: the late flag of an open entry is part of the changelog value,
// and version 1 values (before the flag) still decode.
func TestLateFlagSurvivesRestart(t *testing.T) {
	e, _ := New(Config{})
	var s State
	if out, _ := e.AddFrom(&s, cm("a", "EUR", "25.00", "2025-05-20T00:00:00Z"), ts("2025-07-01T00:00:00Z")); out != Late {
		t.Fatalf("outcome %v", out)
	}
	if out, _ := e.AddFrom(&s, cm("b", "EUR", "5.00", "2025-06-20T00:00:00Z"), time.Time{}); out != Booked {
		t.Fatalf("outcome %v", out)
	}
	b, _ := s.MarshalBinary()
	var r State
	if err := r.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	sts := e.Advance(nil, &r, ts("2025-08-01T00:00:00Z"))
	if len(sts) != 1 || sts[0].LateCount != 1 || !slices.Equal(sts[0].LateCommissionIDs, []string{"a"}) || sts[0].CommissionCount != 2 {
		t.Fatalf("statements after restore: %+v", sts)
	}
	// A version 1 value: same layout without the flag.
	var v1 State
	if out, _ := e.AddFrom(&v1, cm("c", "EUR", "25.00", "2025-05-20T00:00:00Z"), time.Time{}); out != Booked {
		t.Fatal(out)
	}
	b, _ = v1.MarshalBinary()
	old := append([]byte{1}, b[1:len(b)-2]...) // drop the entry's flag (before the empty seen list)
	old = append(old, b[len(b)-1])
	var r1 State
	if err := r1.UnmarshalBinary(old); err != nil {
		t.Fatalf("decoding a version 1 value: %v", err)
	}
	if r1.Open() != 1 {
		t.Fatalf("version 1 value: %d open entries", r1.Open())
	}
}

// TestUnmarshalBoundsInstants: a state's instants decode only inside the years 1677–2262
// (int64 nanoseconds), so a decodable state can make Advance walk at most those years'
// periods. FuzzUnmarshal found a state whose next period lay so far back that Advance ran out
// of memory issuing a statement per month.
func TestUnmarshalBoundsInstants(t *testing.T) {
	e, _ := New(Config{})
	// A balance below the minimum payout is carried forward: every month then has a statement.
	var base State
	e.Add(&base, cm("a", "EUR", "5.00", "2025-01-10T00:00:00Z"))
	e.Advance(nil, &base, ts("2025-02-10T00:00:00Z"))
	if len(base.accts) != 1 || !base.accts[0].nextSet || base.accts[0].balance.IsZero() {
		t.Fatalf("setup: want one account with a carried balance and a next period, got %+v", base.accts)
	}
	tests := []struct {
		name   string
		next   int64
		closed int64
		ok     bool
	}{
		{"next at the earliest instant", minInstant, base.closed, true},
		{"next before it", minInstant - 1, base.closed, false},
		{"next at the latest instant", maxInstant, base.closed, true},
		{"next after it", maxInstant + 1, base.closed, false},
		{"closed before the earliest instant", base.accts[0].next, minInstant - 1, false},
		{"next far back (the fuzz input's kind)", -1 << 40, base.closed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			s.accts = slices.Clone(base.accts)
			s.accts[0].next, s.closed = tt.next, tt.closed
			b, err := s.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got State
			err = got.UnmarshalBinary(b)
			if (err == nil) != tt.ok {
				t.Fatalf("UnmarshalBinary: err %v, want ok %v", err, tt.ok)
			}
			if err != nil {
				return
			}
			// Bounded work: at most one statement a month from 1677 to 2030.
			st := e.Advance(nil, &got, ts("2030-01-01T00:00:00Z"))
			if limit := 12 * (2030 - 1677 + 1); len(st) > limit {
				t.Fatalf("%d statements, more than the %d months since 1677", len(st), limit)
			}
		})
	}
}
