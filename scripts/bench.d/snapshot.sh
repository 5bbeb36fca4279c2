#!/usr/bin/env bash
# Benchmark of a volume snapshot: `cwmigrate volumes snapshot` (zstd level 1, written, then
# read back to the end and hashed) of a ~1 GiB volume-like directory (a stopped PostgreSQL 15
# data directory grown with pgbench, plus log text and binary files), against `tar -czf` and
# `tar --zstd -cf` of the same directory in the same run. Best of 3 wall times; sizes.
# Goal: cwmigrate (verifying) <= 0.5 x tar -czf.
# The generated directory is kept in CWMIGRATE_BENCH_DATA (default /var/tmp/cwmigrate-bench-volume)
# so a second run skips the minutes pgbench takes; delete it to start afresh.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="$root/.build/release/cwmigrate"
if [[ ! -x "$bin" ]]; then
  echo "building a release cwmigrate ..." >&2
  (cd "$root" && swift build -c release --product cwmigrate >&2)
fi

data="${CWMIGRATE_BENCH_DATA:-/var/tmp/cwmigrate-bench-volume}"
volume="$data/volume"
work="$(mktemp -d "${TMPDIR:-/tmp}/cwmigrate-bench-snapshot.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if [[ ! -f "$data/complete" ]]; then
  echo "generating a ~1 GiB volume in $data (PostgreSQL with pgbench rows, plus files) ..." >&2
  rm -rf "$data"
  # shellcheck source=../lib/postgres.sh
  source "$root/scripts/lib/postgres.sh"
  pg="$(mktemp -d /tmp/cwmigrate-bench-pg.XXXXXX)"
  postgres_start "$pg" >/dev/null
  port="$(cat "$pg/port")"
  # A modest WAL, as a long-running Connectware's data directory has, not the 1 GiB default.
  "$POSTGRES_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U cybus-admin -d cybus_connectware \
    -c "ALTER SYSTEM SET max_wal_size = '128MB'" -c "SELECT pg_reload_conf()" >/dev/null
  "$POSTGRES_BIN/pgbench" -q -i -s 35 -h 127.0.0.1 -p "$port" -U cybus-admin cybus_connectware >/dev/null 2>&1
  "$POSTGRES_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U cybus-admin -d cybus_connectware \
    -c "CREATE TABLE events AS SELECT i AS id, md5(i::text) AS sensor, now() - i * interval '1 s' AS at,
        repeat('payload ', 4) AS body FROM generate_series(1, 1000000) AS i" -c CHECKPOINT >/dev/null
  _postgres_as_owner "$POSTGRES_BIN/pg_ctl" -D "$pg/data" -m fast -w stop >/dev/null
  mkdir -p "$data"
  mv "$pg/data" "$volume"
  rm -rf "$pg"
  # Files beside the database, as a service-manager volume holds them: logs and blobs.
  mkdir -p "$volume/files/logs" "$volume/files/blobs"
  set +o pipefail  # head ends the generators early on purpose
  for i in 1 2 3 4; do
    seq 1 5000000 | sed "s/.*/2024-01-0${i}T12:00:00Z info service-$i processed message & ok/" \
      | head -c 33554432 > "$volume/files/logs/service-$i.log"
    head -c 33554432 /dev/urandom > "$volume/files/blobs/blob-$i.bin"
  done
  set -o pipefail
  touch "$data/complete"
fi

bytes=$(du -sb "$volume" | cut -f1)
files=$(find "$volume" -type f | wc -l)
tar -cf - -C "$volume" . > /dev/null  # warm the page cache so every tool starts equal

# best_of3 LABEL OUTPUT COMMAND...: prints "LABEL wall_s size" for the fastest of three runs.
best_of3() {
  local label="$1" output="$2"; shift 2
  local best=""
  for _ in 1 2 3; do
    rm -f "$output" "$output.manifest.json" "$output.sha256"
    /usr/bin/time -f "%e" -o "$work/time" "$@" > /dev/null 2> "$work/stderr" || {
      echo "$label failed:" >&2; cat "$work/stderr" >&2; exit 1; }
    read -r wall < "$work/time"
    if [[ -z "$best" ]] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then best="$wall"; fi
  done
  echo "$label $best $(stat -c %s "$output")"
}

read -r _ cw_s cw_size < <(best_of3 cwmigrate "$work/cw.tar.zst" \
  "$bin" volumes snapshot bench --directory "$volume" --output "$work/cw.tar.zst")
read -r _ gz_s gz_size < <(best_of3 tar-czf "$work/t.tgz" tar -czf "$work/t.tgz" -C "$volume" .)
read -r _ zst_s zst_size < <(best_of3 tar-zstd "$work/t.tar.zst" tar --zstd -cf "$work/t.tar.zst" -C "$volume" .)

mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "volume: $(mib "$bytes") in $files files (PostgreSQL 15 data dir with pgbench -s 35 and 1 M generated rows, plus logs and random blobs)"
printf '%-44s %8s s  %12s  (%s)\n' "cwmigrate volumes snapshot (zstd 1, verified)" "$cw_s" "$(mib "$cw_size")" "$cw_size bytes"
printf '%-44s %8s s  %12s  (%s)\n' "tar -czf" "$gz_s" "$(mib "$gz_size")" "$gz_size bytes"
printf '%-44s %8s s  %12s  (%s)\n' "tar --zstd -cf" "$zst_s" "$(mib "$zst_size")" "$zst_size bytes"
ratio=$(awk -v a="$cw_s" -v b="$gz_s" 'BEGIN { printf "%.2f", a / b }')
ratio_zst=$(awk -v a="$cw_s" -v b="$zst_s" 'BEGIN { printf "%.2f", a / b }')
echo "cwmigrate / tar -czf: $ratio (goal <= 0.5): $(awk -v r="$ratio" 'BEGIN { print (r <= 0.5) ? "met" : "NOT met" }')"
echo "cwmigrate / tar --zstd -cf: $ratio_zst (tar --zstd does not read its archive back)"
