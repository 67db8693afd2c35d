package predict

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/taskole/revshare/pipelines/clv"
)

func latestPurchaseDay(ctx context.Context, conn driver.Conn) (time.Time, error) {
	var n uint64
	var d time.Time
	if err := conn.QueryRow(ctx, "SELECT count(), max(toDate(completed_at)) FROM purchases").Scan(&n, &d); err != nil {
		return time.Time{}, fmt.Errorf("reading the latest purchase day: %w", err)
	}
	if n == 0 {
		return time.Time{}, fmt.Errorf("reading the latest purchase day: no purchases")
	}
	return d, nil
}

// accountsSQL aggregates the purchases view per client × currency up to the as-of day (%s, a
// date literal): purchases on one UTC day are one (summed), then first and last day, days,
// the total and the first day's value (so repeat value = total − first), the direct value, and
// the owner's referral rate in force at the end of the as-of day.
const accountsSQL = `
SELECT client_id, currency, owner_business_id, sector, cohort, first_day, last_day, days,
       total, first_value, direct_total, rate, has_rate
FROM
(
    SELECT
        client_id,
        currency,
        any(owner_business_id) AS owner_business_id,
        any(sector) AS sector,
        any(cohort) AS cohort,
        min(day) AS first_day,
        max(day) AS last_day,
        count() AS days,
        sum(value) AS total,
        argMin(value, day) AS first_value,
        sum(direct_value) AS direct_total
    FROM
    (
        SELECT
            client_id,
            currency,
            toDate(completed_at) AS day,
            any(owner_business_id) AS owner_business_id,
            any(sector) AS sector,
            any(cohort) AS cohort,
            sum(net_value) AS value,
            sumIf(net_value, direct) AS direct_value
        FROM purchases
        WHERE toDate(completed_at) <= %[1]s
        GROUP BY client_id, currency, day
    )
    GROUP BY client_id, currency
) AS a
ANY LEFT JOIN
(
    SELECT
        business_id AS owner_business_id,
        argMax(referral_rate, (occurred_at, occurred_at_ns, event_id)) AS rate,
        toUInt8(1) AS has_rate
    FROM businesses
    WHERE toDate(occurred_at) <= %[1]s
    GROUP BY business_id
) AS r USING (owner_business_id)
ORDER BY currency, client_id`

func dateLiteral(d time.Time) string { return "toDate('" + d.Format(time.DateOnly) + "')" }

func readAccounts(ctx context.Context, conn driver.Conn, asOf time.Time, defaultRate decimal.Decimal) ([]account, error) {
	rows, err := conn.Query(ctx, fmt.Sprintf(accountsSQL, dateLiteral(asOf)))
	if err != nil {
		return nil, fmt.Errorf("reading purchase summaries: %w", err)
	}
	defer rows.Close()
	var out []account
	for rows.Next() {
		var a account
		var first, last time.Time
		var days uint64
		var firstValue decimal.Decimal
		var hasRate uint8
		if err := rows.Scan(&a.client, &a.currency, &a.owner, &a.sector, &a.cohort, &first, &last, &days,
			&a.total, &firstValue, &a.direct, &a.rate, &hasRate); err != nil {
			return nil, fmt.Errorf("reading purchase summaries: %w", err)
		}
		if hasRate == 0 {
			a.rate = defaultRate
		}
		a.sum = clv.SummaryOf(first, last, asOf, int(days), a.total.Sub(firstValue))
		if err := a.sum.Customer().Validate(); err != nil {
			return nil, fmt.Errorf("summarising client %.64q: %w", a.client, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading purchase summaries: %w", err)
	}
	return out, nil
}

// write replaces the as-of partition of both tables.
func write(ctx context.Context, conn driver.Conn, asOf time.Time, rows []predictionRow, fits []fitRow) error {
	part := "'" + asOf.Format(time.DateOnly) + "'"
	for _, t := range []string{"client_predictions", "clv_fits"} {
		if err := conn.Exec(ctx, "ALTER TABLE "+t+" DROP PARTITION "+part); err != nil {
			return fmt.Errorf("dropping %s partition %s: %w", t, part, err)
		}
	}
	const batchRows = 100000
	for start := 0; start < len(rows); start += batchRows {
		b, err := conn.PrepareBatch(ctx, `INSERT INTO client_predictions (as_of, client_id, currency, owner_business_id,
			sector, cohort, fit_scope, x, t_x, age, p_alive, purchases_30d, purchases_90d, purchases_365d,
			expected_value, realized_value, predicted_clv, predicted_direct, predicted_indirect, owner_rate,
			expected_commissions)`)
		if err != nil {
			return fmt.Errorf("preparing client_predictions insert: %w", err)
		}
		for _, r := range rows[start:min(start+batchRows, len(rows))] {
			a := r.a
			if err := b.Append(asOf, a.client, a.currency, a.owner, a.sector, a.cohort, r.scope, uint32(a.sum.X),
				a.sum.Tx, a.sum.T, r.pAlive, r.e30, r.e90, r.e365, r.value, a.total, r.clvTotal, r.direct, r.indirect,
				a.rate, r.com); err != nil {
				return fmt.Errorf("appending prediction of %.64q: %w", a.client, err)
			}
		}
		if err := b.Send(); err != nil {
			return fmt.Errorf("inserting client_predictions: %w", err)
		}
	}
	b, err := conn.PrepareBatch(ctx, `INSERT INTO clv_fits (fitted_at, model, scope, currency, clients, repeat_clients,
		p1, p2, p3, p4, log_likelihood, fallback, note)`)
	if err != nil {
		return fmt.Errorf("preparing clv_fits insert: %w", err)
	}
	for _, f := range fits {
		fb := uint8(0)
		if f.fallback {
			fb = 1
		}
		if err := b.Append(asOf, f.model, f.scope, f.currency, uint64(f.clients), uint64(f.repeat),
			f.p[0], f.p[1], f.p[2], f.p[3], f.ll, fb, f.note); err != nil {
			return fmt.Errorf("appending fit %s %s: %w", f.model, f.scope, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("inserting clv_fits: %w", err)
	}
	return nil
}
