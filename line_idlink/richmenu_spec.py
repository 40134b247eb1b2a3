"""Rich menus: a spec checked against LINE's limits before any API call, and the image check.

:class:`RichMenuSpec` holds LINE's rich menu object (size, selected, name, chatBarText, areas);
:meth:`RichMenuSpec.validate` lists every problem as ``(property, message)`` with LINE-style
property paths (``areas[3].action.data``); :meth:`RichMenuSpec.check` raises
:class:`RichMenuInvalid` with that list. :func:`check_image` reads the PNG/JPEG header and checks
type, pixel size (must equal the menu's size) and byte size (<= 1 MB).

Sending (create, upload, alias, default, per-user/bulk/batch switching, reconcile) lives in
:mod:`line_idlink.richmenu_publisher`.

Sources: https://developers.line.biz/en/reference/messaging-api/#rich-menu-object ,
#area-object and #action-objects.

Undocumented behaviour chosen here:

- Every area must lie wholly inside the image (``x + width <= width``, ``y + height <= height``).
  LINE itself only rejects areas that start outside and ignores the overhang (its own tab example
  overhangs by 1 px); an overhang is a design mistake, so we refuse it with a clear message.
- ``name`` and ``chatBarText`` must be non-empty; ``areas`` may be empty (LINE sets no minimum).
- ``camera``, ``cameraRoll`` and ``location`` need a label (the reference marks it required).
- 1 MB means 1,048,576 bytes.
"""

import dataclasses
import re
import struct

MIN_WIDTH, MAX_WIDTH, MIN_HEIGHT, MIN_RATIO = 800, 2500, 250, 1.45
MAX_AREAS = 20
NAME_MAX, CHAT_BAR_TEXT_MAX, LABEL_MAX = 300, 14, 20
DATA_MAX, URI_MAX, CLIPBOARD_MAX = 300, 1000, 1000
MAX_IMAGE_BYTES = 1024 * 1024
ALIAS_ID = re.compile(r"^[a-z0-9_-]{1,32}$")
URI_SCHEMES = ("http", "https", "line", "tel")
INPUT_OPTIONS = ("closeRichMenu", "openRichMenu", "openKeyboard", "openVoice")
DATETIME_MODES = ("date", "time", "datetime")
ACTION_TYPES = ("postback", "message", "uri", "datetimepicker", "richmenuswitch", "camera",
                "cameraRoll", "location", "clipboard")
PNG, JPEG = "image/png", "image/jpeg"
REQUIRED = "must be specified"


class RichMenuInvalid(ValueError):
    """The rich menu (or its image, or an alias id) breaks LINE's rules; nothing was sent.
    ``errors`` is ``[(property, message), ...]``."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("invalid rich menu: " + "; ".join(f"{p}: {m}" for p, m in self.errors))


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _text(obj, key, prop, errors, max_len, required=False, min_len=0):
    value = obj.get(key)
    if value is None:
        if required:
            errors.append((prop, REQUIRED))
        return None
    if not isinstance(value, str):
        errors.append((prop, "must be a string"))
        return None
    if not min_len <= len(value) <= max_len:
        errors.append((prop, f"must be {min_len} to {max_len} characters (got {len(value)})"))
    return value


@dataclasses.dataclass
class RichMenuSpec:
    """LINE's rich menu object. ``size`` is ``(width, height)`` or ``{"width", "height"}``;
    ``areas`` is ``[{"bounds": {x, y, width, height}, "action": {...}}, ...]``."""

    size: object
    name: str
    chat_bar_text: str
    areas: list = dataclasses.field(default_factory=list)
    selected: bool = False

    @classmethod
    def from_dict(cls, data):
        """From LINE's JSON (``chatBarText``); a ``richMenuId`` key is ignored."""
        return cls(size=data.get("size"), name=data.get("name"),
                   chat_bar_text=data.get("chatBarText"), areas=data.get("areas"),
                   selected=data.get("selected", False))

    @property
    def width_height(self):
        size = self.size
        if isinstance(size, dict):
            return size.get("width"), size.get("height")
        if isinstance(size, (tuple, list)) and len(size) == 2:
            return tuple(size)
        return None, None

    def to_dict(self):
        """LINE's JSON for ``createRichMenu``."""
        width, height = self.width_height
        return {"size": {"width": width, "height": height}, "selected": self.selected,
                "name": self.name, "chatBarText": self.chat_bar_text,
                "areas": [dict(a) for a in self.areas or []]}

    def validate(self):
        """Every problem as ``[(property, message)]``; empty when LINE should accept the menu."""
        errors = []
        size = _validate_size(self.size, self.width_height, errors)
        if not isinstance(self.selected, bool):
            errors.append(("selected", "must be true or false"))
        body = {"name": self.name, "chatBarText": self.chat_bar_text}
        _text(body, "name", "name", errors, NAME_MAX, required=True, min_len=1)
        _text(body, "chatBarText", "chatBarText", errors, CHAT_BAR_TEXT_MAX, required=True,
              min_len=1)
        areas = self.areas
        if areas is None:
            errors.append(("areas", REQUIRED))
        elif not isinstance(areas, list):
            errors.append(("areas", "must be a list of areas"))
        elif len(areas) > MAX_AREAS:
            errors.append(("areas", f"at most {MAX_AREAS} areas (got {len(areas)})"))
        else:
            for index, area in enumerate(areas):
                _validate_area(area, f"areas[{index}]", size, errors)
        return errors

    def check(self):
        errors = self.validate()
        if errors:
            raise RichMenuInvalid(errors)
        return self


def _validate_size(raw, width_height, errors):
    if raw is None:
        errors.append(("size", REQUIRED))
        return None
    width, height = width_height
    usable = True
    for key, value in (("width", width), ("height", height)):
        if not _is_int(value):
            errors.append((f"size.{key}", "must be an integer" if value is not None else REQUIRED))
            usable = False
    if not usable:
        return None
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        errors.append(("size.width", f"must be between {MIN_WIDTH} and {MAX_WIDTH} (got {width})"))
    if height < MIN_HEIGHT:
        errors.append(("size.height", f"must be at least {MIN_HEIGHT} (got {height})"))
    if height > 0 and width / height < MIN_RATIO:
        errors.append(("size", f"width / height must be at least {MIN_RATIO}; {width}x{height} "
                               f"is {width / height:.3f}"))
    return width, height


def _validate_area(area, prop, size, errors):
    if not isinstance(area, dict):
        errors.append((prop, "must be an object with bounds and action"))
        return
    bounds = area.get("bounds")
    if not isinstance(bounds, dict):
        errors.append((f"{prop}.bounds", REQUIRED if bounds is None else "must be an object"))
    else:
        _validate_bounds(bounds, f"{prop}.bounds", size, errors)
    action = area.get("action")
    if action is None:
        errors.append((f"{prop}.action", REQUIRED))
    else:
        errors.extend(validate_action(action, f"{prop}.action"))


def _validate_bounds(bounds, prop, size, errors):
    values = {}
    for key, low in (("x", 0), ("y", 0), ("width", 1), ("height", 1)):
        value = bounds.get(key)
        if not _is_int(value):
            errors.append((f"{prop}.{key}", REQUIRED if value is None else "must be an integer"))
        elif value < low:
            errors.append((f"{prop}.{key}", f"must be at least {low}"))
        else:
            values[key] = value
    if len(values) < 4 or size is None:
        return
    width, height = size
    if values["x"] + values["width"] > width:
        errors.append((prop, f"the area runs outside the image: x + width = "
                             f"{values['x'] + values['width']} > {width}"))
    if values["y"] + values["height"] > height:
        errors.append((prop, f"the area runs outside the image: y + height = "
                             f"{values['y'] + values['height']} > {height}"))


# Actions -----------------------------------------------------------------------------------------
def validate_action(action, prop="action"):
    """Problems of one action placed in a rich-menu area (https://developers.line.biz/en/reference/messaging-api/#action-objects)."""
    if not isinstance(action, dict):
        return [(prop, "must be an action object")]
    kind = action.get("type")
    if kind not in ACTION_TYPES:
        message = REQUIRED if kind is None else (f"{kind!r} is not a rich-menu action; use one "
                                                 f"of {', '.join(ACTION_TYPES)}")
        return [(f"{prop}.type", message)]
    errors = []
    label_required = kind in ("camera", "cameraRoll", "location")
    _text(action, "label", f"{prop}.label", errors, LABEL_MAX, required=label_required,
          min_len=1 if label_required else 0)
    if kind == "postback":
        _text(action, "data", f"{prop}.data", errors, DATA_MAX, required=True)
        _text(action, "displayText", f"{prop}.displayText", errors, DATA_MAX)
        _text(action, "text", f"{prop}.text", errors, DATA_MAX)
        if action.get("displayText") is not None and action.get("text") is not None:
            errors.append((f"{prop}.text", "use displayText or the deprecated text, not both"))
        option = action.get("inputOption")
        if option is not None and option not in INPUT_OPTIONS:
            errors.append((f"{prop}.inputOption", "must be one of " + ", ".join(INPUT_OPTIONS)))
        if _text(action, "fillInText", f"{prop}.fillInText", errors, DATA_MAX) is not None \
                and option != "openKeyboard":
            errors.append((f"{prop}.fillInText", "only allowed with inputOption openKeyboard"))
    elif kind == "message":
        _text(action, "text", f"{prop}.text", errors, DATA_MAX, required=True, min_len=1)
    elif kind == "uri":
        _validate_uri(action.get("uri"), f"{prop}.uri", errors, required=True)
        alt = action.get("altUri")
        if alt is not None:
            if isinstance(alt, dict):
                _validate_uri(alt.get("desktop"), f"{prop}.altUri.desktop", errors)
            else:
                errors.append((f"{prop}.altUri", "must be an object with desktop"))
    elif kind == "datetimepicker":
        _text(action, "data", f"{prop}.data", errors, DATA_MAX, required=True)
        if action.get("mode") not in DATETIME_MODES:
            errors.append((f"{prop}.mode", "must be one of " + ", ".join(DATETIME_MODES)))
    elif kind == "richmenuswitch":
        _text(action, "data", f"{prop}.data", errors, DATA_MAX, required=True)
        alias = action.get("richMenuAliasId")
        if alias is None:
            errors.append((f"{prop}.richMenuAliasId", REQUIRED))
        elif not (isinstance(alias, str) and ALIAS_ID.match(alias)):
            errors.append((f"{prop}.richMenuAliasId", "must match ^[a-z0-9_-]{1,32}$"))
    elif kind == "clipboard":
        _text(action, "clipboardText", f"{prop}.clipboardText", errors, CLIPBOARD_MAX,
              required=True, min_len=1)
    return errors


def _validate_uri(value, prop, errors, required=False):
    if value is None:
        if required:
            errors.append((prop, REQUIRED))
        return
    if not isinstance(value, str):
        errors.append((prop, "must be a string"))
        return
    if len(value) > URI_MAX:
        errors.append((prop, f"must be at most {URI_MAX} characters (got {len(value)})"))
    scheme, colon, rest = value.partition(":")
    if not colon or scheme.lower() not in URI_SCHEMES or not rest:
        errors.append((prop, "the scheme must be http, https, line or tel"))
    elif any(ord(ch) > 127 or ch.isspace() for ch in value):
        errors.append((prop, "percent-encode spaces and non-ASCII characters (UTF-8)"))


def check_alias_id(alias_id):
    if not (isinstance(alias_id, str) and ALIAS_ID.match(alias_id)):
        raise RichMenuInvalid([("richMenuAliasId", "must match ^[a-z0-9_-]{1,32}$")])
    return alias_id


# Images ------------------------------------------------------------------------------------------
# JPEG start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01} | set(range(0xD0, 0xD8))  # markers without a length field


def image_info(data):
    """``(content_type, width, height)`` from a PNG/JPEG header, or None if unreadable."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        if len(data) < 24 or data[12:16] != b"IHDR":
            return None
        width, height = struct.unpack(">II", data[16:24])
        return PNG, width, height
    if not data.startswith(b"\xff\xd8\xff"):
        return None
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        while pos < len(data) and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= len(data):
            return None
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # end of image / scan data before any frame header
            return None
        (length,) = struct.unpack(">H", data[pos:pos + 2])
        if marker in _SOF_MARKERS:
            if pos + 7 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 3:pos + 7])
            return JPEG, width, height
        pos += length
    return None


def check_image(data, size):
    """The image's Content-Type if LINE would accept it for a menu of ``size`` (width, height);
    :class:`RichMenuInvalid` otherwise."""
    if not isinstance(data, (bytes, bytearray)):
        # The SDK treats a str body as a file path: only bytes are ever uploaded.
        raise RichMenuInvalid([("image", "must be the image bytes (PNG or JPEG)")])
    data = bytes(data)
    errors = []
    if len(data) > MAX_IMAGE_BYTES:
        errors.append(("image", f"must be at most 1 MB ({MAX_IMAGE_BYTES} bytes), got "
                                f"{len(data)} bytes"))
    info = image_info(data)
    if info is None:
        errors.append(("image", "must be a PNG or JPEG image (unreadable header)"))
        raise RichMenuInvalid(errors)
    content_type, width, height = info
    if tuple(size) != (width, height):
        errors.append(("image", f"is {width}x{height} px but the rich menu is "
                                f"{size[0]}x{size[1]}"))
    if errors:
        raise RichMenuInvalid(errors)
    return content_type


__all__ = ["RichMenuSpec", "RichMenuInvalid", "validate_action", "check_alias_id", "check_image",
           "image_info"]
