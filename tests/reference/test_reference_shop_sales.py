"""The reference shop's sales features: 請求書 in the chat (scoped to the asker) and the
abandoned-cart reminder on LINE (once per cart, linked and reachable customers only, not after an
order), against the emulator."""

import json
from urllib.parse import urlsplit

from line_idlink_dev.reference import tap_point


def _dump(message):
    return json.dumps(message, ensure_ascii=False)


def test_invoices_keyword_answers_the_askers_open_invoices_overdue_marked(shop):
    aiko, kenji, yui = shop.user("Aiko"), shop.user("Kenji"), shop.user("Yui")
    shop.link_via_chat(aiko, "aiko@example.com")
    shop.link_via_chat(kenji, "kenji@example.com")
    shop.link_via_chat(yui, "yui@example.com")

    before = len(kenji.inbox)
    kenji.say("請求書")
    [answer] = shop.received(kenji, before)
    bubbles = answer["contents"]["contents"]
    assert [b["header"]["contents"][0]["text"] for b in bubbles] == [
        "INV/2026/0019", "INV/2026/0023"], "the most urgent first"
    assert "期限超過" in _dump(bubbles[0]) and "期限超過" not in _dump(bubbles[1])
    assert "¥2,400" in _dump(bubbles[0]) and "INV/2026/0011" not in _dump(answer)

    before = len(aiko.inbox)
    aiko.tap(*tap_point("linked", "請求書"))  # the linked menu's button
    [answer] = shop.received(aiko, before)
    assert "INV/2026/0011" in _dump(answer)
    assert not any(name in _dump(answer) for name in ("INV/2026/0019", "INV/2026/0023"))

    before = len(yui.inbox)
    yui.say("請求書")
    assert shop.received(yui, before) == [{"type": "text",
                                           "text": "お支払いが必要な請求書はありません。"}]

    stranger = shop.user("Stranger")
    before = len(stranger.inbox)
    stranger.say("請求書")
    [invite] = shop.received(stranger, before)
    assert invite["template"]["actions"][0]["data"] == "action=link"


def _fill_cart(shop, browser, email, sku="tea", quantity=2):
    shop.log_in(browser, email)
    page = browser.get(f"{shop.url}/shop")
    return browser.submit(page, "/shop/cart/add", sku=sku, quantity=str(quantity))


def test_abandoned_cart_is_reminded_once_with_a_link_to_the_cart(shop):
    aiko = shop.user("Aiko")
    shop.link_via_chat(aiko, "aiko@example.com")
    browser = shop.browser()
    cart_page = _fill_cart(shop, browser, "aiko@example.com")
    assert "緑茶 100g x 2" in cart_page.text

    assert shop.app.remind_abandoned_carts(delay=3600) == [], "not abandoned yet"
    shop.emu.clock.advance(2 * 3600)
    before = len(aiko.inbox)
    [cart_id] = shop.app.remind_abandoned_carts(delay=3600)
    [reminder] = shop.received(aiko, before)
    assert reminder["type"] == "flex" and "緑茶 100g" in _dump(reminder)
    assert "¥2,400" in _dump(reminder)
    [push] = shop.requests("pushMessage")[-1:]
    assert push.get("retryKey"), "the push carries a retry key"
    uri = reminder["contents"]["footer"]["contents"][0]["action"]["uri"]
    assert urlsplit(uri).path == "/shop/cart"

    # the next run (and the one after) remind nothing more
    shop.emu.clock.advance(3600)
    assert shop.app.remind_abandoned_carts(delay=3600) == []
    assert len(shop.received(aiko, before)) == 1

    # the link opens the cart on the phone, without logging in
    phone = shop.browser(aiko)
    page = phone.get(uri)
    assert page.status_code == 200 and "緑茶 100g x 2" in page.text
    assert phone.get(f"{shop.url}/shop/cart?token=forged").status_code == 404


def test_no_reminder_after_an_order_unlinked_or_blocked(shop):
    kenji, aiko = shop.user("Kenji"), shop.user("Aiko")
    shop.link_via_chat(kenji, "kenji@example.com")
    shop.link_via_chat(aiko, "aiko@example.com")
    # Kenji orders what he put in his cart; Yui is not linked; Aiko blocked the account
    kenji_browser = shop.browser()
    page = _fill_cart(shop, kenji_browser, "kenji@example.com", "kettle", 1)
    done = kenji_browser.submit(page, "/shop/checkout")
    assert "ご注文ありがとうございました" in done.text
    _fill_cart(shop, shop.browser(), "yui@example.com")
    _fill_cart(shop, shop.browser(), "aiko@example.com")
    aiko.block()
    shop.emu.clock.advance(2 * 3600)
    assert shop.app.remind_abandoned_carts(delay=3600) == []
    # Aiko unblocks the account: her cart is still waiting, and now she is reminded
    aiko.unblock()
    before = len(aiko.inbox)
    assert len(shop.app.remind_abandoned_carts(delay=3600)) == 1
    assert "緑茶 100g" in _dump(shop.received(aiko, before))
