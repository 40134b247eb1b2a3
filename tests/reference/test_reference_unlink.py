"""Unlinking at any time, from the portal and from the chat: the link ends, the default menu comes
back, the LINE Login token is revoked and the consent deauthorized."""

from line_idlink_dev.reference import tap_point


def _login_token(shop, user):
    return shop.app.db.profile(user.user_id)["login_access_token"]


def test_unlink_from_the_portal(shop):
    kenji = shop.user("Kenji")
    browser, page = shop.link_via_login(kenji, "kenji@example.com")
    token = _login_token(shop, kenji)
    assert shop.emu.login.token_record(token) is not None and kenji.user_id in shop.emu.login.grants

    refused = browser.http.post(f"{shop.url}/my/line/unlink", allow_redirects=False,
                                data={"line_user_id": kenji.user_id})
    assert refused.status_code == 400  # no CSRF token: nothing changes
    assert shop.linked_customer(kenji) is not None and shop.menu_role(kenji) == "linked"

    before = len(kenji.inbox)
    page = browser.submit(page, "/my/line/unlink")
    assert page.url == f"{shop.url}/my/line" and "解除しました" in page.text
    assert "まだ連携されていません" in page.text and "いつでも解除" in page.text
    assert shop.linked_customer(kenji) is None
    assert shop.menu_role(kenji) == "unlinked" and kenji.rich_menu["source"] == "default"
    assert shop.emu.login.token_record(token) is None  # revoked
    assert kenji.user_id not in shop.emu.login.grants  # deauthorized
    assert _login_token(shop, kenji) is None
    [notice] = shop.received(kenji, before)
    assert "解除しました" in notice["text"]


def test_a_customer_cannot_unlink_someone_elses_link(shop):
    aiko, kenji = shop.user("Aiko"), shop.user("Kenji")
    shop.link_via_chat(aiko, "aiko@example.com")
    browser, page = shop.link_via_login(kenji, "kenji@example.com")
    page = browser.get(f"{shop.url}/my/line")
    forged = browser.submit(page, "/my/line/unlink", line_user_id=aiko.user_id)
    assert forged.status_code == 404
    assert shop.linked_customer(aiko) == shop.customer_id("aiko@example.com")
    assert shop.linked_customer(kenji) == shop.customer_id("kenji@example.com")


def test_unlink_from_the_chat_asks_first_then_revokes_the_login_token(shop):
    kenji = shop.user("Kenji")
    shop.link_via_login(kenji, "kenji@example.com")
    token = _login_token(shop, kenji)

    before = len(kenji.inbox)
    kenji.tap(*tap_point("linked", "連携解除"))
    [question] = shop.received(kenji, before)
    assert question["template"]["type"] == "confirm"
    no, yes = question["template"]["actions"][1], question["template"]["actions"][0]
    kenji.postback(no["data"])
    assert shop.linked_customer(kenji) is not None and shop.menu_role(kenji) == "linked"

    before = len(kenji.inbox)
    kenji.postback(yes["data"])
    [done] = shop.received(kenji, before)
    assert "解除しました" in done["text"]
    assert shop.linked_customer(kenji) is None and shop.menu_role(kenji) == "unlinked"
    assert shop.emu.login.token_record(token) is None
    assert kenji.user_id not in shop.emu.login.grants
    [audit] = shop.app.db.audit_log("unlinked")
    assert audit["detail"] == "via chat"


def test_unlink_of_a_messaging_api_link_and_relinking(shop):
    aiko = shop.user("Aiko")
    shop.link_via_chat(aiko, "aiko@example.com")
    aiko.postback("action=unlink_confirm")
    assert shop.linked_customer(aiko) is None and shop.menu_role(aiko) == "unlinked"
    before = len(aiko.inbox)
    aiko.postback("action=unlink_confirm")  # twice: still fine, says there is nothing to unlink
    assert "ありません" in shop.received(aiko, before)[0]["text"]
    shop.link_via_chat(aiko, "aiko@example.com")  # linking again works from the start
    assert shop.linked_customer(aiko) == shop.customer_id("aiko@example.com")
    assert shop.menu_role(aiko) == "linked"
