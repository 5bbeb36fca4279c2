#!/usr/bin/env bash
# Download and upload of 1 GiB and 4 GiB files over loopback: HTTPClient (through the
# cwbench executable) against the curl CLI, both talking to the same nginx in the same run.
# BENCH_RUNS (5) rounds per size and direction. Each round runs curl, cwbench and curl again
# back to back (which of the three goes first rotates), so a burst of load from elsewhere
# hits all alike, and the two curl runs show how far one tool differs from itself in the
# same round: the noise floor that cwbench's ratio is read against.
# A row gives the median wall time of curl (its first run of each round) and of cwbench,
# the ratio of the medians, every round's ratio and their spread, the same for curl against
# its second run, the median CPU seconds (user + system) of each client, which load changes
# far less than wall time, and the load average before and after. Peak memory is the
# highest of the rounds. Goals: throughput >= 0.95x curl in every round; peak memory
# < 40 MiB, 4 GiB <= 1 GiB + 5 MiB.
#
# Downloads go to BENCH_OUT (default /dev/shm, a tmpfs) so both tools are measured on the
# network path, not on the disk: cwbench fsyncs its file as a download must, curl does not.
# BENCH_OUT=/var/tmp measures downloads to a disk, cwbench's fsync included and curl's
# missing; each run then starts after a sync, so none pays for the previous one's writes.
set -euo pipefail
cd "$(dirname "$0")/../.."

sizes_mib=${BENCH_SIZES_MIB:-"1024 4096"}
runs=${BENCH_RUNS:-5}
bin=${CWBENCH:-.build/release/cwbench}
if [ -z "${CWBENCH:-}" ]; then
  echo "transfer: building cwbench (release)" >&2
  swift build -c release --product cwbench >&2
fi
bin=$(realpath "$bin")

work=$(mktemp -d "${TMPDIR:-/tmp}/cwbench.XXXXXX")
out_dir=$(mktemp -d "${BENCH_OUT:-/dev/shm}/cwbench-out.XXXXXX")
nginx_pid=
cleanup() {
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; fi
  rm -rf "$work" "$out_dir"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/www" "$work/body"
# nginx workers run as an unprivileged user when started by root: they must read www/.
chmod 755 "$work" "$work/www" "$out_dir"
cat > "$work/nginx.conf" <<EOF
daemon off;
worker_processes 1;
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 64; }
http {
    log_format bench '\$request \$status \$request_length \$body_bytes_sent';
    access_log $work/access.log bench;
    client_body_temp_path $out_dir/body;
    client_body_buffer_size 1m;
    proxy_temp_path $work/body;
    fastcgi_temp_path $work/body;
    uwsgi_temp_path $work/body;
    scgi_temp_path $work/body;
    sendfile on;
    tcp_nopush on;
    server {
        listen 127.0.0.1:$port;
        root $work/www;
        client_max_body_size 0;
        # A plain "return 204" answers before the body is read; the echo module (a
        # dependency of Debian's nginx-light) reads all of it first, into a temporary file
        # on tmpfs, so request_length in the access log shows every byte arrived.
        location = /upload { echo_read_request_body; echo "received"; }
    }
}
EOF
nginx -p "$work" -c "$work/nginx.conf" &
nginx_pid=$!
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done

# once COMMAND...: runs it once; prints "seconds peak_kib cpu_seconds"
once() {
  local start end
  rm -f "$out_dir/f"
  sync
  start=$(date +%s%N)
  /usr/bin/time -f '%M %U %S' -o "$work/time.out" "$@" > /dev/null
  end=$(date +%s%N)
  echo "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", (e - s) / 1e9 }')" \
    "$(tail -1 "$work/time.out" | awk '{ printf "%d %.2f", $1, $2 + $3 }')"
}

uploaded_bytes() { tail -1 "$work/access.log" | awk '{ print $(NF-1) }'; }

# nginx keeps an upload's body in an unlinked file on BENCH_OUT and frees it when it closes that
# file, after the client has its answer: for 4 GiB on tmpfs that takes the single worker about
# 0.5 s, during which the next run's connection waits. settle_upload USED_KIB: waits until the
# file system is back to USED_KIB (its use before the upload, 1 MiB of slack), so no run pays
# for the one before it.
used_kib() { df --output=used -k "$out_dir" | tail -1 | tr -d ' '; }
settle_upload() {
  local target=$(( $1 + 1024 )) waited=0
  while [ "$(used_kib)" -gt "$target" ]; do
    waited=$((waited + 1))
    [ "$waited" -le 3000 ] || { echo "transfer: nginx did not free an upload's body within 30 s" >&2; exit 1; }
    sleep 0.01
  done
}

# median WORDS...: the median of the numbers given
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }

# run_tool curl|cwbench DIRECTION MIB: one transfer by that tool; prints "seconds peak_kib cpu_seconds"
run_tool() {
  local tool="$1" direction="$2" mib="$3" file="$work/www/file-$3" url="http://127.0.0.1:$port/file-$3" result used_before
  if [ "$direction" = download ]; then
    if [ "$tool" = curl ]; then once curl -sf -o "$out_dir/f" "$url"; else once "$bin" download "$url" "$out_dir/f"; fi
  else
    used_before=$(used_kib)
    if [ "$tool" = curl ]; then
      result=$(once curl -sf -o /dev/null -F "file=@$file" "http://127.0.0.1:$port/upload")
    else
      result=$(once "$bin" upload "http://127.0.0.1:$port/upload" "$file")
    fi
    [ "$(uploaded_bytes)" -gt $((mib << 20)) ] || { echo "transfer: nginx did not receive $tool's whole upload" >&2; exit 1; }
    settle_upload "$used_before"
    echo "$result"
  fi
}

# ratios A... / B...: each A over the B at the same place, two decimals
ratios() {
  local -n a=$1 b=$2
  local i
  for i in "${!a[@]}"; do awk -v x="${a[$i]}" -v y="${b[$i]}" 'BEGIN { printf "%.2f ", x / y }'; done
}
spread() { printf '%s\n' "$@" | sort -g | sed -n '1p;$p' | paste -sd- -; }
lowest() { printf '%s\n' "$@" | sort -g | head -1; }
# below LIMIT WORDS...: how many of the numbers are below LIMIT
below() { local limit=$1; shift; printf '%s\n' "$@" | awk -v l="$limit" '$1 < l { n++ } END { print n + 0 }'; }

echo "rounds per row: $runs (curl, cwbench and curl again back to back in each, rotating which goes first)"
echo "ratio: curl s / cwbench s; curl/curl: curl s / the same round's second curl s (the noise floor)"
printf '%-9s %6s %8s %9s %6s %-10s %-10s %8s %8s %8s %11s %s\n' transfer size "curl s" "cwbench s" ratio "spread" \
  "curl/curl" "curl cpu" "cw cpu" "curl MiB" "cwbench MiB" "load before/after; each round's ratio | curl/curl"
declare -A peak
for mib in $sizes_mib; do
  truncate -s "${mib}M" "$work/www/file-$mib"
  for direction in download upload; do
    curl_times=() again_times=() cw_times=() curl_cpu=() cw_cpu=() curl_kib=0 cw_kib=0 load_before=$(loadavg)
    for round in $(seq "$runs"); do
      case $((round % 3)) in
        1) order="curl cwbench again" ;;
        2) order="cwbench again curl" ;;
        0) order="again curl cwbench" ;;
      esac
      for tool in $order; do
        result=$(run_tool "${tool/again/curl}" "$direction" "$mib")
        read -r seconds kib cpu <<< "$result"
        case $tool in
          curl) curl_times+=("$seconds") curl_cpu+=("$cpu") curl_kib=$((kib > curl_kib ? kib : curl_kib)) ;;
          again) again_times+=("$seconds") curl_kib=$((kib > curl_kib ? kib : curl_kib)) ;;
          cwbench) cw_times+=("$seconds") cw_cpu+=("$cpu") cw_kib=$((kib > cw_kib ? kib : cw_kib)) ;;
        esac
      done
    done
    read -ra round_ratios <<< "$(ratios curl_times cw_times)"
    read -ra noise_ratios <<< "$(ratios curl_times again_times)"
    curl_med=$(median "${curl_times[@]}") cw_med=$(median "${cw_times[@]}")
    ratio=$(awk -v c="$curl_med" -v w="$cw_med" 'BEGIN { printf "%.2f", c / w }')
    curl_cpu_med=$(median "${curl_cpu[@]}") cw_cpu_med=$(median "${cw_cpu[@]}")
    printf '%-9s %4s M %8.3f %9.3f %5sx %-10s %-10s %8.2f %8.2f %8.1f %11.1f %s\n' "$direction" "$mib" "$curl_med" "$cw_med" \
      "$ratio" "$(spread "${round_ratios[@]}")" "$(spread "${noise_ratios[@]}")" "$curl_cpu_med" "$cw_cpu_med" "$(awk -v k="$curl_kib" 'BEGIN { print k / 1024 }')" \
      "$(awk -v k="$cw_kib" 'BEGIN { print k / 1024 }')" "$load_before/$(loadavg); ${round_ratios[*]} | ${noise_ratios[*]}"
    peak[$direction-$mib]=$cw_kib
    lo=$(lowest "${round_ratios[@]}") noise_lo=$(lowest "${noise_ratios[@]}")
    rounds_total=$(( ${rounds_total:-0} + runs ))
    rounds_low=$(( ${rounds_low:-0} + $(below 0.95 "${round_ratios[@]}") ))
    noise_low=$(( ${noise_low:-0} + $(below 0.95 "${noise_ratios[@]}") ))
    worst_ratio=$(awk -v a="${worst_ratio:-$lo}" -v b="$lo" 'BEGIN { print (b < a ? b : a) }')
    worst_noise=$(awk -v a="${worst_noise:-$noise_lo}" -v b="$noise_lo" 'BEGIN { print (b < a ? b : a) }')
    cpu_ratio=$(awk -v c="$curl_cpu_med" -v w="$cw_cpu_med" 'BEGIN { printf "%.2f", (w > 0 ? c / w : 0) }')
    worst_cpu=$(awk -v a="${worst_cpu:-$cpu_ratio}" -v b="$cpu_ratio" 'BEGIN { print (b < a ? b : a) }')
    max_kib=$(( cw_kib > ${max_kib:-0} ? cw_kib : ${max_kib:-0} ))
  done
  rm -f "$work/www/file-$mib"
done
for direction in download upload; do
  set -- $sizes_mib
  if [ $# -ge 2 ]; then
    first=${peak[$direction-$1]} last=${peak[$direction-${!#}]}
    growth=$(awk -v a="$first" -v b="$last" 'BEGIN { printf "%.1f", (b - a) / 1024 }')
    echo "$direction: peak memory grows by $growth MiB from $1 MiB to ${!#} MiB (goal: at most 5)"
  fi
done
verdict() { awk -v ok="$1" 'BEGIN { print (ok ? "met" : "MISSED") }'; }
echo "throughput: worst round ${worst_ratio}x curl (goal 0.95x in every round): $(verdict "$(awk -v r="$worst_ratio" 'BEGIN { print (r >= 0.95) }')")"
echo "noise floor: worst round of curl against itself ${worst_noise}x;" \
  "below 0.95x: cwbench in $rounds_low of $rounds_total rounds, curl against itself in $noise_low"
echo "cpu: worst row ${worst_cpu}x curl's (curl's median CPU seconds over cwbench's; above 1: cwbench used less)"
echo "memory: highest peak $(awk -v k="$max_kib" 'BEGIN { printf "%.1f", k / 1024 }') MiB (goal under 40): $(verdict $(( max_kib < 40 * 1024 )))"
