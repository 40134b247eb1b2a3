"""The emulator's WSGI application: one origin for api.line.me, api-data.line.me, access.line.me.

Every API call goes through the same pipeline, in LINE's order: authentication, retry-key check,
rate limit, fault injection, the handler (which validates before it changes anything), retry-key
acceptance, then the request log. Every response carries a fresh ``x-line-request-id``.
"""

import json
import socket
import time
import uuid

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from . import routing
from .errors import RATE_LIMITED, RETRY_KEY_ACCEPTED, UNAUTHORIZED, LineError

# Prefixes of LINE's API paths: an unknown path under them is a LINE endpoint we do not emulate.
LINE_PREFIXES = ("/v2/bot/", "/bot/", "/v2/oauth/", "/oauth2/", "/liff/", "/friendship/", "/user/v1/",
                 "/v2/profile", "/v3/", "/dialog/")


class ConnectionDropped(ConnectionError):
    """Raised in-process (no socket) where a real server would close the connection."""


class Call:
    """One request as a handler sees it."""

    def __init__(self, emu, request, route, args, request_id):
        self.emu = emu
        self.request = request
        self.route = route
        self.args = args
        self.request_id = request_id
        self.retry_key = request.headers.get("X-Line-Retry-Key")
        self._json = None

    @property
    def endpoint(self):
        return self.route.endpoint

    def json(self):
        """The JSON body; a 400 in LINE's words when it is missing or not an object."""
        if self._json is None:
            raw = self.request.get_data(cache=True)
            try:
                self._json = json.loads(raw.decode("utf-8")) if raw else None
            except (UnicodeDecodeError, ValueError):
                raise LineError(400, "The request body could not be parsed as JSON") from None
            if not isinstance(self._json, dict):
                raise LineError(400, "The request body must be a JSON object")
        return self._json

    def form(self):
        return self.request.form

    def query(self, name, default=None):
        return self.request.args.get(name, default)

    def defer(self, fn):
        """Run ``fn`` once the emulator lock is released (see ``Emulator.after_unlock``)."""
        self.emu.after_unlock(fn)


def json_response(status, body, headers=None):
    data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    response = Response(data, status=status, headers=headers or {})
    if body is not None:
        response.content_type = "application/json"
    return response


class EmulatorApp:
    def __init__(self, emu):
        # Importing the handler modules registers their routes.
        from . import control, login, messaging, richmenu  # noqa: F401
        from . import accounts, audience, insight, narrowcast  # noqa: F401 (messaging)

        self.emu = emu
        self.map = routing.build_map(routing.ROUTES)

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    # ------------------------------------------------------------------------------------
    def handle(self, request):
        emu = self.emu
        request_id = emu.ids.request_id()
        adapter = self.map.bind_to_environ(request.environ)
        try:
            route, args = adapter.match()
        except (MethodNotAllowed, NotFound) as exc:
            # A LINE path we do not serve (with this method, e.g. POST .../audienceGroup/click
            # beside GET .../audienceGroup/{id}) is a LINE endpoint the emulator lacks: 501.
            if request.path.startswith(LINE_PREFIXES):
                message = (f"Not emulated: {request.method} {request.path} is a LINE endpoint this "
                           "emulator does not implement (see the README's list of endpoints)")
                return self._log_only(request, request_id, 501, {"message": message})
            if isinstance(exc, MethodNotAllowed):
                return self._log_only(request, request_id, 405, {"message": "Method not allowed"},
                                      headers={"Allow": ", ".join(exc.valid_methods or [])})
            return self._log_only(request, request_id, 404, {"message": "Not found"})
        except HTTPException as exc:  # e.g. a redirect for a missing slash
            return exc.get_response(request.environ)

        call = Call(emu, request, route, args, request_id)
        if route.auth == "control":
            return self._run_control(call)
        return self._run_api(call)

    def _run_control(self, call):
        try:
            if getattr(call.route.handler, "unlocked", False):
                # It locks for itself, so that sync webhooks go out before it answers.
                result = call.route.handler(call)
            else:
                with self.emu.locked():
                    result = call.route.handler(call)
            response = self._to_response(result)
        except LineError as exc:
            response = json_response(exc.status, exc.body())
        return response

    def _run_api(self, call):
        emu, route = self.emu, call.route
        fault = None
        headers = {"x-line-request-id": call.request_id}
        try:
            self._authenticate(call)
            if call.retry_key is not None:
                self._check_retry_key_format(call)
            # Every attempt counts against the rate limit, retries with a used key included.
            if not emu.limiter.admit(route.endpoint):
                raise LineError(429, RATE_LIMITED)
            fault = emu.faults.pick(call.request.method, call.request.path, route.endpoint)
            if fault and fault.when == "before":
                early = self._fault_before(call, fault)
                if early is not None:
                    return self._finish(call, early, fault)
            # The key is checked and accepted under the same lock as the handler runs: two
            # concurrent requests with one key can never both be applied.
            with emu.locked():
                if call.retry_key is not None:
                    self._check_retry_key_accepted(call)
                result = route.handler(call)
                response = self._to_response(result)
                if call.retry_key and 200 <= response.status_code < 300:
                    body = response.get_json(silent=True) if response.data else None
                    emu.accept_retry_key(call.retry_key, call.request_id, route.endpoint, body)
        except LineError as exc:
            response = json_response(exc.status, exc.body(), exc.headers)
        response.headers.update(headers)
        if fault and fault.when == "after":
            response = self._fault_after(call, fault, response)
        return self._finish(call, response, fault)

    # Pipeline steps ---------------------------------------------------------------------
    def _authenticate(self, call):
        if call.route.auth == "none":
            return
        header = call.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        valid = scheme.lower() == "bearer" and token
        if call.route.auth == "channel":
            valid = valid and token == self.emu.config.access_token
        elif call.route.auth == "login":
            valid = valid and self.emu.login.user_for_access_token(token) is not None
        if not valid:
            raise LineError(401, UNAUTHORIZED)

    def _check_retry_key_format(self, call):
        if not call.route.retry_key:
            raise LineError(400, "The X-Line-Retry-Key header is only accepted by the push, "
                                 "multicast, narrowcast and broadcast endpoints")
        try:
            uuid.UUID(call.retry_key)
        except ValueError:
            raise LineError(400, "The X-Line-Retry-Key header must be a UUID, such as "
                                 "123e4567-e89b-12d3-a456-426614174000") from None

    def _check_retry_key_accepted(self, call):
        accepted = self.emu.accepted_retry_key(call.retry_key)
        if accepted:
            body = {"message": RETRY_KEY_ACCEPTED}
            if accepted["endpoint"] == "pushMessage" and accepted["body"]:
                body["sentMessages"] = accepted["body"].get("sentMessages", [])
            raise LineError(409, RETRY_KEY_ACCEPTED, body=body,
                            headers={"x-line-accepted-request-id": accepted["requestId"]})

    def _fault_before(self, call, fault):
        if fault.action == "delay":
            time.sleep(fault.seconds)
            return None
        if fault.action == "drop":
            self._drop(call)
        return self._fault_response(call, fault)

    def _fault_after(self, call, fault, response):
        if fault.action == "delay":
            time.sleep(fault.seconds)
            return response
        if fault.action == "drop":
            self._drop(call)
        if fault.action == "malformed_json":
            broken = Response(response.get_data()[: max(1, len(response.get_data()) // 2)] or b"{",
                              status=response.status_code, content_type="application/json")
            broken.headers.update({"x-line-request-id": call.request_id})
            return broken
        return self._fault_response(call, fault)

    def _fault_response(self, call, fault):
        headers = {"x-line-request-id": call.request_id}
        if fault.action == "rate_limit":
            return json_response(429, fault.body or {"message": RATE_LIMITED}, headers)
        if fault.action == "malformed_json":
            return Response(b'{"message": "Internal', status=200,
                            content_type="application/json", headers=headers)
        body = fault.body or {"message": "An error occurred in the emulated LINE server"}
        return json_response(fault.status, body, headers)

    def _drop(self, call):
        self._log(call, None, "connection dropped", dropped=True)
        sock = call.request.environ.get("werkzeug.socket")
        if sock is None:
            raise ConnectionDropped(call.route.endpoint)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        raise ConnectionDropped(call.route.endpoint)

    # Responses and the request log ------------------------------------------------------
    @staticmethod
    def _to_response(result):
        if isinstance(result, Response):
            return result
        status, body, *rest = result
        headers = rest[0] if rest else {}
        if isinstance(body, (bytes, bytearray)):
            return Response(bytes(body), status=status, headers=headers)
        return json_response(status, body, headers)

    def _finish(self, call, response, fault):
        self._log(call, response, fault.action if fault else None)
        return response

    def _log(self, call, response, fault, dropped=False):
        emu = self.emu
        entry = {
            "seq": len(emu.request_log) + 1,
            "time": emu.clock.now(),
            "method": call.request.method,
            "path": call.request.path,
            "endpoint": call.route.endpoint,
            "status": None if dropped else response.status_code,
            "requestId": call.request_id,
            "retryKey": call.retry_key,
            "fault": fault,
        }
        if emu.log_bodies:
            entry["body"] = _loggable_body(call.request)
        if call.route.auth != "control":
            emu.request_log.append(entry)

    def _log_only(self, request, request_id, status, body, headers=None):
        headers = dict(headers or {}, **{"x-line-request-id": request_id})
        if not request.path.startswith("/__emulator__"):
            self.emu.request_log.append({
                "seq": len(self.emu.request_log) + 1, "time": self.emu.clock.now(),
                "method": request.method, "path": request.path, "endpoint": None,
                "status": status, "requestId": request_id,
                "retryKey": request.headers.get("X-Line-Retry-Key"), "fault": None,
            })
        return json_response(status, body, headers)


# Credentials a client sends are masked in the request log (``emu.request_log`` and
# ``GET /__emulator__/requests``), which notebooks and demos print: secrets, access/refresh/ID
# tokens, authorization codes, PKCE verifiers, link tokens and nonces, in forms and JSON bodies
# (at any depth). Names are compared without case, "_" or "-". Headers (Authorization) and query
# strings are never logged.
MASK = "***"
SECRET_FIELDS = frozenset({
    "clientsecret", "clientassertion", "channelsecret", "secret", "password",
    "code", "codeverifier", "accesstoken", "channelaccesstoken", "useraccesstoken",
    "refreshtoken", "idtoken", "idtokenhint", "token", "linktoken", "nonce", "authorization",
})


def is_secret_field(name):
    return isinstance(name, str) and name.lower().replace("_", "").replace("-", "") in SECRET_FIELDS


def mask_secrets(value):
    """A copy of a decoded body with the value of every credential field replaced by ``***``."""
    if isinstance(value, dict):
        return {key: (MASK if is_secret_field(key) and item not in (None, "")
                      else mask_secrets(item)) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_secrets(item) for item in value]
    return value


def _loggable_body(request):
    ctype = request.mimetype or ""
    if ctype == "application/x-www-form-urlencoded":
        # Read through request.form: once a handler parsed the form, get_data() is empty.
        return mask_secrets(dict(request.form.items())) or None
    raw = request.get_data(cache=True)
    if not raw:
        return None
    if ctype == "application/json":
        try:
            return mask_secrets(json.loads(raw))
        except ValueError:
            return f"<{len(raw)} bytes of invalid JSON>"  # it may hold a credential
    return f"<{len(raw)} bytes {ctype}>"

