"""Message builders: LINE's limits, texts in ja/en, postback data, and validity checked by the
emulator's validator (the same rules it applies to real requests) and by the SDK's models."""

import json
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from linebot.v3.messaging import FlexMessage, Message, TemplateMessage, TextMessage

from line_idlink import messages as m
from line_idlink.emulator.limits import validate_messages
from line_idlink.messages import MessageTooLarge

ORDER = {"name": "S00042", "date": date(2026, 11, 1), "total": 12800, "state": "発送済み",
         "url": "https://shop.example/my/orders/42"}


def assert_valid(message, sdk_class):
    assert validate_messages([message]) == []
    model = Message.from_dict(message)
    assert isinstance(model, sdk_class)
    assert json.loads(model.to_json())["type"] == message["type"]


BUILDERS = {  # name -> (build(lang), SDK class)
    "text": (lambda lang: m.text("こんにちは" if lang == "ja" else "hello"), TextMessage),
    "link_account": (lambda lang: m.link_account("https://shop.example", "LT123", lang),
                     TemplateMessage),
    "link_first": (lambda lang: m.link_first(lang), TemplateMessage),
    "link_done": (lambda lang: m.link_done(lang, customer_name="山田"), TextMessage),
    "link_done_anonymous": (lambda lang: m.link_done(lang), TextMessage),
    "unlink_done": (lambda lang: m.unlink_done(lang), TextMessage),
    "unlink_question": (lambda lang: m.unlink_question(lang), TemplateMessage),
    "unlink_kept": (lambda lang: m.unlink_kept(lang), TextMessage),
    "orders": (lambda lang: m.order_list([ORDER] * 12, lang), FlexMessage),
    "orders_usd": (lambda lang: m.order_list([{**ORDER, "url": None}], lang, "USD"), FlexMessage),
    "balance": (lambda lang: m.balance(-1500, "JPY", date(2026, 11, 2), lang,
                                       url="https://s.example/b"), FlexMessage),
    "balance_plain": (lambda lang: m.balance(10.5, "USD", lang=lang), FlexMessage),
    "points": (lambda lang: m.points(1234, lang, tier="Gold", as_of="2026-11-02"), FlexMessage),
    "points_plain": (lambda lang: m.points(0, lang), FlexMessage),
    "card": (lambda lang: m.member_card("C-0001", "Gold", 1234, lang, name="山田 花子",
                                        url="https://liff.line.me/1234-abcd"), FlexMessage),
    "card_plain": (lambda lang: m.member_card("C-1", lang=lang), FlexMessage),
}


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_builder_is_valid_for_line(name, lang):
    build, sdk_class = BUILDERS[name]
    assert_valid(build(lang), sdk_class)


# Link messages -----------------------------------------------------------------------------------
def test_link_account_button_opens_the_link_page_with_the_token():
    message = m.link_account("https://shop.example/", "a+b/c=")
    [action] = message["template"]["actions"]
    parts = urlsplit(action["uri"])
    assert (parts.netloc, parts.path) == ("shop.example", "/line/link")
    assert parse_qs(parts.query) == {"linkToken": ["a+b/c="]}
    assert action["type"] == "uri" and action["label"] == "連携する"


def test_link_first_asks_with_a_link_postback():
    [action] = m.link_first()["template"]["actions"]
    assert action["type"] == "postback" and action["data"] == m.POSTBACK_LINK


@pytest.mark.parametrize("lang, words", [("ja", ["解除"]), ("en", ["unlink"])])
def test_link_confirmation_says_how_to_unlink(lang, words):
    message = m.link_done(lang)
    assert all(word in message["text"].lower() for word in words)
    [item] = message["quickReply"]["items"]
    assert item["action"]["data"] == m.POSTBACK_UNLINK


def test_unlink_question_is_a_confirm_template():
    template = m.unlink_question()["template"]
    assert template["type"] == "confirm"
    assert [a["data"] for a in template["actions"]] == [m.POSTBACK_UNLINK_CONFIRM,
                                                        m.POSTBACK_UNLINK_CANCEL]


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="lang"):
        m.link_done("fr")


# Limits ------------------------------------------------------------------------------------------
def test_text_limit_counts_utf16_units():
    assert m.text("あ" * 5000)["text"]
    assert m.text("😀" * 2500)  # 2 units each: exactly 5,000
    with pytest.raises(MessageTooLarge, match="5000"):
        m.text("😀" * 2500 + "a")
    with pytest.raises(MessageTooLarge):
        m.text("a" * 5001)
    with pytest.raises(ValueError):
        m.text("")


def test_a_carousel_holds_at_most_12_orders():
    assert len(m.order_list([ORDER] * 12)["contents"]["contents"]) == 12
    with pytest.raises(MessageTooLarge, match="12"):
        m.order_list([ORDER] * 13)


def test_oversize_bubble_is_refused():
    with pytest.raises(MessageTooLarge, match="bubble"):
        m.order_list([{**ORDER, "name": "x" * 31_000}])


def test_oversize_carousel_is_refused():
    orders = [{**ORDER, "state": "y" * 4_500} for _ in range(12)]  # ~5 KB per bubble
    with pytest.raises(MessageTooLarge, match="carousel"):
        m.order_list(orders)


def test_no_orders_is_a_text_message():
    assert m.order_list([]) == {"type": "text", "text": "ご注文はまだありません。"}


def test_order_bubble_shows_the_order():
    bubble = m.order_list([ORDER])["contents"]["contents"][0]
    texts = json.dumps(bubble, ensure_ascii=False)
    for shown in ("S00042", "2026/11/01", "¥12,800", "発送済み"):
        assert shown in texts
    assert bubble["footer"]["contents"][0]["action"]["uri"] == ORDER["url"]


def test_label_and_uri_limits():
    with pytest.raises(MessageTooLarge, match="label"):
        m.postback_action("x" * 21, "action=link")
    with pytest.raises(MessageTooLarge, match="URI"):
        m.uri_action("go", "https://e.example/" + "a" * 1000)
    with pytest.raises(ValueError, match="http"):
        m.uri_action("go", "javascript:alert(1)")
    with pytest.raises(ValueError, match="ASCII"):
        m.uri_action("go", "https://e.example/日本")


@pytest.mark.parametrize("amount, currency, shown", [
    (1234, "JPY", "¥1,234"), (1234.5, "JPY", "¥1,235"), (-50, "JPY", "-¥50"),
    (12.5, "USD", "$12.50"), (1000, "THB", "1,000.00 THB"), ("¥ 9,999", "JPY", "¥ 9,999"),
])
def test_format_amount(amount, currency, shown):
    assert m.format_amount(amount, currency) == shown


def test_format_amount_refuses_garbage():
    with pytest.raises(ValueError):
        m.format_amount(float("nan"))
    with pytest.raises(ValueError):
        m.format_amount(object())


# Postbacks ---------------------------------------------------------------------------------------
def test_postback_constants_round_trip():
    for data in (m.POSTBACK_LINK, m.POSTBACK_UNLINK, m.POSTBACK_UNLINK_CONFIRM, m.POSTBACK_ORDERS,
                 m.POSTBACK_POINTS, m.POSTBACK_BALANCE, m.POSTBACK_MEMBER_CARD):
        assert m.parse_postback(data)["action"] in m.ACTIONS


def test_postback_data_with_parameters():
    data = m.postback_data("orders", page=2, q="a&b")
    assert m.parse_postback(data) == {"action": "orders", "page": "2", "q": "a&b"}
    with pytest.raises(ValueError, match="unknown postback action"):
        m.postback_data("drop_tables")
    with pytest.raises(MessageTooLarge):
        m.postback_data("orders", q="x" * 300)


@pytest.mark.parametrize("garbage", [None, 5, "x" * 301, ""])
def test_parse_postback_never_raises(garbage):
    assert m.parse_postback(garbage) == {}
