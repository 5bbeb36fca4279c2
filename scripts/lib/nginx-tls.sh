# A TLS-terminating nginx in front of cwsim, the way Connectware's ingress serves the API.
# Source this file, then:
#   nginx_tls_start DIR UPSTREAM_PORT   makes a CA and a server certificate for 127.0.0.1 and
#                                       localhost (DIR/ca.pem), starts nginx on a free port of
#                                       127.0.0.1 proxying to http://127.0.0.1:UPSTREAM_PORT, and
#                                       prints the port; sets and exports NGINX_TLS_PORT,
#                                       NGINX_TLS_CACERT and NGINX_TLS_DIR.
#   nginx_tls_stop DIR                  stops that nginx (the files in DIR stay).
# Uploads and downloads stream through (no request or response buffering, no size limit).

_nginx_tls_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

_nginx_tls_certificates() {
  local dir="$1"
  [ -f "$dir/ca.pem" ] && [ -f "$dir/server.pem" ] && return 0
  (
    set -e
    cd "$dir"
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
      -keyout ca.key -out ca.pem -subj "/CN=cwmigrate test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout server.key -out server.csr -subj "/CN=localhost"
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "extendedKeyUsage=serverAuth" \
      "basicConstraints=CA:FALSE" >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
      -extfile server.ext -out server.pem
    chmod 644 ca.pem server.pem
  ) >"$dir/openssl.log" 2>&1 || { echo "nginx_tls_start: openssl failed:" >&2; cat "$dir/openssl.log" >&2; return 1; }
}

_nginx_tls_config() {
  local dir="$1" port="$2" upstream="$3" user_line=""
  # As root, nginx would run its workers as `nobody`, which cannot enter the private DIR.
  [ "$(id -u)" -eq 0 ] && user_line="user root;"
  cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
$user_line
events { worker_connections 512; }
http {
  access_log $dir/access.log;
  client_body_temp_path $dir/tmp/client_body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server {
    listen 127.0.0.1:$port ssl;
    server_name localhost;
    ssl_certificate $dir/server.pem;
    ssl_certificate_key $dir/server.key;
    client_max_body_size 0;
    location / {
      proxy_pass http://127.0.0.1:$upstream;
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
}

nginx_tls_start() {
  local dir="$1" upstream="$2"
  [ -n "$dir" ] && [ -n "$upstream" ] || { echo "nginx_tls_start: give DIR and UPSTREAM_PORT" >&2; return 2; }
  mkdir -p "$dir/tmp"
  dir="$(cd "$dir" && pwd)"
  _nginx_tls_certificates "$dir" || return 1
  local port attempt pid waited
  for attempt in 1 2 3 4 5; do
    port="$(_nginx_tls_free_port)"
    _nginx_tls_config "$dir" "$port" "$upstream"
    : >"$dir/error.log"
    nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf" </dev/null >>"$dir/nginx.out" 2>&1 &
    pid=$!
    for waited in $(seq 1 100); do
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      if [ -s "$dir/nginx.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "$pid" >"$dir/master.pid"
        echo "$port" >"$dir/port"
        NGINX_TLS_DIR="$dir"
        NGINX_TLS_PORT="$port"
        NGINX_TLS_CACERT="$dir/ca.pem"
        export NGINX_TLS_DIR NGINX_TLS_PORT NGINX_TLS_CACERT
        echo "$port"
        return 0
      fi
      sleep 0.1
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  echo "nginx_tls_start: nginx did not start:" >&2
  tail -n 20 "$dir/error.log" "$dir/nginx.out" >&2
  return 1
}

nginx_tls_stop() {
  local dir="${1:-${NGINX_TLS_DIR:-}}" pid waited
  [ -n "$dir" ] && [ -f "$dir/master.pid" ] || return 0
  pid="$(cat "$dir/master.pid")"
  # QUIT lets workers finish; a stuck one is ended after five seconds.
  kill -QUIT "$pid" 2>/dev/null || { rm -f "$dir/master.pid"; return 0; }
  for waited in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/master.pid"
}
