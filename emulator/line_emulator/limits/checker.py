"""The checking toolkit of :mod:`line_emulator.limits`: LINE's numbers, UTF-16 lengths and
:class:`Check`, which collects ``(property, message)`` errors with one-line rules."""

import re
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


class Check:
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
        if isinstance(value, str) and not valid_uri(value):
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


def valid_uri(value):
    if any(ord(ch) <= 32 or ord(ch) > 126 for ch in value):
        return False
    try:
        scheme = urlsplit(value).scheme.lower()
    except ValueError:
        return False
    return scheme in URI_SCHEMES
