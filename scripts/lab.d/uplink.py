#!/usr/bin/env python3
"""The lab registry's uplink: a TCP relay whose answers share one rate.

    uplink.py LISTEN_PORT TARGET_PORT BYTES_PER_SECOND

Listens on 127.0.0.1:LISTEN_PORT and relays every connection to 127.0.0.1:TARGET_PORT.
What the target sends back (the blobs of a pull) passes one token bucket that all
connections share, as a plant's uplink is shared by the three layers the Docker Engine
downloads at once; a limit per connection (nginx's limit_rate) would let them take three
times the rate. What clients send (pushes, requests) is not limited. Each closed connection
logs one line `bytes_down=N seconds=S` on stdout.
"""
import socket
import sys
import threading
import time

CHUNK = 16 * 1024


class Uplink:
    """One rate for everything sent down: each chunk is given the next free slot on the wire."""

    def __init__(self, rate):
        self.rate = float(rate)
        self.lock = threading.Lock()
        self.free_at = time.monotonic()

    def take(self, size):
        with self.lock:
            now = time.monotonic()
            start = max(now, self.free_at)
            self.free_at = start + size / self.rate
            wait = self.free_at - now
        if wait > 0:
            time.sleep(wait)


def relay(source, sink, uplink, counter):
    try:
        while True:
            data = source.recv(CHUNK)
            if not data:
                break
            if uplink is not None:
                uplink.take(len(data))
                counter[0] += len(data)
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def serve(client, target_port, uplink):
    began = time.monotonic()
    try:
        server = socket.create_connection(("127.0.0.1", target_port))
    except OSError:
        client.close()
        return
    counter = [0]
    up = threading.Thread(target=relay, args=(client, server, None, counter), daemon=True)
    up.start()
    relay(server, client, uplink, counter)
    up.join()
    client.close()
    server.close()
    print("bytes_down=%d seconds=%.3f" % (counter[0], time.monotonic() - began), flush=True)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: uplink.py LISTEN_PORT TARGET_PORT BYTES_PER_SECOND")
    listen_port, target_port, rate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    if rate <= 0:
        sys.exit("error: the rate must be a positive number of bytes per second")
    uplink = Uplink(rate)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", listen_port))
    listener.listen(64)
    print("uplink: 127.0.0.1:%d -> 127.0.0.1:%d at %d bytes/s" % (listen_port, target_port, rate), flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, target_port, uplink), daemon=True).start()


if __name__ == "__main__":
    main()
