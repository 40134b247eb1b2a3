"""The LINE messages of the shop: a Flex bubble with a text and one button to a page."""

from line_idlink.texts import u16clip

ALT_TEXT_MAX = 400   # LINE's limit for altText (UTF-16 code units)
LABEL_MAX = 40       # a Flex button's label


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
        "altText": u16clip(" ".join(((title or "") + " " + text).split()), ALT_TEXT_MAX),
        "contents": {
            "type": "bubble",
            "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": body},
            "footer": {"type": "box", "layout": "vertical", "contents": [{
                "type": "button", "style": "primary", "color": "#06C755",
                "action": {"type": "uri", "label": u16clip(label, LABEL_MAX), "uri": url},
            }]},
        },
    }
