"""What a route is, and werkzeug's URL map of a route table.

Each service lists its routes in its own ``routes.py`` (``ROUTES = [Route(...), ...]``) and
:mod:`line_emulator.routes` joins them into the emulator's table: no module registers anything
when it is imported.

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
    # "channel" (Messaging API bearer token), "login" (a LINE Login access token), "none", or
    # "control" (the /__emulator__ API: no token, no rate limit, not in the request log)
    auth: str = "channel"
    retry_key: bool = False  # the four endpoints that accept X-Line-Retry-Key
    host: str = "api"  # which LINE host serves it: api, api-data or access (documentation only)
    # control routes that take the emulator lock themselves (user actions, flush, clock), so
    # that webhooks in sync mode go out before they answer
    unlocked: bool = False
    options: dict = field(default_factory=dict)


def build_map(routes):
    rules = [
        Rule(r.path, methods=[r.method], endpoint=r, strict_slashes=False)
        for r in routes
    ]
    return Map(rules, strict_slashes=False, merge_slashes=False)
