#!/usr/bin/env bash
# The current-ClickHouse gate: the project's SQL on ClickHouse 26.9 (chdb, in process) must
# give the same answers as on the ClickHouse 18.16 server.
#
#   deploy/chdb/gate.sh          write the bundle on 18.16 (consumers/tools/query's reference test
#                                with TASKOLE_SQL_GATE_DIR), then run the harness
#   deploy/chdb/gate.sh --check  run the harness on the bundle `go test ./...` already wrote
#
# Needs the 18.16 server (TASKOLE_CLICKHOUSE_ADDR, HTTP on port 8123 of that host or
# TASKOLE_CLICKHOUSE_HTTP_ADDR) and python3 with venv and pip; installs chdb-core from PyPI
# into the git-ignored .run/chdb-venv (pinned in requirements.txt; reinstalled when the pin
# changes).
set -euo pipefail
cd "$(dirname "$0")/../.."
here=deploy/chdb
# TASKOLE_CHDB_CORE=26.3.0 checks another chdb-core release (its own venv) by hand; CI uses
# the pin of requirements.txt.
reqs=$here/requirements.txt
deps=--no-deps
venv=${TASKOLE_CHDB_VENV:-.run/chdb-venv}
if [[ -n ${TASKOLE_CHDB_CORE:-} ]]; then
  venv=.run/chdb-venv-$TASKOLE_CHDB_CORE
  mkdir -p "$venv.d"
  echo "chdb-core==$TASKOLE_CHDB_CORE" >"$venv.d/requirements.txt"
  reqs=$venv.d/requirements.txt
  deps= # older releases import pyarrow at start
fi
bundle=${TASKOLE_SQL_GATE_DIR:-$PWD/.run/chdb-gate}
export TASKOLE_SQL_GATE_DIR=$bundle

log() { printf 'chdb-gate: %s\n' "$*" >&2; }

if [[ ! -x $venv/bin/python ]] || ! cmp -s "$reqs" "$venv/.requirements.txt"; then
  log "installing $(grep -v '^#' "$reqs" | xargs) into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  # --no-deps: chdb-core 26.9's pandas and pyarrow are only for DataFrame results, which the
  # harness does not use (saves about 300 MB).
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $deps -r "$reqs"
  cp "$reqs" "$venv/.requirements.txt"
fi

if [[ ${1:-} != --check ]]; then
  log "writing the bundle on ClickHouse ${TASKOLE_CLICKHOUSE_ADDR:-?} into $bundle"
  TASKOLE_INTEGRATION=1 ${GO:-go} test -count=1 -run '^TestQueryPackMatchesReference$' ./consumers/tools/query/
fi
if [[ ! -f $bundle/manifest.json ]]; then
  log "no bundle in $bundle (run without --check)"
  exit 1
fi
exec "$venv/bin/python" "$here/gate.py" "$bundle"
