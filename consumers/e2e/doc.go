// Package e2e holds the end-to-end test of the analytics path: the simulator's marketplace
// produced to fresh topics on the real Kafka broker, the ledger and the sink running
// in-process into a fresh ClickHouse database, and every query of the BI query pack
// (sql/queries) compared with an independent Go computation from the same simulated events
// (consumers/testkit/querytest), owners and commissions derived with the pure ledger Engine
// (pipelines/commission), which specifies them. The report's figures (consumers/tools/report) are
// checked against the pack's rows on the same data.
//
// The package has no non-test code. Run it with the servers of deploy/local:
//
//	TASKOLE_INTEGRATION=1 TASKOLE_KAFKA_BROKERS=127.0.0.1:9092 \
//	    TASKOLE_CLICKHOUSE_ADDR=127.0.0.1:9000 go test ./consumers/e2e/
package e2e
