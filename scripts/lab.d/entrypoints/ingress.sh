#!/bin/sh
# The lab's ingress (service `connectware`): HTTPS on $INGRESS_ADDRESS:$INGRESS_PORT (address
# default 127.0.0.1) in front of cwsim. The CA and server certificate live in the `certs`
# volume, made once, never again.
set -eu
: "${INGRESS_PORT:?}" "${UPSTREAM_PORT:?}"
address="${INGRESS_ADDRESS:-127.0.0.1}"
certs=/connectware_certs
if [ ! -s "$certs/ca.pem" ] || [ ! -s "$certs/server.pem" ] || [ ! -s "$certs/server.key" ]; then
  echo "ingress: first start, making the CA and the server certificate"
  work="$certs/.new"
  rm -rf "$work"; mkdir -p "$work"; cd "$work"; umask 077
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -keyout ca.key -out ca.pem -subj "/CN=cwmigrate lab Connectware CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
  san="IP:127.0.0.1,DNS:localhost"
  [ "$address" = 127.0.0.1 ] || san="IP:$address,$san"
  printf '%s\n' "subjectAltName=$san" "extendedKeyUsage=serverAuth" \
    "basicConstraints=CA:FALSE" >server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
    -extfile server.ext -out server.pem 2>/dev/null
  chmod 644 ca.pem server.pem
  mv ca.key ca.pem server.key server.pem "$certs/"
  cd /; rm -rf "$work"
fi
mkdir -p /tmp/nginx
cat >/tmp/nginx/nginx.conf <<CONF
daemon off;
worker_processes 1;
user root root;
pid /tmp/nginx/nginx.pid;
error_log stderr warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path /tmp/nginx/client_body;
  proxy_temp_path /tmp/nginx/proxy;
  fastcgi_temp_path /tmp/nginx/fastcgi;
  uwsgi_temp_path /tmp/nginx/uwsgi;
  scgi_temp_path /tmp/nginx/scgi;
  server {
    listen $address:$INGRESS_PORT ssl;
    server_name localhost;
    ssl_certificate $certs/server.pem;
    ssl_certificate_key $certs/server.key;
    client_max_body_size 0;
    location / {
      proxy_pass http://$address:$UPSTREAM_PORT;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_set_header X-Forwarded-Proto https;
      proxy_request_buffering off;
      proxy_buffering off;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }
  }
}
CONF
exec nginx -p /tmp/nginx/ -e stderr -c /tmp/nginx/nginx.conf
