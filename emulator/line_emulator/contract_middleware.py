"""WSGI middleware that checks every emulator exchange against LINE's OpenAPI specs.

Wrap the emulator's app (``ContractMiddleware(emu.app)``) and serve the wrapper: each request the
client sends and each response the emulator returns is validated with :mod:`.contract`, and the
errors collect in ``violations`` for a test to assert on.
"""

import json

from .contract import default_contract


class ContractMiddleware:
    """Wraps the emulator's WSGI app and checks every exchange against the specs.

    ``violations`` collects error strings; ``exchanges`` records ``{"method", "path",
    "endpoint", "status", "checked", "query", "contentType", "body"}`` per call (``body``: the
    parsed request body). Routes whose endpoint is not an operationId of
    the specs (LINE Login, the account-link dialog, ``/__emulator__``) pass unchecked. Inside
    ``with middleware.expect_invalid():`` requests are meant to be invalid: a request the specs
    accept is then the violation (the test would otherwise not test what it says).
    """

    def __init__(self, emulator_app, contract=None):
        import threading

        self.app = emulator_app
        self.contract = contract or default_contract()
        self.violations = []
        self.exchanges = []
        self._lock = threading.Lock()
        self._expect_invalid = False

    def expect_invalid(self):
        from contextlib import contextmanager

        @contextmanager
        def scope():
            self._expect_invalid = True
            try:
                yield self
            finally:
                self._expect_invalid = False

        return scope()

    def __call__(self, environ, start_response):
        import io
        from urllib.parse import parse_qs

        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        status = int(captured["status"].split()[0])
        headers = {k.lower(): v for k, v in captured["headers"]}
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        self._check(method, path, query, environ.get("CONTENT_TYPE", ""), raw, status,
                    headers, body, environ)
        return [body]

    def _route_for(self, environ):
        try:
            route, _ = self.app.map.bind_to_environ(environ).match()
            return route
        except Exception:  # NotFound / MethodNotAllowed: the emulator answered 501/404/405
            return None

    def _check(self, method, path, query, content_type, raw, status, headers, body, environ):
        route = self._route_for(environ)
        endpoint = route.endpoint if route else None
        checked = bool(route and route.auth != "control" and endpoint in self.contract.by_id)
        errors = []
        request_body = _parse_body(raw, content_type)
        if checked:
            request_errors = self.contract.validate_request(
                method, path, request_body, query=query, content_type=content_type or None,
                operation_id=endpoint)
            if self._expect_invalid:
                request_errors = [] if request_errors else [
                    f"{method} {path}: sent as an invalid request, but the specs accept it"]
            errors += request_errors
            response_type = headers.get("content-type", "")
            response_body = _parse_body(body, response_type) if body else None
            if body and response_type.startswith("application/json") and response_body is None:
                errors.append(f"{endpoint} {status} response: body is not valid JSON")
            errors += self.contract.validate_response(
                method, path, status, response_body, content_type=response_type or None,
                operation_id=endpoint)
        if route and route.auth != "control" and "x-line-request-id" not in headers:
            errors.append(f"{method} {path} -> {status}: no x-line-request-id header")
        with self._lock:
            self.exchanges.append({"method": method, "path": path, "endpoint": endpoint,
                                   "status": status, "checked": checked,
                                   "query": environ.get("QUERY_STRING", ""),
                                   "contentType": content_type, "body": request_body})
            self.violations.extend(errors)


def _parse_body(raw, content_type):
    """JSON or form bodies as Python values; other media (images, files) as the raw bytes."""
    from urllib.parse import parse_qsl

    media = (content_type or "").split(";")[0].strip().lower()
    if not raw:
        return None
    if media == "application/json" or media.endswith("+json"):
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
    if media == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return raw
