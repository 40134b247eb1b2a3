"""The route table: each emulated LINE endpoint registers itself with ``@route``.

A handler is ``handler(call) -> (status, body)`` or ``(status, body, headers)`` where body is a
JSON-able object, ``bytes`` (with a content type in headers) or ``None`` (empty body).
Handlers validate everything first and raise :class:`LineError` before changing any state.
"""

from dataclasses import dataclass, field

from werkzeug.routing import Map, Rule


@dataclass(eq=False)
class Route:
    method: str
    path: str
    endpoint: str  # LINE's operationId, used by the request log, rate limits and fault rules
    handler: object
    auth: str = "channel"  # "channel" (Messaging API bearer token), "login" or "none"
    retry_key: bool = False  # the four endpoints that accept X-Line-Retry-Key
    host: str = "api"  # which LINE host serves it: api, api-data or access (documentation only)
    options: dict = field(default_factory=dict)


ROUTES = []


def route(method, path, endpoint, *, auth="channel", retry_key=False, host="api"):
    def register(handler):
        ROUTES.append(Route(method, path, endpoint, handler, auth, retry_key, host))
        return handler

    return register


def build_map(routes):
    rules = [
        Rule(r.path, methods=[r.method], endpoint=r, strict_slashes=False)
        for r in routes
    ]
    return Map(rules, strict_slashes=False, merge_slashes=False)
