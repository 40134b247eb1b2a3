"""Building and checking the LINE messages of a mailing (pure functions, no ORM).

The limits are LINE's (``line_idlink``'s builders know them): a text is at most 5,000 UTF-16
code units, a request carries 1 to 5 messages, a Flex bubble is at most 30 kB of JSON (a
carousel 50 kB), an altText at most 400 characters, an image URL is https and at most 2,000
characters, a buttons template has 1 to 4 buttons (labels of at most 20 characters, postback data
and display text at most 300, URLs https and at most 1,000 characters).
"""

import json
from urllib.parse import urlsplit

from line_idlink import message_builders as builders

MAX_MESSAGES = 5
IMAGE_URL_MAX = 2000
MULTICAST_MAX = 500
BUTTONS_MAX = 4  # actions of a buttons template (LINE)


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


def _check_url(url, https_only=False):
    parts = urlsplit(url or "")
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme not in schemes or not parts.netloc \
            or len(url) > builders.URI_MAX or any(ord(c) <= 32 or ord(c) > 126 for c in url):
        raise ContentError("button_url_https" if https_only else "button_url",
                           max=builders.URI_MAX)


def _check_label(label):
    if not label or not label.strip() or u16len(label) > builders.TEMPLATE_LABEL_MAX:
        raise ContentError("button_label", max=builders.TEMPLATE_LABEL_MAX)
    return label.strip()


def button_action(button):
    """One action of the buttons template from ``button``, a dict: ``kind`` "url" (``label``,
    ``url``: https) or "postback" (``label``, ``data``: at most 300 characters, optional
    ``display_text``: at most 300, optional ``answer``: the chat's answer, a text)."""
    label = _check_label(button.get("label"))
    if button.get("kind") == "postback":
        data = button.get("data") or ""
        if not data or u16len(data) > builders.DATA_MAX:
            raise ContentError("button_data", max=builders.DATA_MAX)
        action = {"type": "postback", "label": label, "data": data}
        display = (button.get("display_text") or "").strip()
        if u16len(display) > builders.DATA_MAX:
            raise ContentError("button_display", size=u16len(display), max=builders.DATA_MAX)
        if display:
            action["displayText"] = display
        answer = button.get("answer") or ""
        if u16len(answer) > builders.TEXT_MAX:
            raise ContentError("button_answer", size=u16len(answer), max=builders.TEXT_MAX)
        return action
    url = button.get("url") or ""
    _check_url(url, https_only=button.get("https_only", True))
    return {"type": "uri", "label": label, "uri": url}


def buttons_message(buttons, prompt):
    """A buttons template: ``prompt`` (at most 160 characters; default: the first label) above
    1 to 4 buttons (LINE's limit), each a dict for :func:`button_action`."""
    if len(buttons) > BUTTONS_MAX:
        raise ContentError("buttons_count", count=len(buttons), max=BUTTONS_MAX)
    actions = [button_action(button) for button in buttons]
    prompt = (prompt or actions[0]["label"]).strip()
    if u16len(prompt) > builders.BUTTONS_TEXT_MAX:
        raise ContentError("button_prompt", size=u16len(prompt), max=builders.BUTTONS_TEXT_MAX)
    return {"type": "template", "altText": prompt,
            "template": {"type": "buttons", "text": prompt, "actions": actions}}


def build_messages(text=None, image_url=None, flex_json=None, alt_text=None, buttons=None):
    """The LINE message list of one recipient; :class:`ContentError` naming the broken limit.
    ``buttons``: (prompt, [button dicts]) of an optional buttons template sent last."""
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
    if buttons and buttons[1]:
        messages.append(buttons_message(buttons[1], buttons[0]))
    if not messages:
        raise ContentError("empty")
    if len(messages) > MAX_MESSAGES:
        raise ContentError("too_many", max=MAX_MESSAGES)
    return messages


def canonical(messages):
    """One string per distinct message list (grouping identical bodies into multicasts)."""
    return json.dumps(messages, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
