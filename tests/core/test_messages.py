"""Message builders: LINE's limits, texts in ja/en, postback data, and validity checked by the
emulator's validator (the same rules it applies to real requests) and by the SDK's models."""

import json
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from linebot.v3.messaging import FlexMessage, Message, TemplateMessage, TextMessage

from line_idlink import flex_builders, message_builders, postbacks
from line_emulator.limits import validate_messages
from line_idlink.message_builders import MessageTooLarge

INVOICE = {"name": "INV/2026/0007", "due": date(2026, 10, 31), "amount_due": 5600,
           "overdue": True, "url": "https://shop.example/my/invoices/7"}
CART_ITEM = {"name": "緑茶", "quantity": 2}
ORDER = {"name": "S00042", "date": date(2026, 11, 1), "total": 12800, "state": "発送済み",
         "url": "https://shop.example/my/orders/42"}


def assert_valid(message, sdk_class):
    assert validate_messages([message]) == []
    model = Message.from_dict(message)
    assert isinstance(model, sdk_class)
    assert json.loads(model.to_json())["type"] == message["type"]


BUILDERS = {  # name -> (build(lang), SDK class)
    "text": (lambda lang: message_builders.text("こんにちは" if lang == "ja" else "hello"), TextMessage),
    "link_account": (lambda lang: message_builders.link_account("https://shop.example", "LT123", lang),
                     TemplateMessage),
    "link_first": (lambda lang: message_builders.link_first(lang), TemplateMessage),
    "link_done": (lambda lang: message_builders.link_done(lang, customer_name="山田"), TextMessage),
    "link_done_anonymous": (lambda lang: message_builders.link_done(lang), TextMessage),
    "unlink_done": (lambda lang: message_builders.unlink_done(lang), TextMessage),
    "unlink_question": (lambda lang: message_builders.unlink_question(lang), TemplateMessage),
    "unlink_kept": (lambda lang: message_builders.unlink_kept(lang), TextMessage),
    "orders": (lambda lang: flex_builders.order_list([ORDER] * 12, lang), FlexMessage),
    "orders_usd": (lambda lang: flex_builders.order_list([{**ORDER, "url": None}], lang, "USD"), FlexMessage),
    "balance": (lambda lang: flex_builders.balance(-1500, "JPY", date(2026, 11, 2), lang,
                                                   url="https://s.example/b"), FlexMessage),
    "balance_plain": (lambda lang: flex_builders.balance(10.5, "USD", lang=lang), FlexMessage),
    "points": (lambda lang: flex_builders.points(1234, lang, tier="Gold", as_of="2026-11-02"), FlexMessage),
    "points_plain": (lambda lang: flex_builders.points(0, lang), FlexMessage),
    "card": (lambda lang: flex_builders.member_card("C-0001", "Gold", 1234, lang, name="山田 花子",
                                                    url="https://liff.line.me/1234-abcd"), FlexMessage),
    "card_plain": (lambda lang: flex_builders.member_card("C-1", lang=lang), FlexMessage),
    "invoices": (lambda lang: flex_builders.invoice_list([INVOICE, {**INVOICE, "overdue": False,
                                                                    "url": None}] * 6, lang),
                 FlexMessage),
    "invoices_none": (lambda lang: flex_builders.invoice_list([], lang), TextMessage),
    "cart": (lambda lang: flex_builders.cart_reminder([CART_ITEM] * 7, 8400,
                                                      "https://shop.example/shop/cart?t=x", lang),
             FlexMessage),
}


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_builder_is_valid_for_line(name, lang):
    build, sdk_class = BUILDERS[name]
    assert_valid(build(lang), sdk_class)


# Link messages -----------------------------------------------------------------------------------
def test_link_account_button_opens_the_link_page_with_the_token():
    message = message_builders.link_account("https://shop.example/", "a+b/c=")
    [action] = message["template"]["actions"]
    parts = urlsplit(action["uri"])
    assert (parts.netloc, parts.path) == ("shop.example", "/line/link")
    assert parse_qs(parts.query) == {"linkToken": ["a+b/c="]}
    assert action["type"] == "uri" and action["label"] == "連携する"


def test_link_first_asks_with_a_link_postback():
    [action] = message_builders.link_first()["template"]["actions"]
    assert action["type"] == "postback" and action["data"] == postbacks.POSTBACK_LINK


@pytest.mark.parametrize("lang, words", [("ja", ["解除"]), ("en", ["unlink"])])
def test_link_confirmation_says_how_to_unlink(lang, words):
    message = message_builders.link_done(lang)
    assert all(word in message["text"].lower() for word in words)
    [item] = message["quickReply"]["items"]
    assert item["action"]["data"] == postbacks.POSTBACK_UNLINK


def test_unlink_question_is_a_confirm_template():
    template = message_builders.unlink_question()["template"]
    assert template["type"] == "confirm"
    assert [a["data"] for a in template["actions"]] == [postbacks.POSTBACK_UNLINK_CONFIRM,
                                                        postbacks.POSTBACK_UNLINK_CANCEL]


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="lang"):
        message_builders.link_done("fr")


# Limits ------------------------------------------------------------------------------------------
def test_text_limit_counts_utf16_units():
    assert message_builders.text("あ" * 5000)["text"]
    assert message_builders.text("😀" * 2500)  # 2 units each: exactly 5,000
    with pytest.raises(MessageTooLarge, match="5000"):
        message_builders.text("😀" * 2500 + "a")
    with pytest.raises(MessageTooLarge):
        message_builders.text("a" * 5001)
    with pytest.raises(ValueError):
        message_builders.text("")


def test_a_carousel_holds_at_most_12_orders():
    assert len(flex_builders.order_list([ORDER] * 12)["contents"]["contents"]) == 12
    with pytest.raises(MessageTooLarge, match="12"):
        flex_builders.order_list([ORDER] * 13)


def test_oversize_bubble_is_refused():
    with pytest.raises(MessageTooLarge, match="bubble"):
        flex_builders.order_list([{**ORDER, "name": "x" * 31_000}])


def test_oversize_carousel_is_refused():
    orders = [{**ORDER, "state": "y" * 4_500} for _ in range(12)]  # ~5 KB per bubble
    with pytest.raises(MessageTooLarge, match="carousel"):
        flex_builders.order_list(orders)


def test_no_orders_is_a_text_message():
    assert flex_builders.order_list([]) == {"type": "text", "text": "ご注文はまだありません。"}


def test_order_bubble_shows_the_order():
    bubble = flex_builders.order_list([ORDER])["contents"]["contents"][0]
    texts = json.dumps(bubble, ensure_ascii=False)
    for shown in ("S00042", "2026/11/01", "¥12,800", "発送済み"):
        assert shown in texts
    assert bubble["footer"]["contents"][0]["action"]["uri"] == ORDER["url"]


def test_label_and_uri_limits():
    with pytest.raises(MessageTooLarge, match="label"):
        message_builders.postback_action("x" * 21, "action=link")
    with pytest.raises(MessageTooLarge, match="URI"):
        message_builders.uri_action("go", "https://e.example/" + "a" * 1000)
    with pytest.raises(ValueError, match="http"):
        message_builders.uri_action("go", "javascript:alert(1)")
    with pytest.raises(ValueError, match="ASCII"):
        message_builders.uri_action("go", "https://e.example/日本")


@pytest.mark.parametrize("amount, currency, shown", [
    (1234, "JPY", "¥1,234"), (1234.5, "JPY", "¥1,235"), (-50, "JPY", "-¥50"),
    (12.5, "USD", "$12.50"), (1000, "THB", "1,000.00 THB"), ("¥ 9,999", "JPY", "¥ 9,999"),
])
def test_format_amount(amount, currency, shown):
    assert flex_builders.format_amount(amount, currency) == shown


def test_format_amount_refuses_garbage():
    with pytest.raises(ValueError):
        flex_builders.format_amount(float("nan"))
    with pytest.raises(ValueError):
        flex_builders.format_amount(object())


# Postbacks ---------------------------------------------------------------------------------------
def test_postback_constants_round_trip():
    for data in (postbacks.POSTBACK_LINK, postbacks.POSTBACK_UNLINK,
                 postbacks.POSTBACK_UNLINK_CONFIRM, postbacks.POSTBACK_ORDERS,
                 postbacks.POSTBACK_POINTS, postbacks.POSTBACK_BALANCE,
                 postbacks.POSTBACK_MEMBER_CARD):
        assert postbacks.parse_postback(data)["action"] in postbacks.ACTIONS


def test_postback_data_with_parameters():
    data = postbacks.postback_data("orders", page=2, q="a&b")
    assert postbacks.parse_postback(data) == {"action": "orders", "page": "2", "q": "a&b"}
    # an app's own action (a bridge's preset) is fine; anything but a lowercase name is not
    assert postbacks.postback_data("optout") == "action=optout"
    for bad in ("", "Orders", "orders&admin=1", "a b", None, "x" * 65):
        with pytest.raises(ValueError, match="postback action is a lowercase name"):
            postbacks.postback_data(bad)
    with pytest.raises(MessageTooLarge):
        postbacks.postback_data("orders", q="x" * 300)


@pytest.mark.parametrize("garbage", [None, 5, "x" * 301, ""])
def test_parse_postback_never_raises(garbage):
    assert postbacks.parse_postback(garbage) == {}


# Invoices and the cart reminder -----------------------------------------------------------------
def test_invoice_list_marks_overdue_and_links_to_payment():
    on_time = {**INVOICE, "name": "INV/2026/0008", "overdue": False}
    carousel = flex_builders.invoice_list([INVOICE, on_time])["contents"]["contents"]
    texts = [json.dumps(bubble, ensure_ascii=False) for bubble in carousel]
    assert "期限超過" in texts[0] and "期限超過" not in texts[1]
    assert "¥5,600" in texts[0] and "2026/10/31" in texts[0]
    assert carousel[0]["footer"]["contents"][0]["action"]["uri"] == INVOICE["url"]
    with pytest.raises(MessageTooLarge):
        flex_builders.invoice_list([INVOICE] * 13)
    assert flex_builders.invoice_list([], "en") == {"type": "text",
                                                    "text": "You have no invoices to pay."}


def test_cart_reminder_lists_items_total_and_opens_the_cart():
    message = flex_builders.cart_reminder(
        [{"name": f"item {i}", "quantity": 1} for i in range(7)], 8400,
        "https://shop.example/shop/cart?token=abc", "en")
    body = json.dumps(message["contents"]["body"], ensure_ascii=False)
    assert "item 4" in body and "item 5" not in body and "and 2 more" in body
    assert "8,400" in body
    assert message["contents"]["footer"]["contents"][0]["action"]["uri"].endswith("token=abc")
    with pytest.raises(ValueError):
        flex_builders.cart_reminder([], 0, "https://shop.example/shop/cart")


def test_u16clip_cuts_customer_text_to_what_line_counts():
    from line_idlink.texts import u16clip, u16len
    assert u16clip("注文 S00042", 40) == "注文 S00042"  # fits: unchanged
    assert u16clip("abcdef", 4) == "abc…"
    # an emoji outside the BMP counts 2 and is never split in half
    clipped = u16clip("😀😀😀", 4)
    assert clipped == "😀…" and u16len(clipped) <= 4
    assert u16len(u16clip("ポイント" * 200, 400)) == 400
