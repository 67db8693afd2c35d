{{/* The leading result columns of order_metrics and net_clv (from month_orders): the month's
purchases, net value and AOV per currency, buyers, purchases in all currencies, frequency =
purchases / buyers, and lifespan so far. */ -}}
dim,
month,
currency,
purchases,
net_value,
aov,
buyers,
all_purchases,
all_purchases / buyers AS frequency,
lifespan_months,
