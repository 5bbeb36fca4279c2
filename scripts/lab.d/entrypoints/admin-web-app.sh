#!/bin/sh
# The lab's admin-web-app: only its CYBUS_ADMIN_WEB_APP_DISPLAY_VERSION matters.
echo "admin-web-app ${CYBUS_ADMIN_WEB_APP_DISPLAY_VERSION:-unknown}"
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
