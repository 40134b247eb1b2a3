"""Texts and limits shared by the message builders (:mod:`line_idlink.message_builders`,
:mod:`line_idlink.flex_builders`) and the postback codec (:mod:`line_idlink.postbacks`): LINE's size
limits, the Japanese/English text table and the length checks. A leaf module: it imports nothing
from the package.

Every length is counted in UTF-16 code units, as LINE counts the text message's 5,000. "30 KB"/"50 KB"
(Flex) are taken as 30,000/50,000 bytes of compact UTF-8 JSON.
"""

import json

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
        "invoices_alt": "未払いの請求書", "invoices_none": "お支払いが必要な請求書はありません。",
        "invoice_due": "お支払期限", "invoice_amount": "ご請求額", "overdue": "期限超過",
        "pay": "支払う",
        "cart_alt": "カートに商品が残っています", "cart_title": "カートに商品が残っています",
        "cart_total": "合計", "cart_more": "ほか{n}点", "cart_resume": "カートに戻る",
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
        "invoices_alt": "Your open invoices", "invoices_none": "You have no invoices to pay.",
        "invoice_due": "Due", "invoice_amount": "Amount due", "overdue": "Overdue",
        "pay": "Pay",
        "cart_alt": "Your cart is waiting", "cart_title": "Your cart is waiting",
        "cart_total": "Total", "cart_more": "and {n} more", "cart_resume": "Resume my order",
    },
}


def _t(lang, key, **values):
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    return _TEXTS[lang][key].format(**values)


def u16len(text):
    """Length as LINE counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def u16clip(text, limit):
    """``text`` cut to at most ``limit`` UTF-16 code units (LINE counts these), ending with "…"
    when it was cut: for texts taken from customer data that must fit a LINE field."""
    text = str(text)
    if u16len(text) <= limit:
        return text
    out, size = [], 0
    for char in text:
        width = u16len(char)
        if size + width > limit - 1:
            break
        out.append(char)
        size += width
    return "".join(out) + "…"


def _fit(value, limit, what, error=ValueError):
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string")
    if u16len(value) > limit:
        raise error(f"{what} is {u16len(value)} characters; LINE allows at most {limit}")
    return value


def json_size(value):
    """Bytes of compact UTF-8 JSON, how Flex sizes are measured."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
