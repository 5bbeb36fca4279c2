#!/usr/bin/env bash
# A by-hand walk through the lab, as an operator would use it: up at 1.8.0, seed, backup
# through the ingress, installer to 1.7.3 (pulled, the others pruned), the registry down and a
# tag missing, -P tar + -o to 1.8.1, the barrier, down.
# Run: scripts/lab.d/smoke.sh   (needs root; leaves nothing behind when it passes)
set -euo pipefail
lab="$(cd "$(dirname "$0")/.." && pwd)/lab"
work="$(mktemp -d /tmp/cwmigrate-lab-smoke.XXXXXX)"
trap 'rm -rf "$work"' EXIT
step() { echo "smoke: [${SECONDS}s] $*" >&2; }
api() { printf 'user = "admin:%s"\n' "$CWMIGRATE_PASSWORD" | curl -sS -K - --cacert "$CWMIGRATE_CACERT" "$@"; }
wait_idle() {
  local status
  for _ in $(seq 1 100); do
    status="$(api "$CWMIGRATE_URL/api/maintenance/db")"
    case "$status" in *'"running":false'*) echo "$status"; return 0 ;; esac
    sleep 0.2
  done
  echo "smoke: still running: $status" >&2; return 1
}
expect() { grep -q -- "$1" <<<"$2" || { echo "smoke: FAILED: expected '$1' in: $2" >&2; exit 1; }; }

step "up 1.8.0"
"$lab" up 1.8.0 >"$work/env"
set -a
# shellcheck disable=SC1091
. "$work/env"
set +a
"$lab" seed
"$lab" check >"$work/check.before"
cp "$CWMIGRATE_CACERT" "$work/ca.before"
certs="$(docker volume inspect -f '{{.Mountpoint}}' connectware_certs)"

step "backup at 1.8.0 through the ingress"
expect 202 "$(api -X POST -o /dev/null -w '%{http_code}' "$CWMIGRATE_URL/api/maintenance/db/backup")"
expect '"id":"1.8.0_' "$(wait_idle)"
api -o "$work/backup-1.8.0.tgz" "$CWMIGRATE_URL/api/maintenance/db/backup"
tar -tzf "$work/backup-1.8.0.tgz" >/dev/null

step "installer 1.7.3 (-s -S)"
"$lab" install 1.7.3 -s -S
"$lab" wait 120
"$lab" check | diff "$work/check.before" - || { echo "smoke: FAILED: data changed by the 1.7.3 install" >&2; exit 1; }
cmp "$certs/ca.pem" "$work/ca.before"
expect "$CWMIGRATE_LAB_REGISTRY/cybus/postgresql:1.7.3" "$(docker ps --format '{{.Image}}')"
[ -z "$(docker images -q "$CWMIGRATE_LAB_REGISTRY/cybus/postgresql:1.8.0")" ] || { echo "smoke: FAILED: 1.8.0 images left" >&2; exit 1; }
# Pruned as the vendor prunes: admin-web-app is never deleted.
[ -n "$(docker images -q "$CWMIGRATE_LAB_REGISTRY/cybus/admin-web-app:1.8.0")" ] || { echo "smoke: FAILED: admin-web-app:1.8.0 pruned" >&2; exit 1; }
expect 202 "$(api -X POST -o /dev/null -w '%{http_code}' "$CWMIGRATE_URL/api/maintenance/db/backup")"
expect '"id":"1.7.3_' "$(wait_idle)"
api -o "$work/backup-1.7.3.tgz" "$CWMIGRATE_URL/api/maintenance/db/backup"

step "the registry down, a tag missing: the installer fails and says why"
"$lab" registry stop
if "$lab" install 1.8.1 -s 2>"$work/down.err"; then echo "smoke: FAILED: an install without the registry" >&2; exit 1; fi
expect 'cannot log in to the registry' "$(cat "$work/down.err")"
"$lab" registry start
"$lab" registry drop ingress:1.8.1
if "$lab" install 1.8.1 -s 2>"$work/tag.err"; then echo "smoke: FAILED: an install of a missing tag" >&2; exit 1; fi
expect "cannot pull $CWMIGRATE_LAB_REGISTRY/cybus/ingress:1.8.1" "$(cat "$work/tag.err")"
"$lab" registry undrop

step "an uplink of 20 Mbit/s: a layer pulled through it takes at least its size / the rate"
"$lab" registry stop
CWMIGRATE_LAB_REGISTRY_RATE=20mbit "$lab" registry start
login="license:$(sed -n 's/^CYBUS_REGISTRY_PASS=//p' "$CWMIGRATE_LAB_PROJECT_DIR/.env" | tail -n1)"
manifest="$(printf 'user = "%s"\n' "$login" | curl -sS -K - -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://$CWMIGRATE_LAB_REGISTRY/v2/cybus/ingress/manifests/1.8.1")"
# The largest layer, as the Engine fetches it (Registry API v2: GET …/blobs/DIGEST).
read -r size digest < <(python3 -c 'import json, sys
layers = json.load(sys.stdin)["layers"]
big = max(layers, key=lambda l: l["size"])
print(big["size"], big["digest"])' <<<"$manifest")
began="$(date +%s.%N)"
got="$(printf 'user = "%s"\n' "$login" | curl -sS -K - -L -o "$work/layer" -w '%{size_download}' \
  "http://$CWMIGRATE_LAB_REGISTRY/v2/cybus/ingress/blobs/$digest")"
took="$(awk -v a="$began" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')"
[ "$got" = "$size" ] && [ "sha256:$(sha256sum "$work/layer" | cut -d' ' -f1)" = "$digest" ] \
  || { echo "smoke: FAILED: the layer through the uplink is not the registry's ($got of $size bytes)" >&2; exit 1; }
awk -v t="$took" -v s="$size" 'BEGIN { exit !(t >= s / 2500000) }' \
  || { echo "smoke: FAILED: $size bytes through a 20 Mbit/s uplink in $took s, under size / rate" >&2; exit 1; }
step "  $size bytes in $took s through the uplink (at least $(awk -v s="$size" 'BEGIN { printf "%.2f", s / 2500000 }') s)"
rm -f "$work/layer"
"$lab" registry start
[ ! -e "$CWMIGRATE_LAB_DIR/registry-v2/uplink.pid" ] || { echo "smoke: FAILED: the uplink still runs" >&2; exit 1; }

step "installer 1.8.1 -P, then offline -o"
(cd "$work" && "$lab" install 1.8.1 -s -P)
mapfile -t tags < <(docker images --format '{{.Repository}}:{{.Tag}}' | grep ':1.8.1$')
docker rmi "${tags[@]}" >/dev/null
if "$lab" install 1.8.1 -s -o -S 2>"$work/offline.err"; then echo "smoke: FAILED: -o without images" >&2; exit 1; fi
expect 'is not loaded' "$(cat "$work/offline.err")"
docker load -q -i "$work/connectware-1.8.1.tar" >/dev/null
"$lab" install 1.8.1 -s -o -S
"$lab" wait 120
"$lab" check | diff "$work/check.before" -
cmp "$certs/ca.pem" "$work/ca.before"

step "the barrier: 1.8.1 refuses the 1.7.3 backup and names 1.7.3; restores the 1.8.0 one"
expect 202 "$(api -X POST -F "file=@$work/backup-1.7.3.tgz" -o /dev/null -w '%{http_code}' "$CWMIGRATE_URL/api/maintenance/db/restore")"
status="$(wait_idle)"
expect '"succeded":false' "$status"
expect 'last version that can restore this backup is 1.7.3' "$status"
expect 202 "$(api -X POST -F "file=@$work/backup-1.8.0.tgz" -o /dev/null -w '%{http_code}' "$CWMIGRATE_URL/api/maintenance/db/restore")"
expect '"succeded":true' "$(wait_idle)"
"$lab" check | diff "$work/check.before" -

step "down"
"$lab" down
if pgrep -f "$CWMIGRATE_LAB_DIR/" >/dev/null; then echo "smoke: FAILED: lab processes left" >&2; exit 1; fi
if grep -qF "$CWMIGRATE_LAB_DIR/" /proc/self/mountinfo; then echo "smoke: FAILED: lab mounts left" >&2; exit 1; fi
[ ! -e "$CWMIGRATE_LAB_DIR" ] || { echo "smoke: FAILED: $CWMIGRATE_LAB_DIR left" >&2; exit 1; }
step "passed"
