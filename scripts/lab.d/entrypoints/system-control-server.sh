#!/bin/sh
# cwsim as Connectware's system-control-server: version and restore barriers from the
# compose file, the initial admin's password from CYBUS_INITIAL_ADMIN_USER_PASSWORD (.env; used
# when the database holds no user), the database from PG*. The users live in the database.
set -eu
: "${CWSIM_VERSION:?}" "${CWSIM_PORT:?}" "${PGPORT:?}"
: "${CYBUS_INITIAL_ADMIN_USER_PASSWORD:?CYBUS_INITIAL_ADMIN_USER_PASSWORD is not set}"
address="${CWSIM_ADDRESS:-127.0.0.1}"
export PGHOST="${PGHOST:-$address}"
tries=0
until pg_isready -q -h "$PGHOST" -p "$PGPORT" && psql -X -q -h "$PGHOST" -p "$PGPORT" -c 'SELECT 1' >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 600 ] || { echo "system-control-server: PostgreSQL on port $PGPORT never answered"; exit 1; }
  sleep 0.2
done
# The service-manager volume is mounted here too: backups carry its files, restores put them back.
mkdir -p /service-manager
set -- --version-string "$CWSIM_VERSION" --listen "$address:$CWSIM_PORT" --data-dir /data --service-files /service-manager
for barrier in ${CWSIM_BARRIERS:-}; do set -- "$@" --barrier "$barrier"; done
# Fault switches that survive reinstalls (`scripts/lab fault --at VERSION JSON`): set from the start.
faults="/data/lab-faults-$CWSIM_VERSION.json"
if [ -s "$faults" ]; then set -- "$@" --faults-file "$faults"; fi
# A child, not exec: as PID 1 cwsim would ignore SIGTERM and every stop would wait for the kill.
cwsim "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0' TERM INT
wait "$child"
