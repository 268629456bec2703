#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for the store tests (and anyone who wants a local
# shared leaderboard). Installs Debian's postgresql with apt-get when no server binaries exist.
#
#   scripts/postgres.sh start [--port 55432] [--dir /tmp/eval-anything-pg-55432]   # prints the URL
#   scripts/postgres.sh stop  [--port 55432] [--dir ...]
#   scripts/postgres.sh url   [--port 55432]
#
# Idempotent: `start` on a running cluster only prints the URL. Only the URL goes to stdout, so
#   export EVAL_ANYTHING_TEST_PG_URL=$(scripts/postgres.sh start)
# works. The cluster trusts local connections and runs with fsync off: test data only.
set -euo pipefail

cmd=${1:-start}
shift || true
port=${EVAL_ANYTHING_PG_PORT:-55432}
dir=""
db=eval_anything_test
while [[ $# -gt 0 ]]; do
  case $1 in
    --port) port=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --db) db=$2; shift 2 ;;
    *) echo "postgres.sh: unknown option $1 (use --port N, --dir DIR, --db NAME)" >&2; exit 2 ;;
  esac
done
dir=${dir:-/tmp/eval-anything-pg-$port}
url="postgresql+psycopg://postgres@127.0.0.1:$port/$db"

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x $d/initdb && -x $d/pg_ctl ]] && { echo "$d"; return; }
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(command -v pg_ctl)"
  fi
}

install_postgres() {
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { log "PostgreSQL is not installed and installing it needs root (apt-get install -y postgresql)"; exit 1; }
    sudo=sudo
  fi
  command -v apt-get >/dev/null || { log "PostgreSQL is not installed and apt-get is not available; install PostgreSQL server binaries (initdb, pg_ctl)"; exit 1; }
  log "installing postgresql with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq --no-install-recommends postgresql >&2
}

# Run a server command as the 'postgres' user when we are root (initdb refuses root).
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    if command -v runuser >/dev/null; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
  else
    "$@"
  fi
}

is_ready() { "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null; }

ensure_db() {
  local exists
  exists=$("$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$db'")
  if [[ $exists != 1 ]]; then
    "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db" 2>/dev/null || \
      [[ $("$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'") == 1 ]]
  fi
}

case $cmd in
  url) echo "$url"; exit 0 ;;
  start|stop) ;;
  *) echo "postgres.sh: unknown command $cmd (use start, stop or url)" >&2; exit 2 ;;
esac

bindir=$(find_bindir)
if [[ $cmd == stop ]]; then
  [[ -n $bindir && -f $dir/postmaster.pid ]] && as_owner "$bindir/pg_ctl" -D "$dir" -m fast -w stop >&2 || true
  exit 0
fi

if [[ -z $bindir ]]; then
  install_postgres
  bindir=$(find_bindir)
  [[ -n $bindir ]] || { log "no initdb/pg_ctl found after installing postgresql"; exit 1; }
fi

if ! is_ready; then
  if [[ ! -f $dir/PG_VERSION ]]; then
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
    chmod 700 "$dir"
    log "initdb in $dir"
    as_owner "$bindir/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --no-sync >"$dir.initdb.log" 2>&1 || {
      log "initdb failed:"; cat "$dir.initdb.log" >&2; exit 1; }
  fi
  log "starting on 127.0.0.1:$port ($dir)"
  as_owner "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
    start >&2 || { log "pg_ctl start failed; server log:"; tail -n 30 "$dir/server.log" >&2 || true; exit 1; }
fi
ensure_db
echo "$url"
