#!/usr/bin/env bash
# Local backing services for the integration tier: PostgreSQL 15, NATS JetStream and Redis,
# installed from Debian's packages when missing, and stripe-mock (Stripe's API answered from its
# OpenAPI fixtures, built with `go install`), all started on 127.0.0.1 as plain background
# processes (no systemd, no Docker). Data lives under one directory of the project's own.
#
#   scripts/services.sh [start]   install what is missing, start what is not running (default)
#   scripts/services.sh stop      stop the servers this script started (by their pid files)
#   scripts/services.sh status    one line per service; exits non-zero if one is down
#   scripts/services.sh env       print the export lines for DATABASE_URL, NATS_URL, REDIS_URL,
#                                 STRIPE_MOCK_URL
#
# Idempotent: a server that already answers correctly on its port is left alone.
set -euo pipefail

SERVICES_DIR="${QUORUM_SERVICES_DIR:-$HOME/.cache/quorum/services}"
PG_BIN="/usr/lib/postgresql/15/bin"
PG_DATA="$SERVICES_DIR/postgres"
PG_RUN="$SERVICES_DIR/postgres-run" # unix socket + lock file; Debian's /var/run/postgresql may not exist
PG_LOG="$SERVICES_DIR/postgres.log"
PG_PORT=5432
NATS_DIR="$SERVICES_DIR/nats"
NATS_PORT=4222
NATS_MONITOR_PORT=8222
REDIS_DIR="$SERVICES_DIR/redis"
REDIS_PORT=6379
STRIPE_MOCK_DIR="$SERVICES_DIR/stripe-mock"
STRIPE_MOCK_PORT=12111
STRIPE_MOCK_VERSION=v0.203.0
STRIPE_MOCK_BIN="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin/stripe-mock"

DATABASE_URL="postgres://quorum:quorum@127.0.0.1:$PG_PORT/quorum"
NATS_URL="nats://127.0.0.1:$NATS_PORT"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
STRIPE_MOCK_URL="http://127.0.0.1:$STRIPE_MOCK_PORT"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

IS_ROOT=0
[[ "$(id -u)" == 0 ]] && IS_ROOT=1

# initdb and postgres refuse to run as root; the cluster belongs to the `postgres` OS user then.
if ((IS_ROOT)); then PG_OWNER=postgres; else PG_OWNER="$(id -un)"; fi

as_pg_owner() {
  # cd / so postgres never inherits a working directory it cannot read.
  if ((IS_ROOT)); then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# wait_until <seconds> <command...>: polls every 0.2 s.
wait_until() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# --- checks ---------------------------------------------------------------------------------

pg_answers() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }
# First line of postmaster.pid is the postmaster's pid; read directly so no permissions are needed.
pg_pid() { [[ -f "$PG_DATA/postmaster.pid" ]] && head -n 1 "$PG_DATA/postmaster.pid"; }
pg_ours_running() { local pid; pid="$(pg_pid)" && kill -0 "$pid" 2>/dev/null; }
pg_quorum_ok() {
  PGPASSWORD=quorum PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" -X -q -A -t -h 127.0.0.1 -p "$PG_PORT" -U quorum -d quorum_test \
    -c 'select 1' 2>/dev/null | grep -qx 1
}

# A NATS server greets every client with an INFO line; ours must advertise JetStream.
nats_answers() (
  exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT" || exit 1
  IFS= read -r -t 2 line <&3 || exit 1
  [[ "$line" == INFO* && "$line" == *'"jetstream":true'* ]]
) 2>/dev/null
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

redis_answers() { [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

# --- installation ---------------------------------------------------------------------------

install_missing() {
  local missing=()
  [[ -x "$PG_BIN/postgres" && -x "$PG_BIN/initdb" ]] || missing+=(postgresql)
  command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || missing+=(redis-server)
  ((${#missing[@]} == 0)) && return 0

  log "installing from Debian: ${missing[*]}"
  local sudo=()
  if ((!IS_ROOT)); then
    command -v sudo >/dev/null 2>&1 || die "missing packages (${missing[*]}) and not root; install them or run as root"
    sudo=(sudo)
  fi
  # Package maintainer scripts would start Debian's own clusters/daemons on our ports; forbid
  # that for the duration of the install unless the machine already has a policy.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    created_policy=1
  fi
  local rc=0
  "${sudo[@]}" apt-get update -q >&2 || rc=$?
  if ((rc == 0)); then
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || rc=$?
  fi
  ((created_policy)) && "${sudo[@]}" rm -f "$policy"
  ((rc == 0)) || die "apt-get failed (exit $rc) installing: ${missing[*]}"

  [[ -x "$PG_BIN/postgres" ]] || die "postgres: $PG_BIN/postgres not found after install"
  command -v nats-server >/dev/null 2>&1 || die "nats: nats-server not found after install"
  command -v redis-server >/dev/null 2>&1 || die "redis: redis-server not found after install"
}

# --- PostgreSQL -----------------------------------------------------------------------------

# When running as root the data dir usually sits under /root (mode 700), which the postgres
# user cannot traverse. Grant traverse-only access (no listing) on each blocking ancestor.
pg_grant_traverse() {
  ((IS_ROOT)) || return 0
  # Top-down: a blocked parent makes every child look blocked too.
  local dir="" part
  local -a parts
  IFS=/ read -r -a parts <<<"$(dirname "$PG_DATA")"
  for part in "${parts[@]}"; do
    [[ -n $part ]] || continue
    dir="$dir/$part"
    if ! runuser -u postgres -- test -x "$dir"; then
      if command -v setfacl >/dev/null 2>&1; then
        setfacl -m u:postgres:x "$dir"
      else
        chmod o+x "$dir"
      fi
      log "postgres: granted traverse (x) permission on $dir so the postgres user can reach its data"
    fi
  done
}

pg_write_config() {
  # Rewritten on every start so the settings below are the truth; postgresql.conf includes it once.
  cat >"$PG_DATA/quorum.conf" <<EOF
# Managed by scripts/services.sh; rewritten on every start.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
max_connections = 200
# Durability stays on: benchmarks against this server must be honest.
fsync = on
synchronous_commit = on
full_page_writes = on
EOF
  grep -qx "include 'quorum.conf'" "$PG_DATA/postgresql.conf" || printf "\ninclude 'quorum.conf'\n" >>"$PG_DATA/postgresql.conf"
  ((IS_ROOT)) && chown postgres: "$PG_DATA/quorum.conf"
  return 0
}

pg_psql_admin() {
  as_pg_owner "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PG_PORT" -U "$PG_OWNER" -d postgres "$@"
}

pg_ensure_roles() {
  pg_psql_admin <<'SQL' >/dev/null
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'quorum') THEN
    CREATE ROLE quorum LOGIN SUPERUSER PASSWORD 'quorum';
  END IF;
END $$;
SELECT 'CREATE DATABASE quorum OWNER quorum' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'quorum')\gexec
SELECT 'CREATE DATABASE quorum_test OWNER quorum' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'quorum_test')\gexec
SQL
}

pg_start() {
  if [[ -d "$PG_DATA" ]]; then pg_grant_traverse; fi
  if pg_answers; then
    if pg_ours_running; then
      pg_ensure_roles || die "postgres: could not create role/databases in $PG_DATA"
    fi
    pg_quorum_ok || die "postgres: something answers on 127.0.0.1:$PG_PORT but role quorum/quorum cannot reach database quorum_test (not ours? see $PG_LOG)"
    echo "postgres  already running   $DATABASE_URL"
    return 0
  fi
  port_open "$PG_PORT" && die "postgres: port $PG_PORT is taken by something that is not a ready PostgreSQL"

  mkdir -p "$PG_DATA" "$PG_RUN"
  chmod 700 "$PG_DATA"
  if ((IS_ROOT)); then
    chown postgres: "$PG_DATA" "$PG_RUN"
    touch "$PG_LOG" && chown postgres: "$PG_LOG"
    pg_grant_traverse
  fi
  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    log "postgres: initdb $PG_DATA"
    as_pg_owner "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_OWNER" -E UTF8 --locale=C.UTF-8 \
      --auth-local=peer --auth-host=scram-sha-256 >>"$PG_LOG" 2>&1 || die "postgres: initdb failed, see $PG_LOG"
  fi
  pg_write_config
  # A crashed run leaves a stale postmaster.pid; pg_ctl start handles that itself.
  as_pg_owner "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t 60 >/dev/null ||
    die "postgres: pg_ctl start failed, see $PG_LOG"
  wait_until 30 pg_answers || die "postgres: pg_isready did not succeed within 30 s, see $PG_LOG"
  pg_ensure_roles || die "postgres: could not create role/databases"
  pg_quorum_ok || die "postgres: role quorum cannot connect over TCP"
  echo "postgres  started           $DATABASE_URL   (data $PG_DATA)"
}

pg_stop() {
  local pid
  if pid="$(pg_pid)" && kill -0 "$pid" 2>/dev/null; then
    # SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
    kill -INT "$pid"
    wait_until 60 bash -c "! kill -0 $pid 2>/dev/null" || die "postgres: did not stop within 60 s, see $PG_LOG"
    echo "postgres  stopped"
  else
    echo "postgres  not running (from $PG_DATA)"
  fi
}

# --- NATS -----------------------------------------------------------------------------------

nats_start() {
  if nats_answers; then
    echo "nats      already running   $NATS_URL   (monitor http://127.0.0.1:$NATS_MONITOR_PORT)"
    return 0
  fi
  port_open "$NATS_PORT" && die "nats: port $NATS_PORT is taken by something that is not NATS with JetStream"

  mkdir -p "$NATS_DIR/store"
  # setsid + nohup: the server must outlive this script and the terminal that ran it.
  # The monitoring listener inherits the -a host, so it too binds 127.0.0.1 only.
  setsid nohup nats-server -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_MONITOR_PORT" -js -sd "$NATS_DIR/store" \
    -P "$NATS_DIR/nats.pid" -l "$NATS_DIR/nats.log" </dev/null >>"$NATS_DIR/nats.out" 2>&1 &
  wait_until 30 nats_answers || die "nats: server did not accept connections on $NATS_PORT within 30 s, see $NATS_DIR/nats.log"
  echo "nats      started           $NATS_URL   (monitor http://127.0.0.1:$NATS_MONITOR_PORT, store $NATS_DIR/store)"
}

nats_stop() {
  if pid_alive "$NATS_DIR/nats.pid"; then
    kill -TERM "$(cat "$NATS_DIR/nats.pid")"
    wait_until 30 bash -c "! kill -0 $(cat "$NATS_DIR/nats.pid") 2>/dev/null" || die "nats: did not stop within 30 s"
    rm -f "$NATS_DIR/nats.pid"
    echo "nats      stopped"
  else
    echo "nats      not running (no live pid in $NATS_DIR/nats.pid)"
  fi
}

# --- Redis ----------------------------------------------------------------------------------

redis_start() {
  if redis_answers; then
    echo "redis     already running   $REDIS_URL"
    return 0
  fi
  port_open "$REDIS_PORT" && die "redis: port $REDIS_PORT is taken by something that does not answer PING"

  mkdir -p "$REDIS_DIR"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --dir "$REDIS_DIR" \
    --appendonly yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" >/dev/null ||
    die "redis: redis-server failed to start, see $REDIS_DIR/redis.log"
  wait_until 30 redis_answers || die "redis: no PONG within 30 s, see $REDIS_DIR/redis.log"
  echo "redis     started           $REDIS_URL   (dir $REDIS_DIR)"
}

redis_stop() {
  if pid_alive "$REDIS_DIR/redis.pid"; then
    local pid
    pid="$(cat "$REDIS_DIR/redis.pid")"
    kill -TERM "$pid"
    wait_until 30 bash -c "! kill -0 $pid 2>/dev/null" || die "redis: did not stop within 30 s"
    echo "redis     stopped"
  else
    echo "redis     not running (no live pid in $REDIS_DIR/redis.pid)"
  fi
}

# --- stripe-mock ----------------------------------------------------------------------------

stripe_mock_answers() {
  # Any answer from its API (a 401 without a key) shows it is up; curl is not always installed.
  node -e "fetch('$STRIPE_MOCK_URL/v1/customers',{headers:{authorization:'Bearer sk_test_123'}}).then(r=>process.exit(r.status<500?0:1),()=>process.exit(1))" 2>/dev/null
}

stripe_mock_install() {
  [[ -x "$STRIPE_MOCK_BIN" ]] && return 0
  command -v go >/dev/null 2>&1 || die "stripe-mock: Go is needed to build it (go install), and go is not on PATH"
  log "stripe-mock: building $STRIPE_MOCK_VERSION with go install (about a minute)"
  go install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" || die "stripe-mock: go install failed"
  [[ -x "$STRIPE_MOCK_BIN" ]] || die "stripe-mock: $STRIPE_MOCK_BIN missing after go install"
}

stripe_mock_start() {
  if stripe_mock_answers; then
    echo "stripe    already running   $STRIPE_MOCK_URL"
    return 0
  fi
  port_open "$STRIPE_MOCK_PORT" && die "stripe-mock: port $STRIPE_MOCK_PORT is taken by something that is not stripe-mock"
  stripe_mock_install
  mkdir -p "$STRIPE_MOCK_DIR"
  # It binds every address unless told; loopback only.
  setsid nohup "$STRIPE_MOCK_BIN" -http-addr "127.0.0.1:$STRIPE_MOCK_PORT" </dev/null >>"$STRIPE_MOCK_DIR/stripe-mock.log" 2>&1 &
  echo $! >"$STRIPE_MOCK_DIR/stripe-mock.pid"
  wait_until 30 stripe_mock_answers || die "stripe-mock: no answer on $STRIPE_MOCK_PORT within 30 s, see $STRIPE_MOCK_DIR/stripe-mock.log"
  echo "stripe    started           $STRIPE_MOCK_URL   (stripe-mock $STRIPE_MOCK_VERSION)"
}

stripe_mock_stop() {
  if pid_alive "$STRIPE_MOCK_DIR/stripe-mock.pid"; then
    local pid
    pid="$(cat "$STRIPE_MOCK_DIR/stripe-mock.pid")"
    kill -TERM "$pid"
    wait_until 30 bash -c "! kill -0 $pid 2>/dev/null" || die "stripe-mock: did not stop within 30 s"
    rm -f "$STRIPE_MOCK_DIR/stripe-mock.pid"
    echo "stripe    stopped"
  else
    echo "stripe    not running (no live pid in $STRIPE_MOCK_DIR/stripe-mock.pid)"
  fi
}

# --- commands -------------------------------------------------------------------------------

print_env() {
  echo "export DATABASE_URL=$DATABASE_URL"
  echo "export NATS_URL=$NATS_URL"
  echo "export REDIS_URL=$REDIS_URL"
  echo "export STRIPE_MOCK_URL=$STRIPE_MOCK_URL"
}

cmd_start() {
  install_missing
  mkdir -p "$SERVICES_DIR"
  pg_start
  nats_start
  redis_start
  stripe_mock_start
  echo "DATABASE_URL=$DATABASE_URL"
  echo "NATS_URL=$NATS_URL"
  echo "REDIS_URL=$REDIS_URL"
  echo "STRIPE_MOCK_URL=$STRIPE_MOCK_URL"
}

cmd_stop() {
  stripe_mock_stop
  redis_stop
  nats_stop
  pg_stop
}

cmd_status() {
  local down=0
  if [[ -x "$PG_BIN/pg_isready" ]] && pg_answers; then echo "postgres  up     $DATABASE_URL"; else echo "postgres  DOWN   $DATABASE_URL"; down=1; fi
  if nats_answers; then echo "nats      up     $NATS_URL"; else echo "nats      DOWN   $NATS_URL"; down=1; fi
  if command -v redis-cli >/dev/null 2>&1 && redis_answers; then echo "redis     up     $REDIS_URL"; else echo "redis     DOWN   $REDIS_URL"; down=1; fi
  if stripe_mock_answers; then echo "stripe    up     $STRIPE_MOCK_URL"; else echo "stripe    DOWN   $STRIPE_MOCK_URL"; down=1; fi
  return "$down"
}

case "${1:-start}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) print_env ;;
  -h | --help | help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (use start, stop, status or env)" ;;
esac
