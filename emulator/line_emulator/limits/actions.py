"""Action objects (postback, message, uri, datetimepicker, richmenuswitch, ...) in each context
where LINE allows them: rich menus, templates, quick replies, Flex and image carousels."""

from datetime import datetime

from .checker import ACTION_TYPES, ALIAS_ID, CONTEXTS, DATA_MAX, LABEL_MAX, QUICK_REPLY_ONLY, Check

def validate_action(action, prop, context):
    """Errors of one action object used in ``context`` (richmenu, template, quickreply, flex,
    imagecarousel): its type is allowed there, its label fits that context's limit, and its own
    fields (postback data, uri, ...) respect LINE's limits."""
    if context not in LABEL_MAX:
        raise ValueError(f"context must be one of {CONTEXTS}")
    return _action(action, prop, context, label_required=context in ("template", "quickreply"))


def _action(action, prop, context, label_required):
    c = Check()
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



def action_field(obj, prop, context, key="action", required=True, label_required=None):
    action = obj.get(key)
    if action is None:
        return [(f"{prop}.{key}", "must be specified")] if required else []
    if label_required is None:
        return validate_action(action, f"{prop}.{key}", context)
    return _action(action, f"{prop}.{key}", context, label_required)
