# Taskole revenue-share pipeline. `make demo` runs the main job, `make test` passes the tests;
# both install and start what they need (deploy/local/servers.sh).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO            ?= go
BIN           := bin/taskole
SERVERS       := deploy/local/servers.sh
GOLANGCI_LINT := github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
TEST_TIMEOUT  ?= 20m
# The bundle consumers/tools/query's reference test writes for the current-ClickHouse gate.
SQL_GATE_DIR  := $(CURDIR)/.run/chdb-gate
# make up-cluster SHARDS=2 also starts shard 02 of the two-shard layout (cluster taskole_sharded).
SHARDS        ?= 1

# The local servers (override to use others).
export TASKOLE_KAFKA_BROKERS   ?= 127.0.0.1:9092
export TASKOLE_CLICKHOUSE_ADDR ?= 127.0.0.1:9000

.PHONY: help build up down status tools test test-unit test-current demo bench lint fmt clean up-cluster down-cluster test-cluster test-recovery

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

build: ## build bin/taskole
	$(GO) build -o $(BIN) ./consumers/cmd/taskole

up: ## start Kafka and ClickHouse on loopback (installs them when missing)
	$(SERVERS) up

down: ## stop Kafka and ClickHouse
	$(SERVERS) down

status: ## show whether the servers answer
	$(SERVERS) status

tools: ## install the test tools (chromium, kcat) when missing
	$(SERVERS) tools

test: up tools ## unit + integration tests against the real Kafka and ClickHouse, then the 26.x gate
	rm -rf $(SQL_GATE_DIR)
	TASKOLE_INTEGRATION=1 TASKOLE_SQL_GATE_DIR=$(SQL_GATE_DIR) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	TASKOLE_SQL_GATE_DIR=$(SQL_GATE_DIR) deploy/chdb/gate.sh --check

test-current: up ## the SQL on current ClickHouse (26.9 via chdb) against 18.16's answers
	TASKOLE_SQL_GATE_DIR=$(SQL_GATE_DIR) deploy/chdb/gate.sh

test-unit: ## unit tests only (integration tests skip without servers)
	TASKOLE_KAFKA_BROKERS= TASKOLE_CLICKHOUSE_ADDR= TASKOLE_INTEGRATION= $(GO) test -count=1 -short ./...

up-cluster: ## start 3 KRaft brokers, ZooKeeper and 2 ClickHouse replicas on loopback (ports 19xxx; needs `make up` once; SHARDS=2 adds shard 02)
	deploy/local/cluster.sh up --shards $(SHARDS)

down-cluster: ## stop the local clusters (the single node keeps running)
	deploy/local/cluster.sh down

test-recovery: up ## the broker-loss tests (private brokers killed with kill -9; all but the gauge test also run in make test)
	TASKOLE_INTEGRATION=1 TASKOLE_RECOVERY=1 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) -run 'TestLedgerBrokerRestart|BrokerLoss|TestPartitionsGaugeAfterBrokerOutage' -v ./consumers/runners/ledger/ ./consumers/runners/payouts/ ./consumers/runners/sink/ ./consumers/stream/

# -p 1: the fault tests kill brokers, a replica and ZooKeeper; one package at a time.
test-cluster: ## migrations, fault tests and the two-shard layout on the local clusters (not part of make test)
	deploy/local/cluster.sh up --shards 2
	eval "$$(deploy/local/cluster.sh env)"; TASKOLE_CLUSTER=1 $(GO) test -p 1 -count=1 -timeout $(TEST_TIMEOUT) -run Cluster ./consumers/runners/migrate/ ./consumers/runners/ledger/ ./consumers/runners/sink/ ./consumers/e2e/

demo: up build ## simulate a marketplace end to end and print what it earned
	deploy/local/demo.sh

bench: up build ## benchmarks + end-to-end load run; appends to docs/BENCHMARKS.md
	deploy/local/bench.sh

lint: ## gofmt, go vet, golangci-lint (curated config in .golangci.yml)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(GOLANGCI_LINT) run ./...

fmt: ## gofmt every file
	gofmt -w $$(git ls-files '*.go')

clean: down ## stop the servers and delete their data (.run/) and bin/
	rm -rf .run bin
