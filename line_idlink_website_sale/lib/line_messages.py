"""The LINE messages of the shop: a Flex bubble with a text and one button to a page."""

ALT_TEXT_MAX = 400   # LINE's limit for altText (UTF-16 code units)
LABEL_MAX = 40       # a Flex button's label


def _u16_cut(text, limit):
    """``text`` cut to at most ``limit`` UTF-16 code units (LINE counts these), with "…"."""
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    out, size = [], 0
    for char in text:
        width = len(char.encode("utf-16-le")) // 2
        if size + width > limit - 1:
            break
        out.append(char)
        size += width
    return "".join(out) + "…"


def link_bubble(text, label, url, title=None):
    """A Flex message: optional bold ``title``, the ``text`` (wrapped) and a button ``label``
    opening ``url``; its altText (the notification and chat-list preview) is the text."""
    body = []
    if title:
        body.append({"type": "text", "text": title, "weight": "bold", "size": "md",
                     "wrap": True})
    body.append({"type": "text", "text": text, "wrap": True, "size": "sm"})
    return {
        "type": "flex",
        "altText": _u16_cut(" ".join(((title or "") + " " + text).split()), ALT_TEXT_MAX),
        "contents": {
            "type": "bubble",
            "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": body},
            "footer": {"type": "box", "layout": "vertical", "contents": [{
                "type": "button", "style": "primary", "color": "#06C755",
                "action": {"type": "uri", "label": _u16_cut(label, LABEL_MAX), "uri": url},
            }]},
        },
    }
