-- 0134_purchase_cells_unmerged: the cells' sums without FINAL.
--
-- purchase_cells (0132) reads purchase_months_rollup FINAL, so that each row is a whole cell:
-- the panels that test a cell's own purchases (WHERE purchases > 0) need that. A panel that
-- only sums the cells over a grouping does not: a SummingMergeTree's unmerged rows of one key
-- sum to the merged row, so summing them gives the same totals whatever the merges have done,
-- and the single-threaded merge of FINAL (about 60% of the cells read at 100k clients) is
-- skipped.
--
-- The one test such panels make of purchases is "the group has a purchase", HAVING
-- max(purchases) > 0 over purchase_cells. Over the unmerged rows it is HAVING sum(purchases) >
-- 0: every cell's purchases is >= 0 (a booking adds +1 to the cell of its completion when it
-- becomes a purchase and -1 to that same cell if it is cancelled; 0130), so a group's sum is
-- > 0 iff one of its cells is. A group's count of buying clients (uniqExactIf(client_id,
-- purchases > 0)) does test single cells: those panels count buyers from client_months.
--
-- Same columns as purchase_cells; commission and direct are functions of a row's key columns
-- and of the client's current owner, so they are as linear as the sums. A plain view: nothing
-- stored, nothing to rebuild.
CREATE VIEW IF NOT EXISTS purchase_cells_unmerged AS
SELECT
    client_id,
    month,
    currency,
    provider_business_id,
    purchases,
    amount - refunded AS net_value,
    owner_business_id,
    owned_since,
    cohort,
    sector,
    activity_window_days,
    provider_business_id = owner_business_id AS direct,
    if(commission_owner = owner_business_id, commission, toDecimal128(0, 4)) AS commission
FROM
(
    SELECT client_id, month, currency, provider_business_id, commission_owner, purchases, amount, refunded, commission
    FROM purchase_months_rollup
) AS cells
ALL INNER JOIN
(
    SELECT client_id, owner_business_id, owned_since, cohort, sector, activity_window_days
    FROM client_owners
) AS rhs USING (client_id);
