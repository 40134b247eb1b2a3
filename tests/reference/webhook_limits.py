"""Send a request body that never ends, to check a server refuses it without reading it all.

Shared by the reference shop's tests; the Odoo addon has its own copy of the idea (it cannot
import from tests/)."""

import socket
import threading
from urllib.parse import urlsplit


def post_unfinished(url, headers, body_bytes, chunked, timeout=60):
    """POST ``body_bytes`` to ``url`` and NEVER finish the body: with ``chunked`` no closing
    0-chunk is sent, otherwise the Content-Length header promises more than is sent. Returns
    (status, response head text). A server that waits for the whole body never answers (the
    socket times out): answering proves it stopped reading at its limit."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    head = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    if chunked:
        head.append("Transfer-Encoding: chunked")
    sent = threading.Event()

    def send():
        try:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            step = 64 * 1024
            for start in range(0, len(body_bytes), step):
                piece = body_bytes[start:start + step]
                if chunked:
                    sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                else:
                    sock.sendall(piece)
        except OSError:
            pass  # the server answered and closed: it did not want the rest
        finally:
            sent.set()

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
        sender.join(timeout)
    head_text = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status = int(head_text.split(" ", 2)[1]) if head_text.startswith("HTTP/") else None
    return status, head_text
