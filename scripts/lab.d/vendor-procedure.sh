#!/usr/bin/env bash
# The vendor's manual downgrade procedure (../shared/CONNECTWARE.md, "Cross-version restore
# refusal") as a plain shell script of curl and docker commands, against the lab: the anchor
# that `scripts/bench downtime` measures cwmigrate against. It checks nothing beyond what the
# manual says to look at (the status after a backup and a restore).
#
#   scripts/lab.d/vendor-procedure.sh BACKUP OLDER
#
# BACKUP is the refused backup file, OLDER the version the refusal named. The lab must be up
# (CWMIGRATE_LAB_DIR as for scripts/lab). Files go beside BACKUP: vendor-fresh-backup.tgz (step 1)
# and vendor-new-backup.tgz (step 7). The last line is downtime_seconds=N.NNN: from the start
# of the shutdown to the first 200 of the maintenance API at the original version again.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 BACKUP OLDER" >&2; exit 2; }
backup="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
older="$2"
[ -f "$backup" ] || { echo "error: no backup file $backup" >&2; exit 1; }
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(dirname "$backup")"

while IFS= read -r line; do
  case "$line" in *=*) export "${line?}" ;; esac
done < <("$root/scripts/lab" env)
project_dir="$CWMIGRATE_LAB_PROJECT_DIR"
installers="$CWMIGRATE_LAB_DIR/installers"
url="$CWMIGRATE_URL"
project="$(basename "$project_dir")"

# The passwords into netrc files only this user reads: not in argv. The users live in the
# database: the production admin's password until the volumes are removed, the initial admin's
# (CYBUS_INITIAL_ADMIN_USER_PASSWORD of .env, Base64) on the fresh install, and the backup's
# (here the production one: the lab's backups are made with it) once the restore has finished.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
host="${url#https://}"
host="${host%%:*}"
password="$(sed -n 's/^CYBUS_ADMIN_PASSWORD=//p' "$project_dir/.env" | tail -n1)"
initial="$(sed -n 's/^CYBUS_INITIAL_ADMIN_USER_PASSWORD=//p' "$project_dir/.env" | tail -n1 | base64 -d)"
(umask 077; printf 'machine %s login admin password %s\n' "$host" "$password" >"$work/production.netrc")
(umask 077; printf 'machine %s login admin password %s\n' "$host" "$initial" >"$work/initial.netrc")
unset password initial CWMIGRATE_PASSWORD
netrc="$work/production.netrc"
cw() { curl -sS --fail --cacert "$CWMIGRATE_CACERT" --netrc-file "$netrc" "$@"; }

now() { date +%s.%N; }
began="$(now)"
step() { echo "vendor-procedure: [$(awk -v a="$began" -v b="$(now)" 'BEGIN { printf "%7.3f s", b - a }')] $*" >&2; }
# While the restore replaces the users, the status answers the initial admin, then the backup's.
status() {
  cw --header "Content-Type: application/json" --request GET "$url/api/maintenance/db" 2>/dev/null \
    || { [ "$netrc" = "$work/initial.netrc" ] && netrc="$work/production.netrc" \
      && cw --header "Content-Type: application/json" --request GET "$url/api/maintenance/db"; }
}
# field OBJECT KEY: a value from the status on stdin (its records hold no nested objects).
field() { sed -n "s/.*\"$1\":{[^}]*\"$2\":\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p"; }

wait_api() {
  for _ in $(seq 1 900); do
    [ "$(cw -o /dev/null -w '%{http_code}' --max-time 2 "$url/api/maintenance/db" 2>/dev/null)" = 200 ] && return 0
    sleep 0.2
  done
  echo "error: the maintenance API did not answer within 180 s" >&2
  exit 1
}

# wait_done OBJECT BEFORE_ID: poll until nothing runs and OBJECT's record is a finished new one.
wait_done() {
  local s
  for _ in $(seq 1 1800); do
    s="$(status)"
    if [[ "$s" == '{"running":false'* ]] && [ -n "$(field "$1" succeded <<<"$s")" ] \
        && [ "$(field "$1" succeded <<<"$s")" != null ] && [ "$(field "$1" startDate <<<"$s")" != "$2" ]; then
      echo "$s"
      return 0
    fi
    sleep 0.2
  done
  echo "error: the $1 did not finish within 360 s" >&2
  exit 1
}

backup_to() {
  local before s
  before="$(status | field backup startDate)"
  cw --request POST "$url/api/maintenance/db/backup" >/dev/null
  s="$(wait_done backup "$before")"
  [ "$(field backup succeded <<<"$s")" = true ] || { echo "error: the backup failed: $s" >&2; exit 1; }
  cw --request GET "$url/api/maintenance/db/backup" --output "$1"
}

original="$(docker ps --filter label=io.cybus.connectware=core --filter name=admin-web-app --format '{{.Image}}' \
  | sed -n 's/.*://p' | head -n1)"
[ -n "$original" ] || { echo "error: no running Connectware found on $DOCKER_HOST" >&2; exit 1; }
step "Connectware $original; restoring $(basename "$backup") by way of $older"

step "1. fresh backup"
backup_to "$out/vendor-fresh-backup.tgz"

step "2. shut Connectware down"
start="$(now)"
mapfile -t containers < <(docker ps -q --filter label=io.cybus.connectware=core)
docker stop "${containers[@]}" >/dev/null
mapfile -t containers < <(docker ps -aq --filter label=io.cybus.connectware=core)
docker rm "${containers[@]}" >/dev/null

step "3. remove the volumes ${project}_postgresql and ${project}_service-manager"
docker volume rm "${project}_postgresql" "${project}_service-manager" >/dev/null

step "4. install Connectware $older"
"$installers/$older/connectware-online-installer.sh" -s -S -d "$project_dir" >/dev/null
netrc="$work/initial.netrc"
wait_api

step "5. restore the backup"
cw --request POST -F "file=@$backup" "$url/api/maintenance/db/restore" >/dev/null
s="$(wait_done restore "")"
[ "$(field restore succeded <<<"$s")" = true ] || { echo "error: the restore failed: $s" >&2; exit 1; }
netrc="$work/production.netrc"

step "6. upgrade to Connectware $original"
"$installers/$original/connectware-online-installer.sh" -s -S -d "$project_dir" >/dev/null
wait_api
end="$(now)"

step "7. new backup at Connectware $original"
backup_to "$out/vendor-new-backup.tgz"

step "done"
awk -v a="$start" -v b="$end" 'BEGIN { printf "downtime_seconds=%.3f\n", b - a }'
