"""LINE's limits on message objects and action objects, checked the way the Messaging API does.

Every check returns a list of ``(property, message)`` pairs, LINE's error ``details``; an empty
list means valid. Handlers turn a non-empty list into ``errors.invalid(...)`` (400, "The request
body has N error(s)"). The rich-menu endpoints use :func:`validate_action` with ``"richmenu"``.

Sources: https://developers.line.biz/en/reference/messaging-api/#message-objects , #action-objects and
#rich-menu-object; the OpenAPI ``Message``/``Action`` schemas (https://github.com/line/line-openapi).

Undocumented behaviour chosen here
----------------------------------
- Every length is counted in UTF-16 code units (LINE's servers are Java: ``String.length()``),
  not only the text message's 5,000.
- "30 KB" / "50 KB" for Flex are 30 x 1024 / 50 x 1024 bytes of compact UTF-8 JSON.
- ``camera``, ``cameraRoll`` and ``location`` actions are accepted in quick replies only (LINE's
  action reference says so); ``richmenuswitch`` in rich menus only; ``clipboard`` everywhere.
- A ``uri`` must be ASCII without spaces (LINE asks for percent-encoding) with scheme http,
  https, line or tel. Image/icon URLs must be https.
- An action ``label`` is required in templates and quick replies (and on Flex buttons),
  optional elsewhere; when present it must not be empty.
- ``sender.name`` is only length-checked; LINE's list of forbidden words is not published.
"""

import re
from datetime import datetime
from urllib.parse import urlsplit

MAX_MESSAGES = 5
TEXT_MAX = 5000
EMOJIS_MAX = 20
ALT_TEXT_MAX = 400
QUICK_REPLY_MAX = 13
SENDER_NAME_MAX = 20
IMAGE_URL_MAX = 2000
URI_MAX = 1000
DATA_MAX = 300
FLEX_BUBBLE_BYTES = 30 * 1024
FLEX_CAROUSEL_BYTES = 50 * 1024
FLEX_CAROUSEL_BUBBLES = 12
LABEL_MAX = {"richmenu": 20, "template": 20, "quickreply": 20, "flex": 40, "imagecarousel": 12}
CONTEXTS = tuple(LABEL_MAX)
URI_SCHEMES = ("http", "https", "line", "tel")
ACTION_TYPES = ("postback", "message", "uri", "datetimepicker", "camera", "cameraRoll",
                "location", "richmenuswitch", "clipboard")
QUICK_REPLY_ONLY = ("camera", "cameraRoll", "location")
MESSAGE_TYPES = ("text", "textV2", "sticker", "image", "video", "audio", "location", "imagemap",
                 "template", "flex", "coupon")
ALIAS_ID = re.compile(r"^[a-z0-9_-]{1,32}$")
COLOR = re.compile(r"^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$")


def u16len(text):
    """Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


class _Check:
    """Collects ``(property, message)`` errors; small helpers keep the rules one line each."""

    def __init__(self):
        self.errors = []

    def add(self, prop, message):
        self.errors.append((prop, message))

    def obj(self, value, prop):
        if not isinstance(value, dict):
            self.add(prop, "must be a JSON object")
            return False
        return True

    def member(self, obj, key, prop):
        """``obj[key]`` when it is a JSON object; else None, with the reason recorded."""
        value = obj.get(key)
        where = f"{prop}.{key}"
        if value is None:
            self.add(where, "must be specified")
            return None
        return value if self.obj(value, where) else None

    def typed(self, value, prop, known, what):
        """The ``type`` of a JSON object when it is one of ``known``; else None, reason recorded."""
        if not self.obj(value, prop):
            return None
        kind = value.get("type")
        if kind is None:
            self.add(f"{prop}.type", "must be specified")
        elif kind not in known:
            self.add(f"{prop}.type", f"Invalid {what} type '{kind}'")
        else:
            return kind
        return None

    def string(self, obj, key, prop, *, required=False, max_len=None, min_len=1):
        value = obj.get(key)
        where = f"{prop}.{key}"
        if value is None:
            if required:
                self.add(where, "must be specified")
            return None
        if not isinstance(value, str):
            self.add(where, "must be a string")
            return None
        if max_len is None and u16len(value) < min_len:
            self.add(where, "must not be empty")
        elif max_len is not None and not min_len <= u16len(value) <= max_len:
            self.add(where, f"Length must be between {min_len} and {max_len}")
        return value

    def https_url(self, obj, key, prop, *, required=False, max_len=IMAGE_URL_MAX):
        value = self.string(obj, key, prop, required=required, max_len=max_len)
        if isinstance(value, str) and not value.startswith("https://"):
            self.add(f"{prop}.{key}", "must be an https URL")
        return value

    def uri(self, obj, key, prop, *, required=False, max_len=URI_MAX):
        value = self.string(obj, key, prop, required=required, max_len=max_len)
        if isinstance(value, str) and not _valid_uri(value):
            self.add(f"{prop}.{key}", "must be a percent-encoded URI with scheme http, https, "
                                      "line or tel")
        return value

    def array(self, obj, key, prop, *, required=False, min_items=0, max_items=None):
        value = obj.get(key)
        where = f"{prop}.{key}"
        if value is None:
            if required:
                self.add(where, "must be specified")
            return []
        if not isinstance(value, list):
            self.add(where, "must be an array")
            return []
        if min_items == max_items and len(value) != max_items:
            self.add(where, f"Size must be exactly {max_items}")
        elif not min_items <= len(value) <= (max_items if max_items is not None else 10**9):
            self.add(where, f"Size must be between {min_items} and {max_items}")
        return value

    def enum(self, obj, key, prop, allowed, *, required=False):
        value = obj.get(key)
        if value is None:
            if required:
                self.add(f"{prop}.{key}", "must be specified")
        elif value not in allowed:
            self.add(f"{prop}.{key}", f"must be one of {', '.join(allowed)}")
        return value

    def integer(self, obj, key, prop, *, required=False, minimum=None):
        value = obj.get(key)
        if value is None:
            if required:
                self.add(f"{prop}.{key}", "must be specified")
        elif not isinstance(value, int) or isinstance(value, bool):
            self.add(f"{prop}.{key}", "must be an integer")
        elif minimum is not None and value < minimum:
            self.add(f"{prop}.{key}", f"must be greater than or equal to {minimum}")
        return value

    def number(self, obj, key, prop):
        value = obj.get(key)
        if value is None:
            self.add(f"{prop}.{key}", "must be specified")
        elif not isinstance(value, (int, float)) or isinstance(value, bool):
            self.add(f"{prop}.{key}", "must be a number")


def _valid_uri(value):
    if any(ord(ch) <= 32 or ord(ch) > 126 for ch in value):
        return False
    try:
        scheme = urlsplit(value).scheme.lower()
    except ValueError:
        return False
    return scheme in URI_SCHEMES


# Actions ----------------------------------------------------------------------------------
def validate_action(action, prop, context):
    """Errors of one action object used in ``context`` (richmenu, template, quickreply, flex,
    imagecarousel): its type is allowed there, its label fits that context's limit, and its own
    fields (postback data, uri, ...) respect LINE's limits."""
    if context not in LABEL_MAX:
        raise ValueError(f"context must be one of {CONTEXTS}")
    return _action(action, prop, context, label_required=context in ("template", "quickreply"))


def _action(action, prop, context, label_required):
    c = _Check()
    kind = c.typed(action, prop, ACTION_TYPES, "action")
    if kind is None:
        return c.errors
    if kind == "richmenuswitch" and context != "richmenu":
        c.add(f"{prop}.type", "A richmenuswitch action can only be used in a rich menu")
    if kind in QUICK_REPLY_ONLY and context != "quickreply":
        c.add(f"{prop}.type", f"A {kind} action can only be used in a quick reply button")
    c.string(action, "label", prop, required=label_required, max_len=LABEL_MAX[context])
    if kind == "postback":
        c.string(action, "data", prop, required=True, max_len=DATA_MAX, min_len=0)
        c.string(action, "displayText", prop, max_len=DATA_MAX)
        c.string(action, "text", prop, max_len=DATA_MAX)
        if action.get("displayText") is not None and action.get("text") is not None:
            c.add(f"{prop}.text", "displayText and text cannot both be set")
        option = c.enum(action, "inputOption", prop,
                        ("closeRichMenu", "openRichMenu", "openKeyboard", "openVoice"))
        c.string(action, "fillInText", prop, max_len=DATA_MAX)
        if action.get("fillInText") is not None and option != "openKeyboard":
            c.add(f"{prop}.fillInText", "fillInText needs inputOption openKeyboard")
    elif kind == "message":
        c.string(action, "text", prop, required=True, max_len=DATA_MAX)
    elif kind == "uri":
        c.uri(action, "uri", prop, required=True)
        alt = action.get("altUri")
        if alt is not None and c.obj(alt, f"{prop}.altUri"):
            c.uri(alt, "desktop", f"{prop}.altUri")
    elif kind == "datetimepicker":
        c.string(action, "data", prop, required=True, max_len=DATA_MAX, min_len=0)
        mode = c.enum(action, "mode", prop, ("date", "time", "datetime"), required=True)
        _datetime_bounds(c, action, prop, mode)
    elif kind == "richmenuswitch":
        alias = c.string(action, "richMenuAliasId", prop, required=True, max_len=32)
        if isinstance(alias, str) and not ALIAS_ID.match(alias):
            c.add(f"{prop}.richMenuAliasId", "must match ^[a-z0-9_-]{1,32}$")
        c.string(action, "data", prop, required=True, max_len=DATA_MAX, min_len=0)
    elif kind == "clipboard":
        c.string(action, "clipboardText", prop, required=True, max_len=1000)
    return c.errors


_PICKER_FORMATS = {"date": ("%Y-%m-%d",), "time": ("%H:%M",),
                   "datetime": ("%Y-%m-%dt%H:%M", "%Y-%m-%dT%H:%M")}


def _datetime_bounds(c, action, prop, mode):
    if mode not in _PICKER_FORMATS:
        return
    parsed = {}
    for key in ("initial", "min", "max"):
        value = action.get(key)
        if value is None:
            continue
        for fmt in _PICKER_FORMATS[mode]:
            try:
                parsed[key] = datetime.strptime(value, fmt) if isinstance(value, str) else None
                break
            except ValueError:
                parsed[key] = None
        if parsed[key] is None:
            c.add(f"{prop}.{key}", f"must be a {mode} in the format LINE documents for this mode")
    if parsed.get("min") and parsed.get("max") and parsed["min"] >= parsed["max"]:
        c.add(f"{prop}.max", "max must be later than min")


# Messages ---------------------------------------------------------------------------------
def validate_messages(messages, prop="messages"):
    """Errors of a ``messages`` array: 1..5 message objects, each within LINE's limits."""
    if messages is None:
        return [(prop, "must be specified")]
    if not isinstance(messages, list):
        return [(prop, "must be an array of message objects")]
    errors = []
    if not 1 <= len(messages) <= MAX_MESSAGES:
        errors.append((prop, f"Size must be between 1 and {MAX_MESSAGES}"))
    for index, message in enumerate(messages):
        errors += validate_message(message, f"{prop}[{index}]")
    return errors


def validate_message(message, prop):
    c = _Check()
    kind = c.typed(message, prop, MESSAGE_TYPES, "message")
    if kind is None:
        return c.errors
    _common(c, message, prop)
    if kind not in _MESSAGE_CHECKS:  # imagemap, template, flex: their own module
        from .limits_rich import RICH_CHECKS

        _MESSAGE_CHECKS.update(RICH_CHECKS)
    _MESSAGE_CHECKS[kind](c, message, prop)
    return c.errors


def _common(c, message, prop):
    quick = message.get("quickReply")
    if quick is not None and c.obj(quick, f"{prop}.quickReply"):
        where = f"{prop}.quickReply"
        for i, item in enumerate(c.array(quick, "items", where, required=True, min_items=1,
                                          max_items=QUICK_REPLY_MAX)):
            item_prop = f"{where}.items[{i}]"
            if c.obj(item, item_prop):
                c.enum(item, "type", item_prop, ("action",), required=True)
                c.https_url(item, "imageUrl", item_prop)
                c.errors += _action_field(item, item_prop, "quickreply")
    sender = message.get("sender")
    if sender is not None and c.obj(sender, f"{prop}.sender"):
        c.string(sender, "name", f"{prop}.sender", max_len=SENDER_NAME_MAX)
        c.https_url(sender, "iconUrl", f"{prop}.sender")


def _action_field(obj, prop, context, key="action", required=True, label_required=None):
    action = obj.get(key)
    if action is None:
        return [(f"{prop}.{key}", "must be specified")] if required else []
    if label_required is None:
        return validate_action(action, f"{prop}.{key}", context)
    return _action(action, f"{prop}.{key}", context, label_required)


def _text(c, m, prop):
    text = c.string(m, "text", prop, required=True, max_len=TEXT_MAX)
    emojis = c.array(m, "emojis", prop, max_items=EMOJIS_MAX)
    units = text.encode("utf-16-le") if isinstance(text, str) else b""
    for i, emoji in enumerate(emojis):
        where = f"{prop}.emojis[{i}]"
        if not c.obj(emoji, where):
            continue
        index = c.integer(emoji, "index", where, required=True, minimum=0)
        c.string(emoji, "productId", where, required=True)
        c.string(emoji, "emojiId", where, required=True)
        if isinstance(index, int) and units[2 * index:2 * index + 2] != "$".encode("utf-16-le"):
            c.add(f"{where}.index", "must point at a '$' placeholder in text")
    c.string(m, "quoteToken", prop)


def _text_v2(c, m, prop):
    c.string(m, "text", prop, required=True, max_len=TEXT_MAX)
    substitution = m.get("substitution")
    if substitution is None or not c.obj(substitution, f"{prop}.substitution"):
        return
    for key, sub in substitution.items():
        where = f"{prop}.substitution.{key}"
        if not re.match(r"^[a-zA-Z0-9_]{1,20}$", key):
            c.add(where, "substitution keys must match ^[a-zA-Z0-9_]{1,20}$")
        if not c.obj(sub, where):
            continue
        kind = c.enum(sub, "type", where, ("mention", "emoji"), required=True)
        if kind == "emoji":
            c.string(sub, "productId", where, required=True)
            c.string(sub, "emojiId", where, required=True)
        elif kind == "mention":
            target = sub.get("mentionee")
            if target is None:
                c.add(f"{where}.mentionee", "must be specified")
            elif c.obj(target, f"{where}.mentionee"):
                who = c.enum(target, "type", f"{where}.mentionee", ("user", "all"), required=True)
                if who == "user":
                    c.string(target, "userId", f"{where}.mentionee", required=True)


def _sticker(c, m, prop):
    c.string(m, "packageId", prop, required=True)
    c.string(m, "stickerId", prop, required=True)


def _image(c, m, prop):
    c.https_url(m, "originalContentUrl", prop, required=True)
    c.https_url(m, "previewImageUrl", prop, required=True)


def _video(c, m, prop):
    _image(c, m, prop)
    c.string(m, "trackingId", prop, max_len=100)


def _audio(c, m, prop):
    c.https_url(m, "originalContentUrl", prop, required=True)
    c.integer(m, "duration", prop, required=True, minimum=1)


def _location(c, m, prop):
    c.string(m, "title", prop, required=True, max_len=100)
    c.string(m, "address", prop, required=True, max_len=100)
    c.number(m, "latitude", prop)
    c.number(m, "longitude", prop)


def _coupon(c, m, prop):
    c.string(m, "couponId", prop, required=True)
    c.string(m, "deliveryTag", prop, max_len=30)


_MESSAGE_CHECKS = {
    "text": _text, "textV2": _text_v2, "sticker": _sticker, "image": _image, "video": _video,
    "audio": _audio, "location": _location, "coupon": _coupon,
}
