"""Building and checking the LINE messages of a mailing (pure functions, no ORM).

The limits are LINE's (``line_idlink``'s builders know them): a text is at most 5,000 UTF-16
code units, a request carries 1 to 5 messages, a Flex bubble is at most 30 kB of JSON (a
carousel 50 kB), an altText at most 400 characters, an image URL is https and at most 2,000
characters.
"""

import json
from urllib.parse import urlsplit

from line_idlink import message_builders as builders

MAX_MESSAGES = 5
IMAGE_URL_MAX = 2000
MULTICAST_MAX = 500


def u16len(text):
    return builders.u16len(text or "")


class ContentError(ValueError):
    """The content breaks one of LINE's limits: ``key`` names which one and ``params`` the
    figures; the model turns them into a translated sentence for the marketer."""

    def __init__(self, key, **params):
        super().__init__(key, params)
        self.key = key
        self.params = params


def parse_flex(flex_json):
    """The Flex JSON of a mailing -> the ``contents`` dict (a bubble or a carousel)."""
    try:
        contents = json.loads(flex_json)
    except ValueError as exc:
        raise ContentError("flex_json", error=str(exc)) from None
    if not isinstance(contents, dict) or contents.get("type") not in ("bubble", "carousel"):
        raise ContentError("flex_type")
    return contents


def button_message(label, url, prompt):
    """A buttons template with one URL button: ``prompt`` (at most 160 characters) above a
    button ``label`` (at most 20) opening ``url`` (https, at most 1,000)."""
    if not label or not label.strip() or u16len(label) > builders.TEMPLATE_LABEL_MAX:
        raise ContentError("button_label", max=builders.TEMPLATE_LABEL_MAX)
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc \
            or len(url) > builders.URI_MAX or any(ord(c) <= 32 or ord(c) > 126 for c in url):
        raise ContentError("button_url", max=builders.URI_MAX)
    prompt = (prompt or label).strip()
    if u16len(prompt) > builders.BUTTONS_TEXT_MAX:
        raise ContentError("button_prompt", size=u16len(prompt), max=builders.BUTTONS_TEXT_MAX)
    return {"type": "template", "altText": prompt,
            "template": {"type": "buttons", "text": prompt,
                         "actions": [{"type": "uri", "label": label.strip(), "uri": url}]}}


def build_messages(text=None, image_url=None, flex_json=None, alt_text=None, button=None):
    """The LINE message list of one recipient; :class:`ContentError` naming the broken limit.
    ``button``: (label, url, prompt) of an optional URL button sent last."""
    messages = []
    if text and text.strip():
        size = u16len(text)
        if size > builders.TEXT_MAX:
            raise ContentError("text_size", size=size, max=builders.TEXT_MAX)
        messages.append({"type": "text", "text": text})
    if image_url:
        parts = urlsplit(image_url)
        if parts.scheme != "https" or not parts.netloc or len(image_url) > IMAGE_URL_MAX:
            raise ContentError("image_url", max=IMAGE_URL_MAX)
        messages.append({"type": "image", "originalContentUrl": image_url,
                         "previewImageUrl": image_url})
    if flex_json and flex_json.strip():
        contents = parse_flex(flex_json)
        limit = (builders.FLEX_CAROUSEL_BYTES if contents["type"] == "carousel"
                 else builders.FLEX_BUBBLE_BYTES)
        size = builders.json_size(contents)
        if size > limit:
            raise ContentError("flex_size", size=size, max=limit)
        alt = (alt_text or "").strip() or (text or "").strip()[:builders.ALT_TEXT_MAX]
        if not alt:
            raise ContentError("alt_missing")
        if u16len(alt) > builders.ALT_TEXT_MAX:
            raise ContentError("alt_size", size=u16len(alt), max=builders.ALT_TEXT_MAX)
        messages.append({"type": "flex", "altText": alt, "contents": contents})
    if button and (button[0] or button[1]):
        messages.append(button_message(*button))
    if not messages:
        raise ContentError("empty")
    if len(messages) > MAX_MESSAGES:
        raise ContentError("too_many", max=MAX_MESSAGES)
    return messages


def canonical(messages):
    """One string per distinct message list (grouping identical bodies into multicasts)."""
    return json.dumps(messages, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
