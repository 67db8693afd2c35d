-- 0110_predictions: predicted CLV (SPEC §3 "Predicted CLV"), written by `taskole predict`
-- (consumers/predict) from the purchases view of 0100_facts; read by
-- sql/queries/predicted_clv.sql and at_risk_clients.sql.
--
-- One partition per as-of date: a run drops the partition of its date and inserts it again,
-- so re-running for the same date replaces, never adds (idempotent), and predictions of other
-- dates stay for comparison. Money is per currency (a client's purchases in each currency are
-- their own account) in Decimal(18, 4) like the raw tables, rounded half-even to the
-- currency's minor unit before insert.

-- client_predictions: one row per client and currency as of a date.
CREATE TABLE IF NOT EXISTS client_predictions
(
    as_of                Date,
    client_id            String,
    currency             String,
    owner_business_id    String,
    sector               String,
    cohort               Date,
    fit_scope            String,          -- the BG/NBD fit used: 'platform' or 'sector:<name>'
    x                    UInt32,          -- repeat purchases (distinct purchase days − 1)
    t_x                  Float64,         -- recency, weeks
    age                  Float64,         -- T, weeks
    p_alive              Float64,
    purchases_30d        Float64,         -- expected purchases in (as_of, as_of + 30 days]
    purchases_90d        Float64,
    purchases_365d       Float64,
    expected_value       Decimal(18, 4),  -- expected value of one purchase (Gamma-Gamma)
    realized_value       Decimal(18, 4),  -- net value of the purchases up to as_of
    predicted_clv        Decimal(18, 4),  -- discounted expected value over the next 365 days
    predicted_direct     Decimal(18, 4),  -- the part expected from the owner itself
    predicted_indirect   Decimal(18, 4),  -- the part expected elsewhere
    owner_rate           Decimal(38, 10), -- the owner's current referral rate
    expected_commissions Decimal(18, 4)   -- predicted_indirect × owner_rate
)
ENGINE = MergeTree
PARTITION BY as_of
ORDER BY (currency, client_id);

-- clv_fits: one row per fitted model as of a date. model is 'bgnbd' (p1..p4 = r, α, a, b;
-- currency empty) or 'gamma_gamma' (p1..p3 = p, q, γ; per currency). scope is 'platform' or
-- 'sector:<name>'; fallback = 1 when the sector had too few repeat clients and its clients were
-- scored with the platform fit (the row then keeps the counts, no parameters).
CREATE TABLE IF NOT EXISTS clv_fits
(
    fitted_at      Date,
    model          String,
    scope          String,
    currency       String,
    clients        UInt64,
    repeat_clients UInt64,
    p1             Float64,
    p2             Float64,
    p3             Float64,
    p4             Float64,
    log_likelihood Float64,
    fallback       UInt8,
    note           String
)
ENGINE = MergeTree
PARTITION BY fitted_at
ORDER BY (model, scope, currency);
