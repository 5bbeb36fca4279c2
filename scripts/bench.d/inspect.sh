#!/usr/bin/env bash
# Benchmark of `cwmigrate inspect` on a generated ~1 GiB backup (gzip, metadata first):
# the quick look (goal: < 50 ms, < 30 MiB peak) and `inspect --verify` against
# `bsdtar -tzf` and `tar -tzf` on the same file (goal: verify/bsdtar <= 1.1 while also
# computing SHA-256 and checking gzip CRCs). Best of 3 wall times; peak RSS via /usr/bin/time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="$root/.build/release/cwmigrate"
# Always build: an up-to-date release build returns at once, and a stale binary would lie.
echo "building a release cwmigrate ..." >&2
(cd "$root" && swift build -c release --product cwmigrate >&2)

work="$(mktemp -d "${TMPDIR:-/tmp}/cwmigrate-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

id="1.0.73_2022-02-16T15-37-19.242Z"
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
archive="$work/backup.tgz"
compressed=$(stat -c %s "$archive")
cat "$archive" > /dev/null  # warm the page cache so every tool starts equal

# best_of3 LABEL COMMAND...: prints "LABEL wall_s peak_KiB" for the fastest of three runs.
best_of3() {
  local label="$1"; shift
  local best="" best_mem=""
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" > /dev/null 2> "$work/stderr" || {
      echo "$label failed:" >&2; cat "$work/stderr" >&2; exit 1; }
    read -r wall mem < "$work/time"
    if [[ -z "$best" ]] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best="$wall"; best_mem="$mem"
    fi
  done
  echo "$label $best $best_mem"
}

# The quick look takes milliseconds, finer than /usr/bin/time's 10 ms: time it with date.
quick_best=""
for _ in 1 2 3 4 5; do
  start=$(date +%s%N); "$bin" inspect "$archive" > /dev/null; end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  if [[ -z "$quick_best" || "$ms" -lt "$quick_best" ]]; then quick_best="$ms"; fi
done
read -r _ _ quick_mem < <(best_of3 quick "$bin" inspect "$archive")

read -r _ verify_s verify_mem < <(best_of3 verify "$bin" inspect --verify "$archive")
read -r _ bsdtar_s bsdtar_mem < <(best_of3 bsdtar bsdtar -tzf "$archive")
read -r _ tar_s tar_mem < <(best_of3 tar tar -tzf "$archive")
# The floor under any verify that hashes the file: OpenSSL's SHA-256 of it alone.
read -r _ sha_s sha_mem < <(best_of3 sha openssl dgst -sha256 "$archive")

ratio=$(awk -v a="$verify_s" -v b="$bsdtar_s" 'BEGIN { printf "%.2f", a / b }')
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"

echo "machine: $cpu, $(nproc) cores; $(uname -sr)"
echo "archive: $compressed bytes gzip, $((4 * 2 * 134217728 + 64)) bytes uncompressed, metadata first"
printf '%-28s %9s %10s\n' "command" "wall" "peak RSS"
printf '%-28s %7s ms %7s KiB   (goal < 50 ms, < 30720 KiB)\n' "cwmigrate inspect" "$quick_best" "$quick_mem"
printf '%-28s %8s s %7s KiB\n' "cwmigrate inspect --verify" "$verify_s" "$verify_mem"
printf '%-28s %8s s %7s KiB\n' "bsdtar -tzf" "$bsdtar_s" "$bsdtar_mem"
printf '%-28s %8s s %7s KiB\n' "tar -tzf" "$tar_s" "$tar_mem"
printf '%-28s %8s s %7s KiB   (SHA-256 alone: the floor for verify)\n' "openssl dgst -sha256" "$sha_s" "$sha_mem"
echo "ratio verify/bsdtar: $ratio (goal <= 1.10)"
echo "ratio sha256-alone/bsdtar: $(awk -v a="$sha_s" -v b="$bsdtar_s" 'BEGIN { printf "%.2f", a / b }')"
