"""The links a user can open in a message the bot sent (a leaf module: imports nothing of the
emulator). Used for the clicks of :meth:`SimUser.open_url` (see ``users.py``)."""

import re

_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"]+")
_URI_KEYS = ("uri", "linkUri")


def message_urls(message):
    """The URLs a user can open in one message: links in a text, ``uri`` actions anywhere
    (``uri``/``linkUri`` keys of templates, Flex and imagemap messages)."""
    found = []
    if message.get("type") in ("text", "textV2"):
        found += _URL_IN_TEXT.findall(message.get("text") or "")

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key in _URI_KEYS and isinstance(item, str):
                    found.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk({k: v for k, v in message.items() if k != "text"})
    return found
