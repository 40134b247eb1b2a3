"""Message builders for the account-link flow and the in-chat services, as LINE JSON dicts
(send them with line-bot-sdk through ``Message.from_dict``). Every builder checks LINE's size
limits and raises :class:`MessageTooLarge` (or ``ValueError`` for other bad input) with a clear
message. Texts are Japanese by default; pass ``lang="en"`` for English.

Postback data lives in :mod:`line_idlink.postbacks`; the Flex builders (orders, balance, points,
member card) in :mod:`line_idlink.flex_builders`; texts and limits in :mod:`line_idlink.texts`.

Undocumented behaviour chosen here
----------------------------------
* Every length is counted in UTF-16 code units, as LINE counts the text message's 5,000.
* "30 KB"/"50 KB" (Flex) are taken as 30,000/50,000 bytes of compact UTF-8 JSON: stricter than
  the emulator's KiB reading, so whatever passes here passes under both readings.
* An empty order list is answered with a text message, not an empty carousel (LINE refuses
  carousels without bubbles).
"""

from urllib.parse import quote, urlsplit

from .postbacks import (POSTBACK_LINK, POSTBACK_UNLINK, POSTBACK_UNLINK_CANCEL,
                        POSTBACK_UNLINK_CONFIRM)
from .texts import (  # noqa: F401  (limits and checks re-exported for the builders' callers)
    ALT_TEXT_MAX, BUTTONS_TEXT_MAX, BUTTONS_TEXT_WITH_TITLE_MAX, CONFIRM_TEXT_MAX, DATA_MAX,
    FLEX_BUBBLE_BYTES, FLEX_CAROUSEL_BUBBLES, FLEX_CAROUSEL_BYTES, FLEX_LABEL_MAX, LANGS,
    QUICK_REPLY_MAX, TEMPLATE_LABEL_MAX, TEXT_MAX, TITLE_MAX, URI_MAX, MessageTooLarge, _fit, _t,
    json_size, u16len,
)


# Actions -----------------------------------------------------------------------------------------
def postback_action(label, data, display_text=None, label_max=TEMPLATE_LABEL_MAX):
    action = {"type": "postback", "label": _fit(label, label_max, "action label", MessageTooLarge),
              "data": _fit(data, DATA_MAX, "postback data", MessageTooLarge)}
    if display_text:
        action["displayText"] = _fit(display_text, DATA_MAX, "displayText", MessageTooLarge)
    return action


def uri_action(label, uri, label_max=TEMPLATE_LABEL_MAX):
    _fit(uri, URI_MAX, "URI", MessageTooLarge)
    if urlsplit(uri).scheme not in ("http", "https") or any(ord(c) <= 32 or ord(c) > 126
                                                            for c in uri):
        raise ValueError("URI must be an http(s) URL in ASCII without spaces (percent-encode)")
    return {"type": "uri", "label": _fit(label, label_max, "action label", MessageTooLarge),
            "uri": uri}


def quick_reply(*actions):
    if not 1 <= len(actions) <= QUICK_REPLY_MAX:
        raise MessageTooLarge(f"a quick reply has 1 to {QUICK_REPLY_MAX} items")
    return {"items": [{"type": "action", "action": action} for action in actions]}


# Text and templates ------------------------------------------------------------------------------
def text(body, quick=None):
    """A text message (≤5,000 UTF-16 units); ``quick`` is a :func:`quick_reply`."""
    message = {"type": "text", "text": _fit(body, TEXT_MAX, "text", MessageTooLarge)}
    if quick:
        message["quickReply"] = quick
    return message


def buttons(alt_text, body, actions, title=None):
    if not 1 <= len(actions) <= 4:
        raise MessageTooLarge("a buttons template has 1 to 4 actions")
    limit = BUTTONS_TEXT_WITH_TITLE_MAX if title else BUTTONS_TEXT_MAX
    template = {"type": "buttons", "text": _fit(body, limit, "buttons text", MessageTooLarge),
                "actions": list(actions)}
    if title:
        template["title"] = _fit(title, TITLE_MAX, "buttons title", MessageTooLarge)
    return {"type": "template", "altText": _fit(alt_text, ALT_TEXT_MAX, "altText",
                                                MessageTooLarge), "template": template}


def link_url(base_url, link_token):
    """``{base_url}/line/link?linkToken=...``: the page that starts linking on your site."""
    if not isinstance(link_token, str) or not link_token:
        raise ValueError("link token must be a non-empty string")
    return f"{base_url.rstrip('/')}/line/link?linkToken={quote(link_token, safe='')}"


def link_account(base_url, link_token, lang="ja"):
    """Buttons template with a URI button to :func:`link_url` (after issuing a link token)."""
    action = uri_action(_t(lang, "link_label"), link_url(base_url, link_token))
    return buttons(_t(lang, "link_alt"), _t(lang, "link_text"), [action],
                   title=_t(lang, "link_title"))


def link_first(lang="ja", reason=None):
    """"Please link first": a postback ``action=link`` button, so the token is issued on tap."""
    body = reason or _t(lang, "prompt_text")
    action = postback_action(_t(lang, "link_label"), POSTBACK_LINK, _t(lang, "link_label"))
    return buttons(_t(lang, "link_alt"), body, [action])


def link_done(lang="ja", customer_name=None):
    """Link confirmation; says how to unlink (LINE requires it) and offers an unlink button."""
    first = (_t(lang, "linked_named", name=customer_name) if customer_name
             else _t(lang, "linked"))
    unlink = postback_action(_t(lang, "unlink_label"), POSTBACK_UNLINK, _t(lang, "unlink_label"))
    return text(f"{first}\n{_t(lang, 'how_to_unlink')}", quick_reply(unlink))


def unlink_done(lang="ja"):
    link = postback_action(_t(lang, "link_label"), POSTBACK_LINK, _t(lang, "link_label"))
    return text(_t(lang, "unlinked"), quick_reply(link))


def unlink_question(lang="ja"):
    """Confirm template "unlink?": yes -> ``action=unlink_confirm``, no -> ``unlink_cancel``."""
    question = _fit(_t(lang, "unlink_question"), CONFIRM_TEXT_MAX, "confirm text")
    actions = [postback_action(_t(lang, "yes"), POSTBACK_UNLINK_CONFIRM, _t(lang, "yes")),
               postback_action(_t(lang, "no"), POSTBACK_UNLINK_CANCEL, _t(lang, "no"))]
    return {"type": "template", "altText": question,
            "template": {"type": "confirm", "text": question, "actions": actions}}


def unlink_kept(lang="ja"):
    """The answer to the unlink question's "no" (``action=unlink_cancel``): still linked."""
    return text(_t(lang, "unlink_kept"))


__all__ = [
    "MessageTooLarge", "text", "buttons", "link_url", "link_account", "link_first", "link_done",
    "unlink_done", "unlink_question", "unlink_kept", "postback_action", "uri_action",
    "quick_reply", "u16len", "json_size",
]
