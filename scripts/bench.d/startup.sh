#!/usr/bin/env bash
# Benchmark of the shipped artifact: its size, and the start-up of the installed binary:
# `cwmigrate --version` (goal: median <= 1.1x `curl --version`'s) and `cwmigrate plan` on the example backup,
# each the median of 21 runs (fresh processes; the page cache stays warm, as on a host
# where the operator runs it twice). Anchors measured in the same run: `curl --version`
# (a C program loading the same libcurl) and `/bin/true` (the cost of any fork+exec).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/cwmigrate-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Always package: an up-to-date build returns quickly, and a stale artifact would lie.
echo "packaging (release build) ..." >&2
artifact="$("$root/scripts/package" --output "$work/dist")"
tar -C "$work" -xzf "$artifact"
top="$work/$(basename "$artifact" .tar.gz)"
"$top/install.sh" --prefix "$work/prefix" > /dev/null
bin="$work/prefix/bin/cwmigrate"
example="$root/examples/connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz"
export XDG_STATE_HOME="$work/state" NO_COLOR=1

# Rounds interleave the commands, so a burst of load from elsewhere on the machine hits all
# of them alike; each command runs once unmeasured first, to fill the page cache.
commands=(
  "$bin --version"
  "$bin version --json"
  "$bin plan --backup $example --running 1.8.0 --compat $root/examples/compat-example.yml"
  "curl --version"
  "/bin/true"
)
declare -A samples
load_before=$(cut -d' ' -f1 /proc/loadavg)
for c in "${commands[@]}"; do $c > /dev/null 2>&1 || true; done
for _ in $(seq 21); do
  for c in "${commands[@]}"; do
    start=$(date +%s%N); $c > /dev/null 2>&1 || true; end=$(date +%s%N)
    samples[$c]+="$(( (end - start) / 1000 )) "
  done
done
# median_ms COMMAND: the median of its 21 samples, in ms with one decimal, and in brackets
# the spread of the middle half (the 6th and 16th of the 21 sorted).
median_ms() {
  tr ' ' '\n' <<< "${samples[$1]}" | grep . | sort -n \
    | awk '{ v[NR] = $1 / 1000 } END { printf "%.1f (%.1f-%.1f)", v[11], v[6], v[16] }'
}
version_ms=$(median_ms "${commands[0]}")
json_ms=$(median_ms "${commands[1]}")
plan_ms=$(median_ms "${commands[2]}")
curl_ms=$(median_ms "${commands[3]}")
true_ms=$(median_ms "${commands[4]}")
load_after=$(cut -d' ' -f1 /proc/loadavg)

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; $(uname -sr)"
echo "artifact: $(basename "$artifact") $(stat -c %s "$artifact") bytes ($(du -h "$artifact" | cut -f1))"
echo "binary:   $(stat -c %s "$bin") bytes installed; loads $(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')($(ldd "$bin" | grep -c '=>') libraries with their own dependencies); opens on first use: $(tr '\n' ' ' < "$top/share/cwmigrate/opened-libraries" 2>/dev/null)"
echo "load average: $load_before before, $load_after after"
printf '%-44s %s\n' "command (median of 21, middle half)" "wall ms"
printf '%-44s %s   (goal <= 1.1x curl --version)\n' "cwmigrate --version" "$version_ms"
printf '%-44s %s\n' "cwmigrate version --json" "$json_ms"
printf '%-44s %s\n' "cwmigrate plan --backup <example> --compat <example>" "$plan_ms"
printf '%-44s %s   (anchor: C, same libcurl)\n' "curl --version" "$curl_ms"
printf '%-44s %s   (anchor: fork+exec)\n' "/bin/true" "$true_ms"
ratio=$(awk -v v="${version_ms%% *}" -v c="${curl_ms%% *}" 'BEGIN { printf "%.2f", v / c }')
awk -v r="$ratio" 'BEGIN { print "cwmigrate --version / curl --version: " r "x (goal <= 1.1x): " (r <= 1.1 ? "met" : "missed") }'
# The same pairs round by round: each round's --version over that round's curl --version, whose
# median is less moved by load that comes and goes during the 21 rounds than a ratio of medians.
paired=$(paste -d' ' <(tr ' ' '\n' <<< "${samples[${commands[0]}]}" | grep .) \
    <(tr ' ' '\n' <<< "${samples[${commands[3]}]}" | grep .) \
  | awk '{ print $1 / $2 }' | sort -n | awk '{ r[NR] = $1 } END { printf "%.2f (%.2f-%.2f)", r[11], r[6], r[16] }')
echo "round by round, median (middle half): $paired"
