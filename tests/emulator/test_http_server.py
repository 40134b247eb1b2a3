"""The emulator's HTTP server keeps connections alive (HTTP/1.1), as LINE's servers do, so a
client's connection pool is reused; it reads chunked bodies and answers ``Expect``."""

import json
import socket

import requests


def _exchange(sock, request):
    """Send one raw request and read one response (headers + Content-Length body)."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data, {}, b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", 0))
    while len(body) < length:
        body += sock.recv(65536)
    return lines[0], headers, body


def _request(server, method, path, body=b"", extra=""):
    token = server.emulator.config.access_token
    return (f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
            ).encode() + body


def test_several_requests_share_one_connection(emulator_server):
    with socket.create_connection(("127.0.0.1", emulator_server.port), timeout=10) as sock:
        for _ in range(3):
            status, headers, body = _exchange(
                sock, _request(emulator_server, "GET", "/v2/bot/message/quota"))
            assert status == "HTTP/1.1 200 OK"
            assert headers["connection"] == "keep-alive"
            assert json.loads(body) == {"type": "none"}
        status, headers, _ = _exchange(
            sock, _request(emulator_server, "GET", "/v2/bot/info", extra="Connection: close\r\n"))
        assert status == "HTTP/1.1 200 OK" and headers["connection"] == "close"
        assert sock.recv(10) == b""  # the server closed it, as asked


def test_a_requests_session_reuses_its_connection(emulator_server):
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {emulator_server.emulator.config.access_token}"
        ports = set()
        for _ in range(3):
            response = session.get(emulator_server.base_url + "/v2/bot/message/quota",
                                   timeout=10, stream=True)
            ports.add(response.raw.connection.sock.getsockname()[1])
            response.content
        assert len(ports) == 1


def test_a_chunked_body_and_expect_100_continue(emu, emulator_server):
    aiko = emu.add_user("Aiko")
    aiko.follow()
    payload = json.dumps({"to": aiko.user_id,
                          "messages": [{"type": "text", "text": "チャンク"}]}).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part)
                       for part in (payload[:10], payload[10:])) + b"0\r\n\r\n"
    token = emu.config.access_token
    head = (f"POST /v2/bot/message/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            "Expect: 100-continue\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", emulator_server.port), timeout=10) as sock:
        sock.sendall(head)
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        status, _, body = _exchange(sock, chunked)
    assert status == "HTTP/1.1 200 OK", body
    assert [m["message"]["text"] for m in aiko.inbox] == ["チャンク"]


def test_http_1_0_and_bad_requests_close_the_connection(emulator_server):
    with socket.create_connection(("127.0.0.1", emulator_server.port), timeout=10) as sock:
        status, headers, _ = _exchange(sock, b"GET /v2/bot/message/quota HTTP/1.0\r\n\r\n")
        assert status.startswith("HTTP/1.1 401 ")  # no token; answered, then closed
        assert headers["connection"] == "close" and sock.recv(10) == b""
    with socket.create_connection(("127.0.0.1", emulator_server.port), timeout=10) as sock:
        status, headers, _ = _exchange(sock, b"NONSENSE\r\n\r\n")
        assert status.startswith("HTTP/1.1 400") and headers["connection"] == "close"


def test_stopping_the_server_closes_kept_alive_connections(emu):
    from line_emulator import EmulatorServer

    server = EmulatorServer(emu).start()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        status, headers, _ = _exchange(sock, _request(server, "GET", "/v2/bot/message/quota"))
        assert headers["connection"] == "keep-alive"
        server.stop()
        assert sock.recv(10) == b""
    finally:
        sock.close()
