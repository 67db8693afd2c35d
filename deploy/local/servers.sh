#!/usr/bin/env bash
# Starts and stops the real servers the project runs against, on loopback, without Docker:
#   - Apache Kafka 4.x, a single-node KRaft broker (controller + broker in one JVM), from the
#     Apache Kafka jars on Maven Central (fetched once with deploy/kafka/pom.xml);
#   - ClickHouse, Debian's clickhouse-server package (installed with apt-get when missing).
#
# Usage: deploy/local/servers.sh up|down|status|env [kafka|clickhouse]
#        deploy/local/servers.sh tools   (test tools: chromium, kcat)
#
# Idempotent: `up` on a running server and `down` on a stopped one succeed. Data, logs and jars
# live under $TASKOLE_RUN_DIR (default: .run/ in the project, git-ignored).
# Ports: TASKOLE_KAFKA_PORT (9092), TASKOLE_KAFKA_CONTROLLER_PORT (9093),
#        TASKOLE_CLICKHOUSE_PORT (9000, native), TASKOLE_CLICKHOUSE_HTTP_PORT (8123).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
project=$(cd "$here/../.." && pwd)
run=${TASKOLE_RUN_DIR:-$project/.run}
kafka_port=${TASKOLE_KAFKA_PORT:-9092}
controller_port=${TASKOLE_KAFKA_CONTROLLER_PORT:-9093}
ch_port=${TASKOLE_CLICKHOUSE_PORT:-9000}
ch_http_port=${TASKOLE_CLICKHOUSE_HTTP_PORT:-8123}
ch_interserver_port=${TASKOLE_CLICKHOUSE_INTERSERVER_PORT:-9009}

log() { printf 'servers: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_server NAME PIDFILE: stops the server whose pid PIDFILE holds (SIGTERM; SIGKILL when
# it has not exited after 60s) and removes PIDFILE.
stop_server() {
  local name=$1 pidfile=$2
  if pid_alive "$pidfile"; then
    local pid
    pid=$(cat "$pidfile")
    log "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    if ! wait_for "$name-stop" 60 bash -c "! kill -0 $pid"; then
      log "$name did not stop in 60s; killing"
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

# wait_for NAME SECONDS COMMAND...: polls COMMAND every half second.
wait_for() {
  local name=$1 secs=$2; shift 2
  local i
  for ((i = 0; i < secs * 2; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}

render() { # render SRC DST: fill the @PLACEHOLDERS@ of a config template
  sed -e "s#@RUN@#$run#g" -e "s#@KAFKA_PORT@#$kafka_port#g" \
    -e "s#@CONTROLLER_PORT@#$controller_port#g" -e "s#@TCP_PORT@#$ch_port#g" \
    -e "s#@HTTP_PORT@#$ch_http_port#g" -e "s#@INTERSERVER_PORT@#$ch_interserver_port#g" \
    "$1" >"$2"
}

# ---------------------------------------------------------------- Kafka

kafka_dir=$run/kafka
kafka_classpath() { echo "$kafka_dir/libs/*"; }

kafka_install() {
  local stamp=$kafka_dir/libs/.pom.sha
  local want
  want=$(sha256sum "$project/deploy/kafka/pom.xml" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  command -v java >/dev/null || die "java not found: install a Java 17 runtime (apt-get install openjdk-17-jre-headless)"
  if ! command -v mvn >/dev/null; then
    log "installing maven (apt-get)"
    apt_install maven
  fi
  log "fetching Kafka broker jars from Maven Central (once)"
  rm -rf "$kafka_dir/libs"
  mkdir -p "$kafka_dir/libs" "$kafka_dir/log"
  mvn -B -q -f "$project/deploy/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$kafka_dir/libs" >"$kafka_dir/log/mvn.log" 2>&1 ||
    { tail -30 "$kafka_dir/log/mvn.log" >&2; die "fetching Kafka jars with maven failed"; }
  echo "$want" >"$stamp"
}

kafka_up() {
  if port_open "$kafka_port"; then
    log "kafka already answering on 127.0.0.1:$kafka_port"
    return 0
  fi
  kafka_install
  mkdir -p "$kafka_dir/data" "$kafka_dir/log"
  render "$here/kafka.properties" "$kafka_dir/server.properties"
  if [ ! -f "$kafka_dir/data/meta.properties" ]; then
    log "formatting KRaft storage"
    java -cp "$(kafka_classpath)" -Dlog4j2.configurationFile="$here/log4j2.yaml" \
      kafka.tools.StorageTool format -t "$(java -cp "$(kafka_classpath)" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)" \
      -c "$kafka_dir/server.properties" >"$kafka_dir/log/format.log" 2>&1 ||
      { cat "$kafka_dir/log/format.log" >&2; die "formatting KRaft storage failed"; }
  fi
  log "starting kafka on 127.0.0.1:$kafka_port"
  # setsid: the broker outlives the shell that started it (make, CI step).
  setsid java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/log4j2.yaml" \
    -cp "$(kafka_classpath)" kafka.Kafka "$kafka_dir/server.properties" \
    >>"$kafka_dir/log/server.log" 2>&1 </dev/null &
  echo $! >"$kafka_dir/pid"
  if ! wait_for kafka 90 port_open "$kafka_port"; then
    tail -40 "$kafka_dir/log/server.log" >&2
    die "kafka did not answer on 127.0.0.1:$kafka_port within 90s (log: $kafka_dir/log/server.log)"
  fi
  log "kafka up"
}

kafka_down() { stop_server kafka "$kafka_dir/pid"; }

# ---------------------------------------------------------------- ClickHouse

ch_dir=$run/clickhouse

apt_updated=
apt_install() {
  [ "$(id -u)" = 0 ] || die "installing $* needs root (or install it yourself: apt-get install $*)"
  if [ -z "$apt_updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null || die "apt-get update failed"
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null || die "apt-get install $* failed"
}

clickhouse_install() {
  if command -v clickhouse-server >/dev/null && command -v clickhouse-client >/dev/null; then return 0; fi
  log "installing clickhouse-server and clickhouse-client (apt-get)"
  apt_install clickhouse-server clickhouse-client
}

clickhouse_ping() { clickhouse-client --host 127.0.0.1 --port "$ch_port" --query 'SELECT 1'; }

clickhouse_up() {
  if port_open "$ch_port"; then
    log "clickhouse already answering on 127.0.0.1:$ch_port"
    return 0
  fi
  clickhouse_install
  mkdir -p "$ch_dir/data" "$ch_dir/tmp" "$ch_dir/log" "$ch_dir/user_files" "$ch_dir/format_schemas"
  render "$here/clickhouse/config.xml" "$ch_dir/config.xml"
  render "$here/clickhouse/users.xml" "$ch_dir/users.xml"
  log "starting clickhouse on 127.0.0.1:$ch_port"
  setsid clickhouse-server --config-file="$ch_dir/config.xml" \
    >>"$ch_dir/log/stdout.log" 2>&1 </dev/null &
  echo $! >"$ch_dir/pid"
  if ! wait_for clickhouse 60 clickhouse_ping; then
    tail -40 "$ch_dir/log/server.err.log" "$ch_dir/log/stdout.log" >&2 || true
    die "clickhouse did not answer SELECT 1 on 127.0.0.1:$ch_port within 60s"
  fi
  log "clickhouse up"
}

clickhouse_down() { stop_server clickhouse "$ch_dir/pid"; }

# ---------------------------------------------------------------- test tools

# tools installs what the tests use beside the servers: Chromium (the HTML report is opened
# headless) and kcat (the finance example in the README).
tools() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v kcat >/dev/null || missing+=(kcat)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (apt-get)"
    apt_install "${missing[@]}"
  fi
}

# ---------------------------------------------------------------- main

status() {
  if port_open "$kafka_port"; then echo "kafka: up (127.0.0.1:$kafka_port)"; else echo "kafka: down"; fi
  if port_open "$ch_port"; then echo "clickhouse: up (127.0.0.1:$ch_port)"; else echo "clickhouse: down"; fi
}

env_lines() {
  echo "TASKOLE_KAFKA_BROKERS=127.0.0.1:$kafka_port"
  echo "TASKOLE_CLICKHOUSE_ADDR=127.0.0.1:$ch_port"
}

cmd=${1:-}
which=${2:-all}
case "$cmd:$which" in
  up:all) clickhouse_install; kafka_install; kafka_up & k=$!; clickhouse_up; wait "$k" ;;
  up:kafka) kafka_up ;;
  up:clickhouse) clickhouse_up ;;
  down:all) kafka_down; clickhouse_down ;;
  down:kafka) kafka_down ;;
  down:clickhouse) clickhouse_down ;;
  tools:*) tools ;;
  status:*) status ;;
  env:*) env_lines ;;
  *) die "usage: $0 up|down|status|env [kafka|clickhouse] | tools" ;;
esac
