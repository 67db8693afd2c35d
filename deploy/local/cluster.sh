#!/usr/bin/env bash
# Local clusters on loopback, next to (never instead of) the single node of servers.sh:
#   - Kafka: three KRaft brokers, each broker+controller in one process (quorum of three),
#     default.replication.factor=3 and min.insync.replicas=2, so every topic the project
#     creates gets RF 3 / min ISR 2 (producers use acks=all, franz-go's default);
#   - ClickHouse: two clickhouse-server processes, two replicas of one shard (cluster
#     `taskole_replicated` in remote_servers), replicated through ZooKeeper (Debian's
#     `zookeeper` package, installed with apt-get when missing);
#   - with `--shards 2` (or TASKOLE_CLUSTER_SHARDS=2) a third clickhouse-server, shard 02 of
#     cluster `taskole_sharded` (shard 01: the two replicas above, shard 02: this one). Both
#     cluster definitions are on every server; a database is migrated for one of them.
#
# Usage: deploy/local/cluster.sh up|down|status|env [kafka|clickhouse] [--shards 1|2]
# Ports (distinct from the single node): Kafka 19092/19094/19096 (controllers +1), ClickHouse
# native 19000/19001 (+19002), http 18123/18124 (+18125), interserver 19009/19010 (+19011),
# ZooKeeper 12181.
# State lives under $TASKOLE_RUN_DIR/cluster (default .run/cluster, git-ignored).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
project=$(cd "$here/../.." && pwd)
run=${TASKOLE_RUN_DIR:-$project/.run}
dir=$run/cluster
kafka_libs=${TASKOLE_KAFKA_LIBS:-$run/kafka/libs}
brokers=(19092 19094 19096)
ch_native=(19000 19001 19002)
ch_http=(18123 18124 18125)
ch_inter=(19009 19010 19011)
ch_shard=(01 01 02)
ch_replica=(r1 r2 r1)
zk_port=12181
cluster_id=TaskoleLocalClusterA1Bw

log() { printf 'cluster: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
wait_for() { # name seconds cmd...
  local name=$1 secs=$2; shift 2
  for _ in $(seq "$((secs * 2))"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  log "$name: not ready after ${secs}s"; return 1
}
stop_pid() { # pidfile name
  if pid_alive "$1"; then
    local pid; pid=$(cat "$1")
    log "stopping $2 (pid $pid)"
    kill "$pid" 2>/dev/null || true
    wait_for "$2-stop" 60 bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

# --- Kafka ------------------------------------------------------------------------------
kafka_props() { # index
  local i=$1 id=$(($1 + 1)) port=${brokers[$1]} voters=""
  for j in 0 1 2; do voters+="$((j + 1))@127.0.0.1:$((brokers[j] + 1)),"; done
  cat <<PROPS
process.roles=broker,controller
node.id=$id
controller.quorum.voters=${voters%,}
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$((port + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/kafka$i/data
num.partitions=4
default.replication.factor=${TASKOLE_CLUSTER_RF:-3}
min.insync.replicas=${TASKOLE_CLUSTER_MIN_ISR:-2}
auto.create.topics.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=8
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
unclean.leader.election.enable=false
delete.topic.enable=true
log.segment.bytes=67108864
log.cleaner.dedupe.buffer.size=16777216
PROPS
}

kafka_up() {
  for i in 0 1 2; do
    local d=$dir/kafka$i
    if port_open "${brokers[$i]}"; then log "broker $i already on ${brokers[$i]}"; continue; fi
    [ -d "$kafka_libs" ] || die "no Kafka jars in $kafka_libs: run 'make up' once (it fetches them)"
    mkdir -p "$d/data" "$d/log"
    kafka_props "$i" >"$d/server.properties"
    if [ ! -f "$d/data/meta.properties" ]; then
      java -cp "$kafka_libs/*" -Dlog4j2.configurationFile="$here/log4j2.yaml" \
        kafka.tools.StorageTool format -t "$cluster_id" -c "$d/server.properties" >"$d/log/format.log" 2>&1 ||
        { cat "$d/log/format.log" >&2; die "formatting broker $i failed"; }
    fi
    log "starting broker $i on 127.0.0.1:${brokers[$i]}"
    KAFKA_HEAP_OPTS= setsid java -Xms256m -Xmx768m -XX:+UseG1GC \
      -Dlog4j2.configurationFile="$here/log4j2.yaml" -Dkafka.logs.dir="$d/log" \
      -cp "$kafka_libs/*" kafka.Kafka "$d/server.properties" >>"$d/log/server.log" 2>&1 </dev/null &
    echo $! >"$d/pid"
  done
  for i in 0 1 2; do
    wait_for "broker $i" 120 port_open "${brokers[$i]}" || { tail -30 "$dir/kafka$i/log/server.log" >&2; die "broker $i did not start"; }
  done
  log "kafka cluster up: $(kafka_seeds)"
}
kafka_down() {
  # SIGTERM all three first: a broker stopping after the others lost the quorum cannot finish
  # its controlled shutdown and would sit out the whole timeout.
  for i in 0 1 2; do pid_alive "$dir/kafka$i/pid" && kill "$(cat "$dir/kafka$i/pid")" 2>/dev/null || true; done
  for i in 0 1 2; do stop_pid "$dir/kafka$i/pid" "broker $i"; done
}
kafka_seeds() { local s=""; for p in "${brokers[@]}"; do s+="127.0.0.1:$p,"; done; echo "${s%,}"; }

# --- ZooKeeper + ClickHouse -------------------------------------------------------------
zk_install() {
  [ -f /usr/share/java/zookeeper.jar ] && return 0
  [ "$(id -u)" = 0 ] || die "installing zookeeper needs root (apt-get install zookeeper)"
  log "installing zookeeper (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q zookeeper >/dev/null || die "apt-get install zookeeper failed"
}
zk_classpath() { echo "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"; } # as Debian's zkEnv.sh
zk_up() {
  if port_open "$zk_port"; then log "zookeeper already on $zk_port"; return 0; fi
  zk_install
  mkdir -p "$dir/zk/data" "$dir/zk/log"
  cat >"$dir/zk/zoo.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$dir/zk/data
clientPort=$zk_port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,stat,srvr
CFG
  log "starting zookeeper on 127.0.0.1:$zk_port"
  setsid java -Xmx256m -Dzookeeper.log.dir="$dir/zk/log" -cp "$(zk_classpath)" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zk/zoo.cfg" >>"$dir/zk/log/zk.log" 2>&1 </dev/null &
  echo $! >"$dir/zk/pid"
  wait_for zookeeper 60 port_open "$zk_port" || { tail -30 "$dir/zk/log/zk.log" >&2; die "zookeeper did not start"; }
}
zk_down() { stop_pid "$dir/zk/pid" zookeeper; }

ch_servers() { if [ "$shards" = 2 ]; then echo 0 1 2; else echo 0 1; fi; }
ch_up() {
  command -v clickhouse-server >/dev/null || die "clickhouse-server missing: run 'make up' once"
  zk_up
  for i in $(ch_servers); do
    local d=$dir/ch$i
    if port_open "${ch_native[$i]}"; then log "clickhouse replica $i already on ${ch_native[$i]}"; continue; fi
    mkdir -p "$d/data" "$d/tmp" "$d/log" "$d/user_files" "$d/format_schemas"
    sed -e "s#@DIR@#$d#g" -e "s#@TCP_PORT@#${ch_native[$i]}#g" -e "s#@HTTP_PORT@#${ch_http[$i]}#g" \
      -e "s#@INTERSERVER_PORT@#${ch_inter[$i]}#g" -e "s#@ZK_PORT@#$zk_port#g" \
      -e "s#@SHARD@#${ch_shard[$i]}#g" -e "s#@REPLICA@#${ch_replica[$i]}#g" \
      -e "s#@TCP_PORT_0@#${ch_native[0]}#g" -e "s#@TCP_PORT_1@#${ch_native[1]}#g" -e "s#@TCP_PORT_2@#${ch_native[2]}#g" \
      "$here/cluster/clickhouse.xml" >"$d/config.xml"
    # distributed_product_mode=global: the views and the query pack JOIN and IN over
    # Distributed tables on the sharded layout (see consumers/runners/migrate, checkProductMode).
    sed -e "s#@RUN@/clickhouse#$d#g" \
      -e "s#<load_balancing>random</load_balancing>#&<distributed_product_mode>global</distributed_product_mode>#" \
      "$here/clickhouse/users.xml" >"$d/users.xml"
    log "starting clickhouse server $i (shard ${ch_shard[$i]}, replica ${ch_replica[$i]}) on 127.0.0.1:${ch_native[$i]}"
    setsid clickhouse-server --config-file="$d/config.xml" >>"$d/log/stdout.log" 2>&1 </dev/null &
    echo $! >"$d/pid"
  done
  for i in $(ch_servers); do
    wait_for "clickhouse $i" 60 clickhouse-client --host 127.0.0.1 --port "${ch_native[$i]}" --query 'SELECT 1' ||
      { tail -30 "$dir/ch$i/log/server.err.log" >&2; die "clickhouse replica $i did not start"; }
  done
  log "clickhouse replicas up: 127.0.0.1:${ch_native[0]}, 127.0.0.1:${ch_native[1]} (cluster taskole_replicated)"
  if [ "$shards" = 2 ]; then log "clickhouse shard 02 up: 127.0.0.1:${ch_native[2]} (cluster taskole_sharded)"; fi
}
ch_down() { for i in 0 1 2; do stop_pid "$dir/ch$i/pid" "clickhouse server $i"; done; zk_down; }

status() {
  for p in "${brokers[@]}"; do port_open "$p" && echo "kafka 127.0.0.1:$p up" || echo "kafka 127.0.0.1:$p down"; done
  port_open "$zk_port" && echo "zookeeper 127.0.0.1:$zk_port up" || echo "zookeeper 127.0.0.1:$zk_port down"
  for p in "${ch_native[@]}"; do port_open "$p" && echo "clickhouse 127.0.0.1:$p up" || echo "clickhouse 127.0.0.1:$p down"; done
}

shards=${TASKOLE_CLUSTER_SHARDS:-1}
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --shards) shards=${2:-}; shift 2 || shift ;;
    --shards=*) shards=${1#--shards=}; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
case $shards in 1|2) ;; *) die "--shards must be 1 or 2, not '$shards'" ;; esac
set -- "${args[@]+"${args[@]}"}"
what=${2:-all}
case ${1:-} in
  up)
    case $what in kafka) kafka_up ;; clickhouse) ch_up ;; all) kafka_up; ch_up ;; *) die "unknown part $what" ;; esac ;;
  down)
    case $what in kafka) kafka_down ;; clickhouse) ch_down ;; all) ch_down; kafka_down ;; *) die "unknown part $what" ;; esac ;;
  status) status ;;
  env)
    echo "export TASKOLE_CLUSTER_KAFKA_BROKERS=$(kafka_seeds)"
    echo "export TASKOLE_CLUSTER_CLICKHOUSE_ADDRS=127.0.0.1:${ch_native[0]},127.0.0.1:${ch_native[1]}"
    echo "export TASKOLE_CLUSTER_CLICKHOUSE_NAME=taskole_replicated"
    echo "export TASKOLE_CLUSTER_CLICKHOUSE_SHARD2_ADDR=127.0.0.1:${ch_native[2]} TASKOLE_CLUSTER_CLICKHOUSE_SHARDED_NAME=taskole_sharded"
    echo "export TASKOLE_CLUSTER_DIR=$dir TASKOLE_CLUSTER_SCRIPT=$here/cluster.sh TASKOLE_KAFKA_LIBS=$kafka_libs" ;;
  *) die "usage: $0 up|down|status|env [kafka|clickhouse] [--shards 1|2]" ;;
esac
