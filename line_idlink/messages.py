"""Message builders for the account-link flow and the in-chat services, as LINE JSON dicts
(send them with line-bot-sdk through ``Message.from_dict``). Every builder checks LINE's size
limits and raises :class:`MessageTooLarge` (or ``ValueError`` for other bad input) with a clear
message. Texts are Japanese by default; pass ``lang="en"`` for English.

Postback data lives here once (``POSTBACK_*``); :func:`parse_postback` reads it back.

Undocumented behaviour chosen here
----------------------------------
* Every length is counted in UTF-16 code units, as LINE counts the text message's 5,000.
* "30 KB"/"50 KB" (Flex) are taken as 30,000/50,000 bytes of compact UTF-8 JSON: stricter than
  the emulator's KiB reading, so whatever passes here passes under both readings.
* An empty order list is answered with a text message, not an empty carousel (LINE refuses
  carousels without bubbles).
"""

import json
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

TEXT_MAX = 5000
ALT_TEXT_MAX = 400
DATA_MAX = 300  # postback data and displayText
URI_MAX = 1000
TEMPLATE_LABEL_MAX = 20
FLEX_LABEL_MAX = 40
BUTTONS_TEXT_MAX, BUTTONS_TEXT_WITH_TITLE_MAX, TITLE_MAX = 160, 60, 40
CONFIRM_TEXT_MAX = 240
QUICK_REPLY_MAX = 13
FLEX_BUBBLE_BYTES = 30_000
FLEX_CAROUSEL_BYTES = 50_000
FLEX_CAROUSEL_BUBBLES = 12
LANGS = ("ja", "en")

POSTBACK_LINK = "action=link"
POSTBACK_UNLINK = "action=unlink"  # asks "unlink?" (confirm template)
POSTBACK_UNLINK_CONFIRM = "action=unlink_confirm"  # the "yes" of that question
POSTBACK_UNLINK_CANCEL = "action=unlink_cancel"
POSTBACK_ORDERS = "action=orders"
POSTBACK_INVOICES = "action=invoices"
POSTBACK_BALANCE = "action=balance"
POSTBACK_POINTS = "action=points"
POSTBACK_MEMBER_CARD = "action=member_card"
ACTIONS = ("link", "unlink", "unlink_confirm", "unlink_cancel", "orders", "invoices", "balance",
           "points", "member_card")


class MessageTooLarge(ValueError):
    pass


_TEXTS = {
    "ja": {
        "link_alt": "LINEアカウントを連携してください",
        "link_title": "アカウント連携",
        "link_text": "ボタンを押して、ログインのうえ連携を完了してください（10分間有効）。",
        "link_label": "連携する",
        "prompt_text": "この機能を使うには、まずアカウントを連携してください。",
        "linked": "アカウント連携が完了しました。",
        "linked_named": "{name}様、アカウント連携が完了しました。",
        "how_to_unlink": "連携はいつでも解除できます。メニューの「連携解除」を押すか、"
                         "下の「連携解除」ボタンを押してください。",
        "unlink_label": "連携解除",
        "unlinked": "アカウント連携を解除しました。再び連携するには「連携する」を押してください。",
        "unlink_question": "LINEとアカウントの連携を解除しますか？",
        "yes": "解除する", "no": "やめる",
        "unlink_kept": "連携はそのままです。解除するには、メニューの「連携解除」を押してください。",
        "orders_alt": "ご注文履歴", "orders_none": "ご注文はまだありません。",
        "order_date": "注文日", "order_total": "合計", "order_state": "状況", "details": "詳細を見る",
        "balance_alt": "ご利用残高", "balance_title": "残高", "as_of": "{date}時点",
        "points_alt": "ポイント残高", "points_title": "ポイント", "points_unit": "{n}ポイント",
        "tier": "ランク", "card_alt": "会員証", "card_title": "会員証", "customer_no": "会員番号",
        "open_card": "会員証を表示",
    },
    "en": {
        "link_alt": "Link your LINE account",
        "link_title": "Link your account",
        "link_text": "Tap below, log in and confirm (valid for 10 minutes).",
        "link_label": "Link account",
        "prompt_text": "Please link your account first to use this feature.",
        "linked": "Your account is now linked.",
        "linked_named": "{name}, your account is now linked.",
        "how_to_unlink": "You can unlink at any time: tap \"Unlink\" in the menu or the button "
                         "below.",
        "unlink_label": "Unlink",
        "unlinked": "Your account is no longer linked. Tap \"Link account\" to link it again.",
        "unlink_question": "Unlink your LINE account from your customer account?",
        "yes": "Unlink", "no": "Cancel",
        "unlink_kept": "Your account stays linked. To unlink it, tap \"Unlink\" in the menu.",
        "orders_alt": "Your orders", "orders_none": "You have no orders yet.",
        "order_date": "Date", "order_total": "Total", "order_state": "Status",
        "details": "View details",
        "balance_alt": "Your balance", "balance_title": "Balance", "as_of": "as of {date}",
        "points_alt": "Your points", "points_title": "Points", "points_unit": "{n} points",
        "tier": "Tier", "card_alt": "Member card", "card_title": "Member card",
        "customer_no": "Customer number", "open_card": "Show member card",
    },
}


def _t(lang, key, **values):
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    return _TEXTS[lang][key].format(**values)


def u16len(text):
    """Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(value, limit, what, error=ValueError):
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string")
    if u16len(value) > limit:
        raise error(f"{what} is {u16len(value)} characters; LINE allows at most {limit}")
    return value


def json_size(value):
    """Bytes of compact UTF-8 JSON, how Flex sizes are measured."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


# Postbacks ---------------------------------------------------------------------------------------
def postback_data(action, **params):
    """``action=orders&page=2``: the postback data of an action with extra parameters."""
    if action not in ACTIONS:
        raise ValueError(f"unknown postback action {action!r}; known: {ACTIONS}")
    data = urlencode({"action": action, **{k: str(v) for k, v in params.items()}})
    return _fit(data, DATA_MAX, "postback data", MessageTooLarge)


def parse_postback(data):
    """``"action=orders&page=2"`` -> ``{"action": "orders", "page": "2"}``. Garbage (not a
    string, too long) gives ``{}``; never raises, since the data comes back from the chat."""
    if not isinstance(data, str) or u16len(data) > DATA_MAX:
        return {}
    return dict(parse_qsl(data, keep_blank_values=True))


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


_FLEX = ("order_list", "balance", "points", "member_card", "format_amount")


def __getattr__(name):
    """The Flex builders live in :mod:`.messages_flex` (imported on first use: it needs the
    helpers above, so a plain import here would be circular)."""
    if name in _FLEX:
        from . import messages_flex

        return getattr(messages_flex, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "MessageTooLarge", "text", "buttons", "link_url", "link_account", "link_first", "link_done",
    "unlink_done", "unlink_question", "unlink_kept", "order_list", "balance", "points",
    "member_card", "format_amount", "postback_data", "parse_postback", "postback_action", "uri_action",
    "quick_reply", "u16len", "json_size",
] + [name for name in dir() if name.startswith("POSTBACK_")]
