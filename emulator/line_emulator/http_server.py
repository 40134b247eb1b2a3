"""A small threaded HTTP/1.1 WSGI server that keeps connections alive, as LINE's servers do.

werkzeug's development server closes the connection after every response ("Connection: close",
since http.server cannot drain a request it did not read), then waits up to 10 ms for stray
bytes: a client pays a TCP handshake per request, and a load test measures the server's
connection churn, not the bot. This server reads each request completely (Content-Length or
chunked, ``Expect: 100-continue`` answered), so it can serve the next one on the same
connection: one thread per connection, any number of requests per connection.

What it implements of HTTP/1.1 is what API clients use: request line, headers, a body by
Content-Length or chunked transfer coding, keep-alive by default (``Connection: close`` ends a
connection; HTTP/1.0 keeps it only with ``Connection: keep-alive``). Every response carries a
Content-Length. No TLS, no pipelining guarantees beyond in-order answers, no upgrade.

The WSGI environ is werkzeug's (``PATH_INFO`` percent-decoded, ``werkzeug.socket`` is the
connection, so a fault can drop it). An exception of the application is a 500 and closes the
connection; a ``ConnectionError`` closes it without an answer.
"""

import io
import logging
import socket
import socketserver
import sys
import threading
from email.utils import formatdate
from urllib.parse import unquote

MAX_LINE = 65536
MAX_HEADERS = 100
MAX_BODY = 64 * 1024 * 1024
IDLE_TIMEOUT = 300  # seconds a kept-alive connection may stay silent

log = logging.getLogger("line_emulator.http")


class BadRequest(Exception):
    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _dance(text):
    """WSGI's "bytes as latin-1" strings (PEP 3333), as werkzeug builds them."""
    return text.encode("utf-8").decode("latin-1")


class KeepAliveHandler(socketserver.StreamRequestHandler):
    """One connection: requests are read and answered in turn until either side closes it."""

    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True

    def handle(self):
        self.server.track(self.connection, True)
        try:
            while self.handle_one():
                pass
        except (ConnectionError, TimeoutError, socket.timeout, OSError):
            pass
        finally:
            self.server.track(self.connection, False)

    def handle_one(self):
        """Serve one request; True when the connection stays open for the next one."""
        rfile = self.rfile
        line = rfile.readline(MAX_LINE + 1)
        while line in (b"\r\n", b"\n"):  # RFC 9112 2.2: ignore empty lines before a request
            line = rfile.readline(MAX_LINE + 1)
        if not line:
            return False
        try:
            method, target, version, headers = self._head(line)
            body = self._body(headers, version)
        except BadRequest as exc:
            self._send(exc.status, exc.reason, [("Content-Type", "text/plain; charset=utf-8")],
                       exc.reason.encode(), keep=False)
            return False
        connection = headers.get("CONNECTION", "").lower()
        keep = ("close" not in connection if version == "HTTP/1.1"
                else "keep-alive" in connection)
        environ = self._environ(method, target, version, headers, body)
        status_headers = []

        def start_response(status, response_headers, exc_info=None):
            if exc_info and status_headers:
                raise exc_info[1].with_traceback(exc_info[2])
            status_headers[:] = [status, response_headers]
            return chunks.append

        chunks = []
        try:
            result = self.server.app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except ConnectionError:
            return False
        except Exception:  # the application failed: a 500, as werkzeug answers
            log.debug("Error on request %s %s", method, target, exc_info=True)
            self._send(500, "Internal Server Error", [("Content-Type", "text/plain")],
                       b"Internal Server Error", keep=False)
            return False
        status, response_headers = status_headers
        code, _, reason = status.partition(" ")
        payload = b"" if method == "HEAD" else b"".join(chunks)
        self._send(int(code), reason, response_headers, payload, keep,
                   length=sum(map(len, chunks)))
        return keep

    # Reading ------------------------------------------------------------------------------
    def _head(self, line):
        if len(line) > MAX_LINE:
            raise BadRequest(414, "Request-URI Too Long")
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise BadRequest(400, "Bad request line")
        method, target, version = parts
        if version not in ("HTTP/1.1", "HTTP/1.0"):
            raise BadRequest(505, "HTTP Version Not Supported")
        headers = {}  # upper-cased name -> value (repeats joined with ",")
        rfile = self.rfile
        for _ in range(MAX_HEADERS + 1):
            raw = rfile.readline(MAX_LINE + 1)
            if raw in (b"\r\n", b"\n", b""):
                return method, target, version, headers
            if len(raw) > MAX_LINE:
                raise BadRequest(431, "Request Header Fields Too Large")
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep or not name or name != name.strip():
                raise BadRequest(400, "Bad header line")
            name, value = name.upper(), value.strip()
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        raise BadRequest(431, "Too many headers")

    def _body(self, headers, version):
        if "chunked" in headers.get("TRANSFER-ENCODING", "").lower():
            self._continue(headers, version)
            return self._dechunk()
        length = headers.get("CONTENT-LENGTH")
        if not length:
            return b""
        if not length.isdigit():
            raise BadRequest(400, "Bad Content-Length")
        length = int(length)
        if length > MAX_BODY:
            raise BadRequest(413, "Request Entity Too Large")
        self._continue(headers, version)
        body = self.rfile.read(length)
        if len(body) < length:
            raise ConnectionError("client closed the connection mid-body")
        return body

    def _continue(self, headers, version):
        if version == "HTTP/1.1" and headers.get("EXPECT", "").lower() == "100-continue":
            self.connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _dechunk(self):
        out = bytearray()
        rfile = self.rfile
        while True:
            size_line = rfile.readline(MAX_LINE + 1)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest(400, "Bad chunk size") from None
            if size == 0:
                while rfile.readline(MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return bytes(out)
            if len(out) + size > MAX_BODY:
                raise BadRequest(413, "Request Entity Too Large")
            chunk = rfile.read(size)
            if len(chunk) < size:
                raise ConnectionError("client closed the connection mid-chunk")
            out += chunk
            rfile.readline(3)

    def _environ(self, method, target, version, headers, body):
        path, _, query = target.partition("?")
        if "://" in path:  # an absolute-form target: keep the path
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        server = self.server
        environ = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "werkzeug.socket": self.connection,
            "SERVER_SOFTWARE": "line-emulator",
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": _dance(unquote(path)),
            "QUERY_STRING": _dance(query),
            "REQUEST_URI": _dance(target),
            "RAW_URI": _dance(target),
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": self.client_address[1],
            "SERVER_NAME": server.server_address[0],
            "SERVER_PORT": str(server.server_address[1]),
            "SERVER_PROTOCOL": version,
            "CONTENT_LENGTH": str(len(body)) if body or "CONTENT-LENGTH" in headers else "",
        }
        for name, value in headers.items():
            if "_" in name or name in ("CONTENT-LENGTH", "TRANSFER-ENCODING"):
                continue
            key = name.replace("-", "_")
            environ[key if key == "CONTENT_TYPE" else "HTTP_" + key] = value
        return environ

    # Writing ------------------------------------------------------------------------------
    def _send(self, code, reason, headers, payload, keep, length=None):
        lines = [f"HTTP/1.1 {code} {reason}\r\n"]
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                lines.append(f"{name}: {value}\r\n")
        if not 100 <= code < 200 and code not in (204, 304):
            lines.append(f"Content-Length: {len(payload) if length is None else length}\r\n")
        lines.append(f"Date: {formatdate(usegmt=True)}\r\n")
        lines.append("Connection: keep-alive\r\n\r\n" if keep else "Connection: close\r\n\r\n")
        self.connection.sendall("".join(lines).encode("latin-1") + payload)


class KeepAliveServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """``KeepAliveServer((host, port), app)``: ``serve_forever``, ``shutdown`` and
    ``server_close`` as every socketserver; ``server_close`` also closes the connections still
    open, so no thread outlives the server."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, app):
        self.app = app
        self._connections = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, KeepAliveHandler)

    @property
    def server_port(self):
        return self.server_address[1]

    def track(self, connection, is_open):
        with self._connections_lock:
            (self._connections.add if is_open else self._connections.discard)(connection)

    def server_close(self):
        super().server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
