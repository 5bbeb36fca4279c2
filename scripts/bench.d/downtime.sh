#!/usr/bin/env bash
# Benchmark of the downtime of a cross-version restore in the lab: `cwmigrate migrate --yes`
# against the vendor's manual procedure done by a plain shell script of curl and docker
# commands (scripts/lab.d/vendor-procedure.sh), same lab, same run, same starting state.
# The lab runs 1.8.0; each run restores a 1.6.0 backup with known data (scripts/lab
# make-backup), which 1.8.0 refuses naming 1.7.3. Downtime: from the start of the shutdown
# to the maintenance API answering at 1.8.0 again. Both runs are checked afterwards
# (outside the timing) against the backup's checksums.
#
#   scripts/bench downtime [RUNS] [--script-only]
#
# RUNS (default 3) rounds, each: make-backup, the script, make-backup, cwmigrate; each round's
# ratio (cwmigrate's downtime / the script's) in the table, then the best of RUNS.
# Goals (issue 5): cwmigrate's downtime <= 1.05 x the script's; its own overhead < 2 s.
# --script-only measures the script alone. cwmigrate: CWMIGRATE_BIN, else the release build
# (built when missing). Needs root (the lab runs its own dockerd in its own directory).
# CWMIGRATE_BENCH_KEEP=DIR keeps each run's script log and cwmigrate's reports in DIR/run<i>/.
# CWMIGRATE_LAB_REGISTRY_RATE=100mbit (scripts/lab) puts the lab's registry behind an uplink of
# that rate for both contenders' pulls; each round then also lists the MiB each contender pulled
# through it (its whole run: the window and what came before).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
runs=3
script_only=0
for arg in "$@"; do
  case "$arg" in
    --script-only) script_only=1 ;;
    *[!0-9]* | '' | 0) echo "error: downtime takes [RUNS] [--script-only], not $arg" >&2; exit 64 ;;
    *) runs="$arg" ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "error: the downtime benchmark runs the Docker lab, which needs root" >&2; exit 1; }

old_version=1.6.0
running_version=1.8.0
# The barrier that refuses the old backup on the running version (the oldest `before` in
# between decides, as cwsim does): its `last` is the version the downgrade installs.
older="$("$root/scripts/lab" versions | sed -n 's/^barrier before=\([^ ]*\) last=\(.*\)/\1 \2/p' \
  | while read -r before last; do
      first="$(printf '%s\n%s\n' "$old_version" "$before" | sort -V | head -n1)"
      top="$(printf '%s\n%s\n' "$before" "$running_version" | sort -V | tail -n1)"
      [ "$first" = "$old_version" ] && [ "$before" != "$old_version" ] && [ "$top" = "$running_version" ] \
        && echo "$before $last" || true
    done | sort -V | head -n1 | cut -d' ' -f2)"
[ -n "$older" ] || { echo "error: no lab barrier refuses a $old_version backup on $running_version" >&2; exit 1; }

bin="${CWMIGRATE_BIN:-$root/.build/release/cwmigrate}"
if [ "$script_only" -eq 0 ] && [ ! -x "$bin" ]; then
  echo "building a release cwmigrate ..." >&2
  (cd "$root" && swift build -c release --product cwmigrate >&2)
fi

export CWMIGRATE_LAB_DIR="${CWMIGRATE_BENCH_LAB_DIR:-/var/tmp/cwm-bench-dt.$$}"
work="$(mktemp -d /var/tmp/cwm-bench-downtime.XXXXXX)"
cleanup() {
  "$root/scripts/lab" down >/dev/null 2>&1 || true
  rm -rf "$work" "$CWMIGRATE_LAB_DIR.lock"
}
trap cleanup EXIT

echo "starting the lab at Connectware $running_version in $CWMIGRATE_LAB_DIR ..." >&2
lab_env="$("$root/scripts/lab" up "$running_version" 2>"$work/up.log")" || {
  cat "$work/up.log" >&2; exit 1; }
while IFS= read -r line; do
  case "$line" in *=*) export "${line?}" ;; esac
done <<<"$lab_env"

now() { date +%s.%N; }
uplink_log="$CWMIGRATE_LAB_DIR/registry-v2/uplink.log"
echo "lab registry uplink: ${CWMIGRATE_LAB_REGISTRY_RATE:-none (loopback)}"
# uplink_mark: lines in the uplink's log so far; pulled_mib MARK: MiB it relayed since MARK.
uplink_mark() { if [ -f "$uplink_log" ]; then wc -l <"$uplink_log"; else echo 0; fi; }
pulled_mib() {
  [ -f "$uplink_log" ] || { echo -; return 0; }
  tail -n +"$(($1 + 1))" "$uplink_log" | sed -n 's/^bytes_down=\([0-9]*\) .*/\1/p' \
    | awk '{ s += $1 } END { printf "%.1f", s / 1048576 }'
}
# make_backup OUT: the starting state of a run (quietly; its messages only when it fails).
make_backup() {
  "$root/scripts/lab" make-backup "$old_version" "$1" >/dev/null 2>"$1.log" || {
    echo "error: scripts/lab make-backup $old_version failed:" >&2; cat "$1.log" >&2; exit 1; }
}
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# same_data CHECKFILE WHO: the lab's checksums must equal the backup's after a run.
same_data() {
  if ! "$root/scripts/lab" check | diff "$1" - >"$work/diff"; then
    echo "error: after $2 the lab's data differs from the backup's:" >&2
    cat "$work/diff" >&2
    exit 1
  fi
}

declare -a script_down script_wall cw_down cw_over cw_wall script_mib cw_mib
for i in $(seq 1 "$runs"); do
  dir="$work/run$i"
  mkdir -p "$dir"

  echo "run $i/$runs: the shell script" >&2
  make_backup "$dir/script-old.tgz"
  mark="$(uplink_mark)"
  start="$(now)"
  "$root/scripts/lab.d/vendor-procedure.sh" "$dir/script-old.tgz" "$older" >"$dir/script.out" 2>"$dir/script.err" || {
    echo "error: scripts/lab.d/vendor-procedure.sh failed:" >&2; tail -n 20 "$dir/script.err" >&2; exit 1; }
  script_wall[i]="$(seconds "$start" "$(now)")"
  script_mib[i]="$(pulled_mib "$mark")"
  script_down[i]="$(sed -n 's/^downtime_seconds=//p' "$dir/script.out" | tail -n1)"
  [ -n "${script_down[i]}" ] || { echo "error: the script printed no downtime_seconds= line" >&2; exit 1; }
  same_data "$dir/script-old.tgz.check" "the shell script"
  echo "run $i: shell script downtime ${script_down[i]} s (whole script ${script_wall[i]} s); data equal to the backup's"

  [ "$script_only" -eq 1 ] && continue
  echo "run $i/$runs: cwmigrate migrate" >&2
  make_backup "$dir/cw-old.tgz"
  mark="$(uplink_mark)"
  start="$(now)"
  status=0
  # Each run learns on its own: no restore barrier learned by an earlier run or by the operator.
  XDG_STATE_HOME="$dir/xdg-state" "$bin" migrate --backup "$dir/cw-old.tgz" --yes --state-dir "$dir/state" --docker-host "$DOCKER_HOST" \
    --installer-dir "$CWMIGRATE_LAB_DIR/installers" </dev/null >"$dir/cw.out" 2>"$dir/cw.err" || status=$?
  cw_wall[i]="$(seconds "$start" "$(now)")"
  cw_mib[i]="$(pulled_mib "$mark")"
  if [ "$status" -ne 0 ]; then
    echo "error: cwmigrate migrate exited $status in run $i; its last lines:" >&2
    tail -n 15 "$dir/cw.err" "$dir/cw.out" >&2
    exit 1
  fi
  report="$(find "$dir/state/runs" -name '*.report.json' -printf '%T@ %p\n' 2>/dev/null | sort -rn | head -n1 | cut -d' ' -f2-)"
  [ -n "$report" ] || { echo "error: cwmigrate migrate left no runs/*.report.json in $dir/state" >&2; exit 1; }
  read -r "cw_down[i]" "cw_over[i]" < <(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print("%.3f %.3f" % (float(r["downtimeSeconds"]), float(r["overheadSeconds"])))' "$report") || {
    echo "error: $report has no numbers downtimeSeconds and overheadSeconds" >&2; exit 1; }
  if [ -n "${CWMIGRATE_BENCH_KEEP:-}" ]; then
    mkdir -p "$CWMIGRATE_BENCH_KEEP/run$i"
    cp "$dir/script.err" "$dir/cw.out" "$dir/cw.err" "$dir/state/runs/"*.report.* "$CWMIGRATE_BENCH_KEEP/run$i/" 2>/dev/null || true
  fi
  same_data "$dir/cw-old.tgz.check" "cwmigrate migrate"
  echo "run $i: cwmigrate downtime ${cw_down[i]} s, overhead ${cw_over[i]} s (whole run ${cw_wall[i]} s); data equal to the backup's"
done

best() { printf '%s\n' "$@" | grep . | sort -n | head -n1; }
echo "lab: Connectware $running_version refusing a $old_version backup (restore barrier: last $older); $runs runs"
printf '%-4s %14s %12s %14s %12s %12s %8s %11s %11s\n' run "script down" "script wall" "cwmigrate down" overhead "cw wall" ratio \
  "script MiB" "cw MiB"
for i in $(seq 1 "$runs"); do
  ratio_i="-"
  [ -n "${cw_down[i]:-}" ] && ratio_i="$(awk -v a="${cw_down[i]}" -v b="${script_down[i]}" 'BEGIN { printf "%.2f", a / b }')"
  printf '%-4s %12s s %10s s %12s s %10s s %10s s %8s %11s %11s\n' "$i" "${script_down[i]}" "${script_wall[i]}" \
    "${cw_down[i]:--}" "${cw_over[i]:--}" "${cw_wall[i]:--}" "$ratio_i" "${script_mib[i]:--}" "${cw_mib[i]:--}"
done
best_script="$(best "${script_down[@]}")"
echo "shell script (vendor's manual steps), downtime best of $runs: $best_script s"
if [ "$script_only" -eq 1 ]; then
  echo "cwmigrate: not measured (--script-only)"
  exit 0
fi
best_cw="$(best "${cw_down[@]}")"
best_over="$(best "${cw_over[@]}")"
ratio="$(awk -v a="$best_cw" -v b="$best_script" 'BEGIN { printf "%.2f", a / b }')"
echo "cwmigrate migrate, downtime best of $runs: $best_cw s; its own overhead best of $runs: $best_over s"
echo "cwmigrate / script downtime: $ratio (goal <= 1.05): $(awk -v r="$ratio" 'BEGIN { print (r <= 1.05) ? "met" : "NOT met" }')"
echo "cwmigrate overhead: $best_over s (goal < 2 s): $(awk -v o="$best_over" 'BEGIN { print (o < 2) ? "met" : "NOT met" }')"
