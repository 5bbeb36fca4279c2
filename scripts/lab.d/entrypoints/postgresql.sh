#!/bin/sh
# PostgreSQL 15 of the lab: data in the `postgresql` volume, trust on a loopback address only
# (POSTGRES_ADDRESS, default 127.0.0.1).
set -eu
data=/var/lib/postgresql/data
port="${POSTGRES_PORT:?POSTGRES_PORT is not set}"
address="${POSTGRES_ADDRESS:-127.0.0.1}"
mkdir -p "$data"
chown -R postgres:postgres "$data"
chmod 700 "$data"
as_postgres() { su postgres -s /bin/sh -c "$*"; }
if [ ! -s "$data/PG_VERSION" ]; then
  echo "postgresql: first start, initdb"
  as_postgres "initdb -D $data -U cybus-admin --auth=trust -E UTF8 --no-locale" >/tmp/initdb.log 2>&1 \
    || { cat /tmp/initdb.log; exit 1; }
  printf '%s\n' 'local all all trust' 'host all all 127.0.0.0/8 trust' >"$data/pg_hba.conf"
  echo 'CREATE DATABASE cybus_connectware;' | as_postgres "postgres --single -D $data postgres" >/dev/null
fi
exec su postgres -s /bin/sh -c "exec postgres -D $data -p $port -c listen_addresses=$address -k /tmp -c jit=off"
