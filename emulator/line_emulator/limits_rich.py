"""Limits of the structured message types: imagemap, template (buttons, confirm, carousel,
image carousel) and Flex (bubble, carousel, components). See :mod:`.limits` for the rules shared
by every message and for the choices made where LINE documents nothing.
"""

import json

from .limits import (ALT_TEXT_MAX, COLOR, FLEX_BUBBLE_BYTES, FLEX_CAROUSEL_BUBBLES,
                     FLEX_CAROUSEL_BYTES, _action_field, _image, validate_action)


def _imagemap(c, m, prop):
    c.https_url(m, "baseUrl", prop, required=True)
    c.string(m, "altText", prop, required=True, max_len=ALT_TEXT_MAX)
    size = m.get("baseSize")
    if size is None:
        c.add(f"{prop}.baseSize", "must be specified")
    elif c.obj(size, f"{prop}.baseSize"):
        width = c.integer(size, "width", f"{prop}.baseSize", required=True)
        c.integer(size, "height", f"{prop}.baseSize", required=True, minimum=1)
        if isinstance(width, int) and width != 1040:
            c.add(f"{prop}.baseSize.width", "must be 1040")
    for i, action in enumerate(c.array(m, "actions", prop, required=True, max_items=50)):
        where = f"{prop}.actions[{i}]"
        if not c.obj(action, where):
            continue
        kind = c.enum(action, "type", where, ("uri", "message", "clipboard"), required=True)
        c.string(action, "label", where, max_len=50)
        if kind == "uri":
            c.uri(action, "linkUri", where, required=True)
        elif kind == "message":
            c.string(action, "text", where, required=True, max_len=400)
        elif kind == "clipboard":
            c.string(action, "clipboardText", where, required=True, max_len=1000)
        _area(c, action.get("area"), f"{where}.area")
    video = m.get("video")
    if video is not None and c.obj(video, f"{prop}.video"):
        _image(c, video, f"{prop}.video")
        _area(c, video.get("area"), f"{prop}.video.area")


def _area(c, area, prop):
    if area is None:
        c.add(prop, "must be specified")
    elif c.obj(area, prop):
        for key in ("x", "y"):
            c.integer(area, key, prop, required=True, minimum=0)
        for key in ("width", "height"):
            c.integer(area, key, prop, required=True, minimum=1)


def _template(c, m, prop):
    c.string(m, "altText", prop, required=True, max_len=ALT_TEXT_MAX)
    template = c.member(m, "template", prop)
    where = f"{prop}.template"
    if template is None:
        return
    kind = c.enum(template, "type", where, ("buttons", "confirm", "carousel", "image_carousel"),
                  required=True)
    if kind == "buttons":
        _column(c, template, where, text_max=160, max_actions=4)
        c.enum(template, "imageAspectRatio", where, ("rectangle", "square"))
        c.enum(template, "imageSize", where, ("cover", "contain"))
    elif kind == "confirm":
        c.string(template, "text", where, required=True, max_len=240)
        for i, action in enumerate(c.array(template, "actions", where, required=True,
                                           min_items=2, max_items=2)):
            c.errors += validate_action(action, f"{where}.actions[{i}]", "template")
    elif kind == "carousel":
        columns = c.array(template, "columns", where, required=True, min_items=1, max_items=10)
        for i, column in enumerate(columns):
            if c.obj(column, f"{where}.columns[{i}]"):
                _column(c, column, f"{where}.columns[{i}]", text_max=120, max_actions=3)
        counts = {len(col.get("actions") or []) for col in columns if isinstance(col, dict)}
        if len(counts) > 1:
            c.add(f"{where}.columns", "every column must have the same number of actions")
        c.enum(template, "imageAspectRatio", where, ("rectangle", "square"))
        c.enum(template, "imageSize", where, ("cover", "contain"))
    elif kind == "image_carousel":
        columns = c.array(template, "columns", where, required=True, min_items=1, max_items=10)
        for i, column in enumerate(columns):
            col = f"{where}.columns[{i}]"
            if c.obj(column, col):
                c.https_url(column, "imageUrl", col, required=True)
                c.errors += _action_field(column, col, "imagecarousel")


def _column(c, column, prop, text_max, max_actions):
    """A buttons template or a carousel column: text is shorter when an image or title is shown."""
    c.https_url(column, "thumbnailImageUrl", prop)
    color = c.string(column, "imageBackgroundColor", prop)
    if isinstance(color, str) and not COLOR.match(color):
        c.add(f"{prop}.imageBackgroundColor", "must be a color such as #FFFFFF")
    c.string(column, "title", prop, max_len=40)
    limit = 60 if column.get("thumbnailImageUrl") or column.get("title") else text_max
    c.string(column, "text", prop, required=True, max_len=limit)
    c.errors += _action_field(column, prop, "template", key="defaultAction", required=False,
                              label_required=False)
    for i, action in enumerate(c.array(column, "actions", prop, required=True, min_items=1,
                                       max_items=max_actions)):
        c.errors += validate_action(action, f"{prop}.actions[{i}]", "template")


def _json_bytes(value):
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _flex(c, m, prop):
    c.string(m, "altText", prop, required=True, max_len=ALT_TEXT_MAX)
    contents = c.member(m, "contents", prop)
    where = f"{prop}.contents"
    if contents is None:
        return
    kind = c.enum(contents, "type", where, ("bubble", "carousel"), required=True)
    if kind == "bubble":
        _bubble(c, contents, where)
    elif kind == "carousel":
        bubbles = c.array(contents, "contents", where, required=True, min_items=1,
                          max_items=FLEX_CAROUSEL_BUBBLES)
        if _json_bytes(contents) > FLEX_CAROUSEL_BYTES:
            c.add(where, f"A Flex carousel must be at most {FLEX_CAROUSEL_BYTES} bytes of JSON")
        for i, bubble in enumerate(bubbles):
            bubble_prop = f"{where}.contents[{i}]"
            if c.obj(bubble, bubble_prop):
                c.enum(bubble, "type", bubble_prop, ("bubble",), required=True)
                _bubble(c, bubble, bubble_prop)


def _bubble(c, bubble, prop):
    if _json_bytes(bubble) > FLEX_BUBBLE_BYTES:
        c.add(prop, f"A Flex bubble must be at most {FLEX_BUBBLE_BYTES} bytes of JSON")
    c.enum(bubble, "size", prop, ("nano", "micro", "deca", "hecto", "kilo", "mega", "giga"))
    c.enum(bubble, "direction", prop, ("ltr", "rtl"))
    for block in ("header", "body", "footer"):
        if bubble.get(block) is not None:
            _component(c, bubble[block], f"{prop}.{block}", allowed=("box",))
    if bubble.get("hero") is not None:
        _component(c, bubble["hero"], f"{prop}.hero", allowed=("box", "image", "video"))
    c.errors += _action_field(bubble, prop, "flex", required=False)


FLEX_COMPONENTS = ("box", "button", "image", "video", "icon", "text", "span", "separator",
                   "filler")


def _component(c, comp, prop, allowed=FLEX_COMPONENTS):
    if not c.obj(comp, prop):
        return
    kind = c.enum(comp, "type", prop, allowed, required=True)
    if kind == "box":
        c.enum(comp, "layout", prop, ("horizontal", "vertical", "baseline"), required=True)
        for i, child in enumerate(c.array(comp, "contents", prop, required=True)):
            _component(c, child, f"{prop}.contents[{i}]")
    elif kind == "button":
        c.errors += _action_field(comp, prop, "flex", label_required=True)
        return
    elif kind in ("image", "icon"):
        c.https_url(comp, "url", prop, required=True)
    elif kind == "video":
        c.https_url(comp, "url", prop, required=True)
        c.https_url(comp, "previewUrl", prop, required=True)
        if comp.get("altContent") is None:
            c.add(f"{prop}.altContent", "must be specified")
    elif kind == "text":
        if comp.get("text") is None and not comp.get("contents"):
            c.add(f"{prop}.text", "must be specified (or contents with spans)")
        c.string(comp, "text", prop, min_len=0)
        for i, span in enumerate(c.array(comp, "contents", prop)):
            _component(c, span, f"{prop}.contents[{i}]", allowed=("span",))
    elif kind == "span":
        c.string(comp, "text", prop, required=True, min_len=0)
    c.errors += _action_field(comp, prop, "flex", required=False)


RICH_CHECKS = {"imagemap": _imagemap, "template": _template, "flex": _flex}
