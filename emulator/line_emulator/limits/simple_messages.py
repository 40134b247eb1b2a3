"""The simple message types: text, textV2, sticker, image, video, audio, location, coupon."""

import re

from .checker import EMOJIS_MAX, TEXT_MAX

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


def image(c, m, prop):
    c.https_url(m, "originalContentUrl", prop, required=True)
    c.https_url(m, "previewImageUrl", prop, required=True)


def _video(c, m, prop):
    image(c, m, prop)
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


SIMPLE_CHECKS = {
    "text": _text, "textV2": _text_v2, "sticker": _sticker, "image": image, "video": _video,
    "audio": _audio, "location": _location, "coupon": _coupon,
}
