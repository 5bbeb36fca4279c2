#!/usr/bin/env bash
# Download and upload of 1 GiB and 4 GiB files over loopback: HTTPClient (through the
# cwbench executable) against the curl CLI, both talking to the same nginx in the same run.
# Best of BENCH_RUNS (3) wall-clock times; peak memory is the highest of the runs.
# Goals: throughput >= 0.95x curl; peak memory < 40 MiB, 4 GiB <= 1 GiB + 5 MiB.
#
# Downloads go to BENCH_OUT (default /dev/shm, a tmpfs) so both tools are measured on the
# network path, not on the disk: cwbench fsyncs its file as a download must, curl does not.
set -euo pipefail
cd "$(dirname "$0")/../.."

sizes_mib=${BENCH_SIZES_MIB:-"1024 4096"}
runs=${BENCH_RUNS:-3}
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

# measure NAME COMMAND...: runs it $runs times; prints "best_seconds max_rss_kib"
measure() {
  local best= rss=0 start end seconds kib
  for _ in $(seq "$runs"); do
    rm -f "$out_dir/f"
    start=$(date +%s%N)
    /usr/bin/time -f %M -o "$work/time.out" "$@" > /dev/null
    end=$(date +%s%N)
    seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", (e - s) / 1e9 }')
    kib=$(tail -1 "$work/time.out")
    best=$(awk -v a="${best:-$seconds}" -v b="$seconds" 'BEGIN { print (b < a ? b : a) }')
    rss=$(( kib > rss ? kib : rss ))
  done
  echo "$best $rss"
}

uploaded_bytes() { tail -1 "$work/access.log" | awk '{ print $(NF-1) }'; }

printf '%-9s %8s %9s %9s %7s %9s %9s\n' transfer size "curl s" "cwbench s" ratio "curl MiB" "cwbench MiB"
declare -A peak
for mib in $sizes_mib; do
  file="$work/www/file-$mib"
  truncate -s "${mib}M" "$file"
  url="http://127.0.0.1:$port/file-$mib"
  for direction in download upload; do
    if [ "$direction" = download ]; then
      read -r curl_s curl_kib < <(measure curl -sf -o "$out_dir/f" "$url")
      read -r cw_s cw_kib < <(measure "$bin" download "$url" "$out_dir/f")
    else
      read -r curl_s curl_kib < <(measure curl -sf -o /dev/null -F "file=@$file" "http://127.0.0.1:$port/upload")
      [ "$(uploaded_bytes)" -gt $((mib << 20)) ] || { echo "transfer: nginx did not receive curl's whole upload" >&2; exit 1; }
      read -r cw_s cw_kib < <(measure "$bin" upload "http://127.0.0.1:$port/upload" "$file")
      [ "$(uploaded_bytes)" -gt $((mib << 20)) ] || { echo "transfer: nginx did not receive cwbench's whole upload" >&2; exit 1; }
    fi
    ratio=$(awk -v c="$curl_s" -v w="$cw_s" 'BEGIN { printf "%.2f", c / w }')
    printf '%-9s %6s M %9s %9s %6sx %9.1f %9.1f\n' "$direction" "$mib" "$curl_s" "$cw_s" "$ratio" \
      "$(awk -v k="$curl_kib" 'BEGIN { print k / 1024 }')" "$(awk -v k="$cw_kib" 'BEGIN { print k / 1024 }')"
    peak[$direction-$mib]=$cw_kib
    worst_ratio=$(awk -v a="${worst_ratio:-$ratio}" -v b="$ratio" 'BEGIN { print (b < a ? b : a) }')
    max_kib=$(( cw_kib > ${max_kib:-0} ? cw_kib : ${max_kib:-0} ))
  done
  rm -f "$file"
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
echo "throughput: worst ratio ${worst_ratio}x curl (goal 0.95x): $(verdict "$(awk -v r="$worst_ratio" 'BEGIN { print (r >= 0.95) }')")"
echo "memory: highest peak $(awk -v k="$max_kib" 'BEGIN { printf "%.1f", k / 1024 }') MiB (goal under 40): $(verdict $(( max_kib < 40 * 1024 )))"
