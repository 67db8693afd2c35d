package clv

import (
	"sort"
	"time"

	"github.com/shopspring/decimal"
)

// Purchase is one dated purchase of a client and its value.
type Purchase struct {
	At    time.Time
	Value decimal.Decimal
}

// Summary is a client's summary as of a day (package doc).
type Summary struct {
	First time.Time // the first purchase day, 00:00 UTC
	X     int
	Tx, T float64 // weeks
	// RepeatValue is the total value of the repeat purchase days (all but the first day).
	RepeatValue decimal.Decimal
}

// Customer is the BG/NBD part of s.
func (s Summary) Customer() Customer { return Customer{X: s.X, Tx: s.Tx, T: s.T} }

// MeanRepeatValue is the exact mean value of the repeat purchase days (16 decimals for a
// non-terminating quotient; zero when x = 0).
func (s Summary) MeanRepeatValue() decimal.Decimal {
	if s.X == 0 {
		return decimal.Zero
	}
	return s.RepeatValue.Div(decimal.NewFromInt(int64(s.X)))
}

// Spend is the Gamma-Gamma part of s: the mean value of the repeat purchase days.
func (s Summary) Spend() Spend {
	mean, _ := s.MeanRepeatValue().Float64()
	return Spend{X: s.X, Mean: mean}
}

const day = 24 * time.Hour

// Day is t's calendar day in UTC, at 00:00.
func Day(t time.Time) time.Time { return t.UTC().Truncate(day) }

// Summarize summarises a client's purchases as of the day of asOf: purchases on a later day
// are ignored, those on one UTC day count as one purchase of their summed value. False when
// no purchase is left.
func Summarize(ps []Purchase, asOf time.Time) (Summary, bool) {
	end := Day(asOf)
	perDay := map[time.Time]decimal.Decimal{}
	for _, p := range ps {
		d := Day(p.At)
		if d.After(end) {
			continue
		}
		perDay[d] = perDay[d].Add(p.Value)
	}
	if len(perDay) == 0 {
		return Summary{}, false
	}
	days := make([]time.Time, 0, len(perDay))
	for d := range perDay {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Before(days[j]) })
	var repeat decimal.Decimal
	for _, d := range days[1:] {
		repeat = repeat.Add(perDay[d])
	}
	return SummaryOf(days[0], days[len(days)-1], end, len(days), repeat), true
}

// SummaryOf builds a summary from what a database aggregates per client: the first and last
// purchase days, the as-of day, the number of distinct purchase days and the value of all
// days but the first. Times are truncated to their UTC day.
func SummaryOf(first, last, asOf time.Time, days int, repeatValue decimal.Decimal) Summary {
	first, last, asOf = Day(first), Day(last), Day(asOf)
	return Summary{
		First:       first,
		X:           days - 1,
		Tx:          weeks(last.Sub(first)),
		T:           weeks(asOf.Sub(first)),
		RepeatValue: repeatValue,
	}
}

func weeks(d time.Duration) float64 { return float64(d/day) / 7 }
