"""The JSON control API under ``/__emulator__/`` (for notebooks, demos and other languages).

No authentication, no rate limit, not in the request log. Errors are ``{"message", "details"?}``:
400 for bad JSON or fields (nothing changed), 404 for an unknown user, 409 for an action the
user's state forbids (a blocked user talking). The README lists every route.

Routes that make users act, flush or advance the clock run outside the emulator lock (they take
it themselves), so that in ``sync`` mode the webhook is delivered and its result is in the answer.
"""

from . import dialog, webhook_routes  # noqa: F401  (register their routes)
from .errors import LineError, invalid
from .faults import FaultError
from .users import SimUser
from .webhooks import MODES

P = "/__emulator__"


def route(method, path, endpoint, unlocked=False):
    from .routing import route as register

    def wrap(handler):
        handler.unlocked = unlocked
        return register(method, P + path, endpoint, auth="control")(handler)

    return wrap


def _user(call):
    record = call.emu.users.get(call.args["userId"])
    if record is None:
        raise LineError(404, f"Unknown user {call.args['userId']}")
    return SimUser(call.emu, record)


def _body(call):
    return call.json() if call.request.get_data(cache=True).strip() else {}


def user_json(user):
    record = user.record
    return {"userId": record.user_id, "displayName": record.display_name,
            "language": record.language, "pictureUrl": record.picture_url,
            "statusMessage": record.status_message, "friendship": record.friendship,
            "isFriend": record.friendship == "friend", "richMenu": user.rich_menu}


# Users ---------------------------------------------------------------------------------------
@route("POST", "/users", "controlCreateUser")
def create_user(call):
    body = call.json()
    problems = []
    name = body.get("displayName")
    if not isinstance(name, str) or not name.strip():
        problems.append(("displayName", "must be a non-empty string"))
    for prop in ("language", "pictureUrl", "statusMessage"):
        if body.get(prop) is not None and not isinstance(body[prop], str):
            problems.append((prop, "must be a string"))
    if problems:
        raise invalid(problems)
    user = call.emu.add_user(name, body.get("language") or "ja", body.get("pictureUrl"),
                             body.get("statusMessage"))
    return 201, user_json(user)


@route("GET", "/users", "controlListUsers")
def list_users(call):
    return 200, {"users": [user_json(SimUser(call.emu, r)) for r in call.emu.users.values()]}


@route("GET", "/users/<userId>", "controlGetUser")
def get_user(call):
    return 200, user_json(_user(call))


@route("GET", "/users/<userId>/inbox", "controlUserInbox")
def user_inbox(call):
    return 200, {"messages": list(_user(call).inbox)}


@route("GET", "/users/<userId>/richmenu", "controlUserRichMenu")
def user_rich_menu(call):
    return 200, _user(call).rich_menu


def _action(path, endpoint, act):
    @route("POST", "/users/<userId>/" + path, endpoint, unlocked=True)
    def handler(call):
        user = _user(call)
        return 200, act(user, call).to_json()

    handler.__name__ = endpoint
    return handler


NOUNS = {str: "a string", int: "a whole number", dict: "an object", bool: "true or false"}


def _field(body, name, kind=str, required=True):
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        noun = NOUNS[kind]
        raise invalid([(name, "is required" if value is None else f"must be {noun}")])
    return value


_action("follow", "controlFollow", lambda user, call: user.follow())
_action("block", "controlBlock", lambda user, call: user.block())
_action("unblock", "controlUnblock", lambda user, call: user.unblock())
_action("messages", "controlSay", lambda user, call: user.say(_field(call.json(), "text")))
_action("postback", "controlPostback", lambda user, call: user.postback(
    _field(call.json(), "data"), _field(call.json(), "params", dict, required=False)))
_action("tap", "controlTap", lambda user, call: user.tap(_field(call.json(), "x", int),
                                                          _field(call.json(), "y", int)))
_action("account-link", "controlAccountLink", lambda user, call: user.account_link(
    _field(call.json(), "linkToken"), _field(call.json(), "nonce")))


@route("POST", "/users/<userId>/authorize", "controlAuthorize", unlocked=True)
def authorize(call):
    user, body = _user(call), call.json()
    approve = _field(body, "approve", bool, required=False)
    add_friend = _field(body, "addFriend", bool, required=False)
    location = user.authorize(_field(body, "url"), approve=approve is not False,
                              add_friend=add_friend is not False)
    return 200, {"location": location}


# Webhooks and time ---------------------------------------------------------------------------
@route("POST", "/flush", "controlFlush", unlocked=True)
def flush(call):
    return 200, {"deliveries": call.emu.flush()}


@route("GET", "/deliveries", "controlDeliveries")
def deliveries(call):
    return 200, {"deliveries": list(call.emu.webhooks.deliveries),
                 "pending": call.emu.webhooks.pending}


@route("GET", "/clock", "controlClock")
def clock(call):
    return 200, _now(call.emu)


@route("POST", "/clock/advance", "controlAdvanceClock", unlocked=True)
def advance(call):
    seconds = _body(call).get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise invalid([("seconds", "must be a number of seconds, 0 or more")])
    start = len(call.emu.webhooks.deliveries)
    call.emu.advance(seconds)
    return 200, dict(_now(call.emu), deliveries=call.emu.webhooks.deliveries[start:])


def _now(emu):
    return {"now": emu.clock.isoformat(), "nowMs": emu.clock.now_ms()}


# Faults and the request log ------------------------------------------------------------------
@route("POST", "/faults", "controlAddFault")
def add_fault(call):
    try:
        rule = call.emu.faults.add(call.json())
    except (FaultError, TypeError, ValueError) as exc:
        raise LineError(400, f"Bad fault rule: {exc}") from None
    return 201, rule.describe()


@route("GET", "/faults", "controlListFaults")
def list_faults(call):
    return 200, {"faults": [rule.describe() for rule in call.emu.faults.rules]}


@route("DELETE", "/faults", "controlClearFaults")
def clear_faults(call):
    call.emu.faults.clear()
    return 200, {"faults": []}


@route("GET", "/requests", "controlRequestLog")
def request_log(call):
    entries = call.emu.request_log
    endpoint = call.query("endpoint")
    if endpoint:
        entries = [e for e in entries if e["endpoint"] == endpoint]
    return 200, {"requests": list(entries)}


# Channel settings ----------------------------------------------------------------------------
def info_json(call):
    emu = call.emu
    config = emu.config
    return dict(config.public(call.request.host_url.rstrip("/")),
                webhook_url=config.webhook_url, webhook_enabled=config.webhook_enabled,
                redelivery=config.redelivery, quota=config.quota, delivery=emu.webhooks.mode,
                bad_signature=emu.webhooks.bad_signature, **_now(emu))


@route("GET", "/info", "emulatorInfo")
def info(call):
    return 200, info_json(call)


def _check_setting(name, value):
    if name == "webhook_url":
        ok = value is None or isinstance(value, str) and value.startswith(("http://", "https://"))
        return ok or "must be an http(s) URL or null"
    if name in ("webhook_enabled", "redelivery", "bad_signature"):
        return isinstance(value, bool) or "must be true or false"
    if name == "quota":
        ok = value is None or isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return ok or "must be a whole number, 0 or more, or null (no quota)"
    if name == "delivery":
        return value in MODES or f"must be one of {', '.join(MODES)}"
    return f"is not a setting; use {', '.join(SETTINGS)}"


SETTINGS = ("webhook_url", "webhook_enabled", "redelivery", "quota", "delivery", "bad_signature")


@route("POST", "/config", "controlConfig")
def set_config(call):
    body = call.json()
    problems = [(name, check) for name, value in body.items()
                if (check := _check_setting(name, value)) is not True]
    if problems:
        raise invalid(problems)
    emu = call.emu
    for name, value in body.items():
        if name == "delivery":
            emu.webhooks.mode = value
        elif name == "bad_signature":
            emu.webhooks.bad_signature = value
        else:
            setattr(emu.config, name, value)
    return 200, info_json(call)
