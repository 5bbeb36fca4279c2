"""A raw HTTP server that misbehaves in one way per mode, for the hostile-server tests.

Usage: hostile_server.py MODE [RECORD_FILE] [CERT KEY]
Listens on 127.0.0.1 (and for `redirect` also on 127.0.0.2, same port) and prints
"listening on PORT" as its first line. Standard library only.
"""
import socket
import ssl
import sys
import threading
import time

MODE = sys.argv[1]
RECORD = sys.argv[2] if len(sys.argv) > 2 else None


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def header(head, name):
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def serve(conn, port, second):
    head, rest = read_head(conn)
    if second:
        # Whatever reaches the other address is recorded: a followed redirect would show here.
        with open(RECORD, "ab") as f:
            f.write(b"request " + head.split(b"\r\n")[0] + b"\n")
            auth = header(head, b"authorization")
            if auth is not None:
                f.write(b"authorization " + auth + b"\n")
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        return
    if MODE == "headers":
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        n = 0
        while True:
            conn.sendall(b"X-Filler-%d: more\r\n" % n)
            n += 1
            time.sleep(0.5)
    elif MODE == "body":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
        conn.sendall(b'{"backup":')
        while True:
            time.sleep(60)
    elif MODE == "big":
        size = 100 * 1024 * 1024
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % size)
        prefix = b'{"running":false,"filler":"'
        conn.sendall(prefix)
        left = size - len(prefix) - 2
        block = b"x" * 65536
        while left > 0:
            piece = block[: min(left, len(block))]
            conn.sendall(piece)
            left -= len(piece)
        conn.sendall(b'"}')
    elif MODE == "redirect":
        location = b"http://127.0.0.2:%d/api/maintenance/db" % port
        conn.sendall(
            b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    elif MODE == "tls":
        body = b'{"running":false}'
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n" % len(body) + body)
    elif MODE == "upload-close":
        length = int(header(head, b"content-length") or b"0")
        if header(head, b"expect") is not None:
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        got = len(rest)
        while got < length:
            chunk = conn.recv(1 << 20)
            if not chunk:
                break
            got += len(chunk)
        with open(RECORD, "a") as f:
            f.write("upload %d of %d\n" % (got, length))
        # Read fully, then hang up without a word.
        conn.shutdown(socket.SHUT_RDWR)


def accept_loop(listener, port, second, context):
    while True:
        conn, _ = listener.accept()
        if context is not None:
            try:
                conn = context.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                conn.close()
                continue

        def run(c=conn):
            try:
                serve(c, port, second)
            except (OSError, ssl.SSLError):
                pass
            finally:
                try:
                    c.close()
                except OSError:
                    pass

        threading.Thread(target=run, daemon=True).start()


def listen(address, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(16)
    return s


def main():
    context = None
    if MODE == "tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
    for _ in range(50):
        first = listen("127.0.0.1", 0)
        port = first.getsockname()[1]
        if MODE != "redirect":
            break
        try:
            second = listen("127.0.0.2", port)
            break
        except OSError:
            first.close()
    else:
        sys.exit("no port free on both 127.0.0.1 and 127.0.0.2")
    if MODE == "redirect":
        threading.Thread(target=accept_loop, args=(second, port, True, None), daemon=True).start()
    print("listening on %d" % port, flush=True)
    accept_loop(first, port, False, context)


main()
