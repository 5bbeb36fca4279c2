#!/bin/sh
# The lab's service-manager: its state is the files under /data (the `service-manager` volume).
set -eu
mkdir -p /data/services
[ -e /data/.initialized ] || echo "service-manager state, created $(date -u +%Y-%m-%dT%H:%M:%SZ)" >/data/.initialized
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
