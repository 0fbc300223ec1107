"""A consumer of Quorum's /v1 event stream that stops reading, as a stalled integrator would.

It opens the stream with a small, fixed receive buffer (the kernel then cannot grow the
receive window while nobody reads, so the server's socket fills up quickly), reads the
response head, and reads nothing more until a line arrives on stdin. Then it reads
everything the server still sends, until the server closes the connection or a deadline passes
(heartbeats alone would keep an open stream going for ever), and prints it, as JSON, on stdout,
with whether the server closed it.

Usage: slow_sse_consumer.py <host> <port> <path> <api key>. Only the standard library.
"""

import json
import socket
import sys
import time

# Reading the rest ends after this many seconds even if the server keeps the stream open.
DEADLINE_SECONDS = 30


def main() -> None:
    host, port, path, api_key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, port))
    # HTTP/1.0: the body comes unframed (no chunked encoding) and ends when the server closes.
    request = (
        f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
        f"x-api-key: {api_key}\r\n\r\n"
    )
    sock.sendall(request.encode("ascii"))
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(1024)
        if not chunk:
            break
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    print(json.dumps({"status": status}), flush=True)

    sys.stdin.readline()
    deadline = time.monotonic() + DEADLINE_SECONDS
    chunks = [body]
    closed = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            closed = True
            break
        chunks.append(chunk)
    sock.close()
    text = b"".join(chunks).decode("utf-8", errors="replace")
    print(json.dumps({"bytes": len(text.encode("utf-8")), "closed": closed, "body": text}), flush=True)


if __name__ == "__main__":
    main()
