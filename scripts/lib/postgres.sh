# Throwaway PostgreSQL 15 for tests, the simulator and the lab. Source this file, then:
#   postgres_start DIR     initdb into DIR (created if missing; as root it must be reachable by
#                          the postgres user, e.g. under /tmp), start on a
#                          free 127.0.0.1 port; sets and exports POSTGRES_URL and POSTGRES_DIR
#                          and prints the URL. Superuser cybus-admin, database cybus_connectware.
#   postgres_stop DIR      pg_ctl stop -m fast, then removes DIR.
# As root, the server runs as the `postgres` user (initdb refuses root).

POSTGRES_BIN="${POSTGRES_BIN:-/usr/lib/postgresql/15/bin}"

_postgres_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

_postgres_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

postgres_start() {
  local dir="$1"
  [ -n "$dir" ] || { echo "postgres_start: give a directory" >&2; return 2; }
  [ -x "$POSTGRES_BIN/initdb" ] || { echo "postgres_start: $POSTGRES_BIN/initdb missing (run scripts/setup)" >&2; return 1; }
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    # Parents are not loosened behind the caller's back: pick a DIR under /tmp instead.
    runuser -u postgres -- test -w "$dir" || {
      echo "postgres_start: user postgres cannot reach $dir (a parent directory is private); use a directory under /tmp" >&2
      return 1
    }
  fi
  chmod 700 "$dir"
  _postgres_as_owner "$POSTGRES_BIN/initdb" -D "$dir/data" -U cybus-admin --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { echo "postgres_start: initdb failed:" >&2; cat "$dir/initdb.log" >&2; return 1; }
  local port attempt
  for attempt in 1 2 3 4 5; do
    port="$(_postgres_free_port)"
    if _postgres_as_owner "$POSTGRES_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$dir -c fsync=off -c max_connections=200" \
        start >/dev/null 2>&1; then
      break
    fi
    port=""
  done
  [ -n "$port" ] || { echo "postgres_start: the server did not start:" >&2; tail -n 20 "$dir/server.log" >&2; return 1; }
  echo "$port" >"$dir/port"
  "$POSTGRES_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U cybus-admin -d postgres \
    -c 'CREATE DATABASE cybus_connectware' >/dev/null \
    || { echo "postgres_start: cannot create database cybus_connectware" >&2; return 1; }
  POSTGRES_DIR="$dir"
  POSTGRES_URL="postgresql://cybus-admin@127.0.0.1:$port/cybus_connectware"
  export POSTGRES_DIR POSTGRES_URL
  echo "$POSTGRES_URL"
}

postgres_stop() {
  local dir="${1:-${POSTGRES_DIR:-}}"
  [ -n "$dir" ] && [ -d "$dir" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    _postgres_as_owner "$POSTGRES_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
