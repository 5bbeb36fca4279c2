#!/usr/bin/env python3
"""An HTTP server for HTTPTests, standard library only, on 127.0.0.1 or a unix socket.

Prints one line when ready: the port (TCP) or "unix" (unix socket). Endpoints:
  GET  /bytes/N[?nolength=1]   N bytes of the pattern i % 251 (without Content-Length: close-delimited)
  GET  /cut/N/K                announces N bytes, sends K, closes the connection
  ANY  /flaky/KEY/N/STATUS     the first N requests for KEY answer STATUS, later ones 200
  GET  /count/KEY              how many requests /flaky/KEY has seen
  GET  /stall/T                waits T seconds before answering
  GET  /basic/USER/PASS        200 with Basic credentials USER:PASS, 401 otherwise
  GET  /bearer/TOKEN           200 with "Authorization: Bearer TOKEN", 401 otherwise
  ANY  /status/CODE            answers CODE with a short text body
  ANY  /echo                   JSON: method, path, headers, body length and SHA-256
  POST /upload                 streams a multipart body; JSON with the SHA-256 and length of each file part
"""
import base64
import hashlib
import http.server
import json
import os
import socket
import socketserver
import ssl
import sys
import threading
import time

PATTERN = bytes(i % 251 for i in range(251)) * 261  # 65511 bytes, a whole number of periods
counts = {}
counts_lock = threading.Lock()


class Body:
    """Reads a request body of known length in chunks, for streaming parsers."""

    def __init__(self, rfile, length):
        self.rfile, self.remaining, self.buf = rfile, length, b""

    def fill(self):
        if self.remaining <= 0:
            return False
        chunk = self.rfile.read(min(1 << 20, self.remaining))
        if not chunk:
            self.remaining = 0
            return False
        self.remaining -= len(chunk)
        self.buf += chunk
        return True

    def until(self, delimiter, sink):
        """Passes everything before `delimiter` to sink, consumes the delimiter; False at the end."""
        keep = len(delimiter) - 1
        while True:
            i = self.buf.find(delimiter)
            if i >= 0:
                sink(self.buf[:i])
                self.buf = self.buf[i + len(delimiter):]
                return True
            if len(self.buf) > keep:
                sink(self.buf[: len(self.buf) - keep])
                self.buf = self.buf[len(self.buf) - keep:]
            if not self.fill():
                return False

    def take(self, n):
        while len(self.buf) < n and self.fill():
            pass
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def drain(self):
        self.buf = b""
        while self.fill():
            self.buf = b""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def address_string(self):
        return "test-client"

    def answer(self, status, body, content_type="text/plain", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body_length(self):
        return int(self.headers.get("Content-Length") or 0)

    def read_body(self):
        return self.rfile.read(self.body_length())

    def send_pattern(self, n):
        sent = 0
        while sent < n:
            chunk = PATTERN[: min(len(PATTERN), n - sent)]
            self.wfile.write(chunk)
            sent += len(chunk)

    def handle_any(self):
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

    def route(self):
        path, _, query = self.path.partition("?")
        parts = path.strip("/").split("/")
        name = parts[0]
        if name == "upload" and self.command == "POST":
            return self.upload()
        body = self.read_body() if name != "upload" else b""
        if name == "bytes":
            n = int(parts[1])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if "nolength=1" in query:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(n))
            self.end_headers()
            self.send_pattern(n)
        elif name == "cut":
            n, k = int(parts[1]), int(parts[2])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            self.send_pattern(k)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif name == "flaky":
            key, failures, status = parts[1], int(parts[2]), int(parts[3])
            with counts_lock:
                counts[key] = counts.get(key, 0) + 1
                seen = counts[key]
            if seen <= failures:
                self.answer(status, f"failure {seen} of {failures}")
            else:
                self.answer(200, f"ok after {seen - 1} failures")
        elif name == "count":
            with counts_lock:
                self.answer(200, str(counts.get(parts[1], 0)))
        elif name == "stall":
            time.sleep(float(parts[1]))
            self.answer(200, "late")
        elif name == "basic":
            expected = "Basic " + base64.b64encode(f"{parts[1]}:{parts[2]}".encode()).decode()
            if self.headers.get("Authorization") == expected:
                self.answer(200, "welcome " + parts[1])
            else:
                self.answer(401, "bad credentials", headers=[("WWW-Authenticate", 'Basic realm="test"')])
        elif name == "bearer":
            if self.headers.get("Authorization") == "Bearer " + parts[1]:
                self.answer(200, "welcome bearer")
            else:
                self.answer(401, "bad token", headers=[("WWW-Authenticate", 'Bearer realm="test"')])
        elif name == "status":
            self.answer(int(parts[1]), f"server says {parts[1]}")
        elif name == "echo":
            self.answer(200, json.dumps({
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "length": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            }), "application/json")
        else:
            self.answer(404, "no such endpoint: " + path)

    def upload(self):
        content_type = self.headers.get("Content-Type", "")
        boundary = None
        for item in content_type.split(";"):
            key, _, value = item.strip().partition("=")
            if key.lower() == "boundary":
                boundary = value.strip('"').encode()
        if not boundary:
            self.read_body()
            return self.answer(400, "not multipart")
        body = Body(self.rfile, self.body_length())
        files = []
        body.until(b"--" + boundary, lambda _: None)
        while True:
            if body.take(2) != b"\r\n":
                break  # "--" ends the body
            raw = []
            body.until(b"\r\n\r\n", raw.append)
            headers = {}
            for line in b"".join(raw).decode("utf-8", "replace").split("\r\n"):
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
            disposition = {}
            for item in headers.get("content-disposition", "").split(";")[1:]:
                key, _, value = item.strip().partition("=")
                disposition[key] = value.strip('"')
            digest, length = hashlib.sha256(), [0]

            def sink(data):
                digest.update(data)
                length[0] += len(data)

            if not body.until(b"\r\n--" + boundary, sink):
                return self.answer(400, "multipart body ended early")
            files.append({
                "field": disposition.get("name"),
                "filename": disposition.get("filename"),
                "contentType": headers.get("content-type"),
                "length": length[0],
                "sha256": digest.hexdigest(),
            })
        body.drain()
        self.answer(200, json.dumps({"files": files}), "application/json")


class Quiet:
    """Clients that hang up or refuse our certificate are part of the tests, not errors."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class TCPServer(Quiet, http.server.ThreadingHTTPServer):
    pass


class UnixServer(Quiet, socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    pass


def main():
    args = sys.argv[1:]
    if args[:1] == ["--unix"]:
        path = args[1]
        if os.path.exists(path):
            os.unlink(path)
        server = UnixServer(path, Handler)
        print("unix", flush=True)
    else:
        server = TCPServer(("127.0.0.1", 0), Handler)
        if args[:1] == ["--tls"]:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(args[1], args[2])
            # The handshake runs in the request's thread, so a client that gives up cannot block accept().
            server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
