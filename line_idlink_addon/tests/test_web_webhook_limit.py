"""Issue 8 point 5: /line/webhook/<id> refuses a body over MAX_WEBHOOK_BODY with 413 before
reading it, and stores nothing."""

import json
import socket
import threading
from urllib.parse import urlsplit

from odoo.tests import HttpCase, tagged

from line_idlink.webhook import MAX_WEBHOOK_BODY, compute_signature

from .common import SECRET, LineCommon


def post_unfinished(url, headers, body, chunked, timeout=60):
    """POST ``body`` and never finish it (no closing chunk, or a Content-Length promising more
    than is sent): only a server that stops reading at its limit answers. (status, head)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    head = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    if chunked:
        head.append("Transfer-Encoding: chunked")

    def send():
        try:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
            for start in range(0, len(body), 64 * 1024):
                piece = body[start:start + 64 * 1024]
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
        except OSError:
            pass  # the server answered and closed: it did not want the rest

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    answer = b""
    try:
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
    text = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    return (int(text.split(" ", 2)[1]) if text.startswith("HTTP/") else None), text


@tagged("post_install", "-at_install", "line_idlink")
class TestWebhookBodyLimit(LineCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()

    def url(self):
        return f"{self.base_url()}/line/webhook/{self.channel.id}"

    def events(self):
        return self.env["line.webhook.event"].sudo().search_count([])

    def signed_body(self, size):
        """A webhook body of exactly ``size`` bytes with one follow event, signed."""
        body = {"destination": "U" + "0" * 32, "events": [{
            "type": "follow", "mode": "active", "timestamp": 1_800_000_000_000,
            "webhookEventId": "01JLIMIT000000000000000000", "replyToken": "r" * 32,
            "deliveryContext": {"isRedelivery": False},
            "source": {"type": "user", "userId": "U" + "1" * 32}}], "pad": ""}
        body["pad"] = "x" * (size - len(json.dumps(body).encode()))
        raw = json.dumps(body).encode()
        self.assertEqual(len(raw), size)
        return raw

    def test_limit_is_one_mib(self):
        self.assertEqual(MAX_WEBHOOK_BODY, 1024 * 1024)

    def test_one_byte_over_the_limit_is_refused_and_nothing_stored(self):
        before = self.events()
        raw = self.signed_body(MAX_WEBHOOK_BODY + 1)
        response = self.signed_post(raw)
        self.assertEqual(response.status_code, 413)
        self.assertEqual(self.events(), before, "nothing stored")
        # chunked (no Content-Length): the same body is read up to the limit and refused
        response = self.url_open(f"/line/webhook/{self.channel.id}",
                                 data=iter([raw[:600_000], raw[600_000:]]), headers={
                                     "Content-Type": "application/json",
                                     "X-Line-Signature": compute_signature(SECRET, raw)})
        self.assertEqual(response.status_code, 413)
        self.assertEqual(self.events(), before)
        # a form body (Odoo parses forms, up to its own 10 MB limit, before the route runs) is
        # refused as well
        form = self.url_open(f"/line/webhook/{self.channel.id}",
                             data={"x": "y" * MAX_WEBHOOK_BODY})
        self.assertEqual(form.status_code, 413)

    def test_a_body_at_the_limit_is_accepted(self):
        before = self.events()
        response = self.signed_post(self.signed_body(MAX_WEBHOOK_BODY))
        self.assertEqual(response.status_code, 200, response.text[:200])
        self.assertEqual(self.events(), before + 1)

    def test_a_huge_declared_body_is_refused_before_it_is_sent(self):
        """100 MiB declared, a few bytes sent: answered at once. (Above Odoo's own 128 MiB
        DEFAULT_MAX_CONTENT_LENGTH, werkzeug 2.2 reads and discards the body before any route
        runs: Odoo's behaviour, which reads without keeping it.)"""
        before = self.events()
        status, head = post_unfinished(self.url(), {
            "Content-Type": "application/json", "X-Line-Signature": "x",
            "Content-Length": str(100 * 1024 * 1024)}, b'{"events": [', chunked=False)
        self.assertEqual(status, 413, head)
        self.assertEqual(self.events(), before)

    def test_an_endless_chunked_body_is_refused_without_buffering_it(self):
        """The body never ends: Odoo answering 413 proves it stopped reading at the limit."""
        before = self.events()
        status, head = post_unfinished(
            self.url(), {"Content-Type": "application/json", "X-Line-Signature": "x"},
            b"{" + b" " * (MAX_WEBHOOK_BODY + 256 * 1024), chunked=True)
        self.assertEqual(status, 413, head)
        self.assertEqual(self.events(), before)
