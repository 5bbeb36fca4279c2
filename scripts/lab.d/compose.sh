# shellcheck shell=bash
# The compose file of one lab version, in its version's shape (README.md, "Compose shapes"):
# sourced by scripts/lab, which writes it literally into that version's installer, as the
# vendor's installer carries its compose file (DOCKER_COMPOSE_FILE_CONTENT).
# lab_compose VERSION SHAPE REGISTRY BARRIERS
lab_compose() {
  local VERSION="$1" SHAPE="$2" REGISTRY="$3" BARRIERS="$4"
cat <<COMPOSE
# Connectware $VERSION (cwmigrate lab). Written by connectware-online-installer.sh.
version: "2.0"
services:
  postgresql:
    image: $REGISTRY/cybus/postgresql:$VERSION
    labels:
      io.cybus.connectware: core
    network_mode: host
    restart: always
    stop_signal: SIGINT
    environment:
      POSTGRES_PORT: \${CYBUS_LAB_POSTGRES_PORT}
      POSTGRES_ADDRESS: \${CYBUS_LAB_ADDRESS}
    volumes:
      - postgresql:/var/lib/postgresql/data
  system-control-server:
    image: $REGISTRY/cybus/system-control-server:$VERSION
    labels:
      io.cybus.connectware: core
    network_mode: host
    restart: unless-stopped
    depends_on:
      - postgresql
    environment:
      CWSIM_VERSION: "$VERSION"
      CWSIM_BARRIERS: "$BARRIERS"
      CWSIM_PORT: \${CYBUS_LAB_SYSTEM_CONTROL_PORT}
      CYBUS_INITIAL_ADMIN_USER_PASSWORD: \${CYBUS_INITIAL_ADMIN_USER_PASSWORD}
      CYBUS_ADMIN_USER_ENABLED: \${CYBUS_ADMIN_USER_ENABLED}
      CWSIM_ADDRESS: \${CYBUS_LAB_ADDRESS}
      PGHOST: \${CYBUS_LAB_ADDRESS}
      PGPORT: \${CYBUS_LAB_POSTGRES_PORT}
      PGUSER: cybus-admin
      PGDATABASE: cybus_connectware
    volumes:
      - systemControlServerData:/data
      - service-manager:/service-manager
  service-manager:
    image: $REGISTRY/cybus/service-manager:$VERSION
    labels:
      io.cybus.connectware: core
    network_mode: host
    restart: unless-stopped
    depends_on:
      - system-control-server
    volumes:
      - service-manager:/data
  connectware:
    image: $REGISTRY/cybus/ingress:$VERSION
    labels:
      io.cybus.connectware: core
    network_mode: host
    restart: unless-stopped
    depends_on:
      - system-control-server
    environment:
      INGRESS_PORT: \${CYBUS_LAB_HTTPS_PORT}
      INGRESS_ADDRESS: \${CYBUS_LAB_ADDRESS}
      UPSTREAM_PORT: \${CYBUS_LAB_SYSTEM_CONTROL_PORT}
    volumes:
      - certs:/connectware_certs
  admin-web-app:
    image: $REGISTRY/cybus/admin-web-app:$VERSION
    labels:
      io.cybus.connectware: core
    network_mode: host
    restart: unless-stopped
COMPOSE
# What differs between versions, as in the vendor's files: the display-version variable
# (none in 1.0.x, DISPLAY_VERSION in 1.6 and 1.7, CYBUS_ADMIN_WEB_APP_DISPLAY_VERSION since),
# doc-server (until 1.7) and broker's brokerEtc volume (1.0.x only).
case "$SHAPE" in
  1.6) printf '    environment:\n      DISPLAY_VERSION: "%s"\n' "$VERSION" ;;
  1.8) printf '    environment:\n      CYBUS_ADMIN_WEB_APP_DISPLAY_VERSION: "%s"\n' "$VERSION" ;;
esac
if [ "$SHAPE" = 1.0 ] || [ "$SHAPE" = 1.6 ]; then
  cat <<COMPOSE
  doc-server:
    image: $REGISTRY/cybus/doc-server:$VERSION
    labels:
      io.cybus.connectware: core
    network_mode: host
    restart: unless-stopped
COMPOSE
fi
if [ "$SHAPE" = 1.0 ]; then
  # The broker's configuration lives in brokerEtc; the lab's broker only writes one there.
  cat <<COMPOSE
  broker:
    image: $REGISTRY/cybus/broker:$VERSION
    labels:
      io.cybus.connectware: core
    network_mode: host
    restart: unless-stopped
    entrypoint:
      - /bin/sh
      - -c
      - "[ -s /vernemq/etc/vernemq.conf ] || echo 'listener.tcp.default = 127.0.0.1:1883' >/vernemq/etc/vernemq.conf; exec /entrypoint.sh"
    volumes:
      - brokerEtc:/vernemq/etc
COMPOSE
fi
{
  echo "volumes:"
  [ "$SHAPE" = 1.0 ] && echo "  brokerEtc:"
  printf '  %s:\n' certs postgresql service-manager systemControlServerData
}
}
