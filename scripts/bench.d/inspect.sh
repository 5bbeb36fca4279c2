#!/usr/bin/env bash
# Benchmark of `cwmigrate inspect` on a generated ~1 GiB backup (gzip, metadata first):
# the quick look (goal: < 50 ms, <= 20 MiB peak) and `inspect --verify` against
# `bsdtar -tzf` on the same file (goal: verify/bsdtar <= 1.0 while also computing SHA-256
# and checking gzip CRCs). BENCH_RUNS (5) rounds, each running verify and bsdtar back to
# back (alternating which goes first); medians, every round's ratio, their spread, CPU
# time (user + system) and the load average. Peak RSS via /usr/bin/time. `tar -tzf` and
# `openssl dgst -sha256` (the floor for any verify that hashes the file) once each.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${CWMIGRATE:-$root/.build/release/cwmigrate}"
# Always build (unless CWMIGRATE names a binary): an up-to-date release build returns at
# once, and a stale binary would lie.
if [ -z "${CWMIGRATE:-}" ]; then
  echo "building a release cwmigrate ..." >&2
  (cd "$root" && swift build -c release --product cwmigrate >&2)
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/cwmigrate-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

id="1.0.73_2022-02-16T15-37-19.242Z"
if [ -n "${BENCH_ARCHIVE:-}" ]; then
  # A backup this script generated before (kept to compare builds on the same bytes).
  cp "$BENCH_ARCHIVE" "$work/backup.tgz"
else
echo "generating a ~1 GiB backup (text and random bytes, gzip) in $work ..." >&2
mkdir -p "$work/tree/$id"
printf '{"version": "1.0.73", "id": "1.0.73_2022-02-16T15:37:19.242Z"}\n' > "$work/tree/$id/metadata.json"
set +o pipefail  # head ends the text generators early on purpose
for i in 1 2 3 4; do
  # Text shaped like a SQL dump: compresses several times over, as dumps do.
  seq "$((i * 100000000))" "$((i * 100000000 + 10000000))" \
    | sed 's/.*/INSERT INTO public.events VALUES (&, '"'"'sensor-&'"'"', now());/' | head -c 134217728 > "$work/tree/$id/table$i.sql"
  head -c 134217728 /dev/urandom > "$work/tree/$id/blob$i.bin"
done
set -o pipefail
(cd "$work/tree" && tar --format=pax -cf - "$id/metadata.json" "$id"/table*.sql "$id"/blob*.bin | gzip -6 > "$work/backup.tgz")
rm -rf "$work/tree"
fi
archive="$work/backup.tgz"
compressed=$(stat -c %s "$archive")
cat "$archive" > /dev/null  # warm the page cache so every tool starts equal

runs=${BENCH_RUNS:-5}
# once LABEL COMMAND...: prints "wall_s cpu_s peak_KiB" of one run (wall from date, finer than time's)
once() {
  local label="$1" start end; shift
  start=$(date +%s%N)
  /usr/bin/time -f "%U %S %M" -o "$work/time" "$@" > /dev/null 2> "$work/stderr" || {
    echo "$label failed:" >&2; cat "$work/stderr" >&2; exit 1; }
  end=$(date +%s%N)
  read -r user sys mem < <(tail -1 "$work/time")
  awk -v s="$start" -v e="$end" -v u="$user" -v y="$sys" -v m="$mem" 'BEGIN { printf "%.3f %.2f %d\n", (e - s) / 1e9, u + y, m }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }
load_before=$(loadavg)

# The quick look: median of 11 (its wall time is milliseconds).
quick_ms=() quick_kib=()
for _ in $(seq 11); do
  read -r wall _ mem < <(once quick "$bin" inspect "$archive")
  quick_ms+=("$(awk -v w="$wall" 'BEGIN { printf "%.1f", w * 1000 }')") quick_kib+=("$mem")
done

verify_s=() verify_cpu=() verify_kib=() bsdtar_s=() bsdtar_cpu=() bsdtar_kib=() ratios=()
for round in $(seq "$runs"); do
  if [ $((round % 2)) -eq 1 ]; then order="verify bsdtar"; else order="bsdtar verify"; fi
  for tool in $order; do
    if [ "$tool" = verify ]; then
      read -r v_wall v_cpu v_mem < <(once verify "$bin" inspect --verify "$archive")
      verify_s+=("$v_wall") verify_cpu+=("$v_cpu") verify_kib+=("$v_mem")
    else
      read -r b_wall b_cpu b_mem < <(once bsdtar bsdtar -tzf "$archive")
      bsdtar_s+=("$b_wall") bsdtar_cpu+=("$b_cpu") bsdtar_kib+=("$b_mem")
    fi
  done
  ratios+=("$(awk -v a="$v_wall" -v b="$b_wall" 'BEGIN { printf "%.2f", a / b }')")
done
read -r tar_s _ tar_kib < <(once tar tar -tzf "$archive")
read -r sha_s sha_cpu sha_kib < <(once sha openssl dgst -sha256 "$archive")
load_after=$(loadavg)

v_med=$(median "${verify_s[@]}") b_med=$(median "${bsdtar_s[@]}")
ratio=$(awk -v a="$v_med" -v b="$b_med" 'BEGIN { printf "%.2f", a / b }')
lo=$(printf '%s\n' "${ratios[@]}" | sort -g | head -1) hi=$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"

echo "machine: $cpu, $(nproc) cores; $(uname -sr); load average $load_before before, $load_after after"
echo "archive: $compressed bytes gzip, $((4 * 2 * 134217728 + 64)) bytes uncompressed, metadata first"
printf '%-28s %14s %10s %12s\n' "command" "wall (median)" "CPU" "peak RSS"
printf '%-28s %11s ms %10s %8s KiB   (11 runs; goal < 50 ms, <= 20480 KiB)\n' "cwmigrate inspect" \
  "$(median "${quick_ms[@]}")" "" "$(median "${quick_kib[@]}")"
printf '%-28s %12s s %8s s %8s KiB   (%s rounds)\n' "cwmigrate inspect --verify" "$v_med" "$(median "${verify_cpu[@]}")" \
  "$(median "${verify_kib[@]}")" "$runs"
printf '%-28s %12s s %8s s %8s KiB   (anchor, same rounds)\n' "bsdtar -tzf" "$b_med" "$(median "${bsdtar_cpu[@]}")" \
  "$(median "${bsdtar_kib[@]}")"
printf '%-28s %12s s %10s %8s KiB   (once)\n' "tar -tzf" "$tar_s" "" "$tar_kib"
printf '%-28s %12s s %8s s %8s KiB   (once; SHA-256 alone: a floor for verify)\n' "openssl dgst -sha256" "$sha_s" \
  "$sha_cpu" "$sha_kib"
echo "ratio verify/bsdtar: $ratio of the medians; rounds ${ratios[*]} (spread $lo-$hi); goal <= 1.00"
echo "ratio sha256-alone/bsdtar: $(awk -v a="$sha_s" -v b="$b_med" 'BEGIN { printf "%.2f", a / b }')"
