// Package querytest is the independent Go specification of the BI query pack (sql/queries):
// every metric of SPEC §3 computed from what happened in a marketplace (a World), without
// looking at the SQL, and a checker that runs every query of the pack on a ClickHouse
// database and compares each result row by row and cell by cell with that computation —
// money to the last decimal, counts to the client, ratios to 1e-9.
//
// Two tests feed it: consumers/tools/query builds a World and writes the raw rows the sink would
// have written for it; consumers/e2e derives the World from the simulator's events (owners and
// commissions through pipelines/commission's Engine) and lets the real ledger and sink fill the
// database. The package is for tests only.
package querytest

import (
	"time"

	"github.com/shopspring/decimal"
)

// World is what happened: the facts the metrics are defined on, already deduplicated and
// without anything the pipeline refused. Times compare at whole seconds, like the SQL.
type World struct {
	// Start and End bound the period: churn and LTV are computed for months from Start to a
	// year after End.
	Start, End  time.Time
	Businesses  map[string]Business // by id
	Windows     map[string]int      // sector -> activity window days (absent: 60)
	Clients     []Client            // every client with a referral owner
	Purchases   []Purchase
	Enrollments []Enrollment
	Feedback    []Feedback
	Spend       []Spend
	Retention   []RetentionSpend
	DeadLetters []DeadLetter
	// Predictions are client_predictions rows (what `taskole predict` wrote): the predicted
	// CLV of a client × currency account as of a day, which predicted_net_clv nets.
	Predictions []Prediction
}

// Business is a business's current profile.
type Business struct {
	ID, Sector, Currency string
	Rate                 decimal.Decimal
}

// Client is a client with its current referral owner.
type Client struct {
	ID, Owner  string
	OwnedSince time.Time
}

// Purchase is a booking that completed and was not cancelled.
type Purchase struct {
	BookingID, Client, Provider, Currency string
	At                                    time.Time // completion
	Amount, Refunded                      decimal.Decimal
	Commission                            decimal.Decimal // net ledger entries of the client's current owner
}

// Enrollment is an accepted enrollment event.
type Enrollment struct {
	EventID, Client, Business string
	At                        time.Time
}

// Feedback is one NPS ("nps", 0–10) or CSAT ("csat", 1–5) answer.
type Feedback struct {
	EventID, Business, Kind string
	Score                   int
	At                      time.Time
}

// Spend is one acquisition-cost event.
type Spend struct {
	EventID, Business, Currency string
	Amount                      decimal.Decimal
	At                          time.Time
}

// RetentionSpend is one retention-cost event; Client is empty when it names no client.
type RetentionSpend struct {
	EventID, Business, Client, Currency string
	Amount                              decimal.Decimal
	At                                  time.Time
}

// Prediction is one client_predictions row: a client's predicted CLV as of a day.
type Prediction struct {
	Client, Currency string
	AsOf             time.Time
	PredictedCLV     decimal.Decimal
}

// DeadLetter is one record a consumer refused, with the reason it counts under.
type DeadLetter struct {
	Consumer, Topic, Reason string
}
