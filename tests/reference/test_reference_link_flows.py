"""Linking: through the Messaging API (chat button -> /line/link -> LINE's dialog) and through LINE
Login (from /my/line, and "log in with LINE" for known and unknown LINE users)."""

from line_idlink.storage import METHOD_LINE_LOGIN, METHOD_MESSAGING_API


def test_link_through_the_messaging_api_end_to_end(shop):
    aiko = shop.user("Aiko")
    welcome = shop.received(aiko)
    assert welcome[0]["type"] == "text" and "連携" in welcome[0]["text"]
    assert welcome[1]["template"]["actions"][0]["data"] == "action=link"
    assert shop.menu_role(aiko) == "unlinked" and aiko.rich_menu["source"] == "default"

    link_url = shop.link_url_from_chat(aiko)
    assert link_url.startswith(f"{shop.url}/line/link?linkToken=")
    browser = shop.browser(aiko)
    page = shop.confirm_page(browser, link_url, "aiko@example.com")
    assert page.url.startswith(f"{shop.url}/line/link?linkToken=")  # back after the login
    assert "「Aiko」" in page.text and "佐藤 愛子" in page.text  # who is linked to whom
    assert "いつでも解除" in page.text
    assert shop.count("line_nonce") == 0  # showing the page stores nothing

    before = len(aiko.inbox)
    dialog = browser.submit(page, "/line/link")
    assert dialog.url.startswith(f"{shop.line.base_url}/dialog/bot/accountLink?")
    assert "Accounts linked" in dialog.text
    assert shop.linked_customer(aiko) == shop.customer_id("aiko@example.com")
    [link] = shop.app.linker.links_for(shop.customer_id("aiko@example.com"))
    assert link.method == METHOD_MESSAGING_API
    [confirmation] = shop.received(aiko, before)
    assert "佐藤 愛子様" in confirmation["text"] and "解除" in confirmation["text"]
    assert shop.menu_role(aiko) == "linked" and aiko.rich_menu["source"] == "user"

    status = browser.get(f"{shop.url}/my/line")
    assert "連携中のLINEアカウント" in status.text and "Aiko" in status.text
    assert "いつでも解除" in status.text


def test_the_link_page_logs_in_first_and_refuses_unknown_or_expired_tokens(shop):
    aiko = shop.user("Aiko")
    browser = shop.browser(aiko)
    unknown = browser.get(f"{shop.url}/line/link?linkToken=not-a-token")
    assert unknown.status_code == 410 and "有効期限" in unknown.text
    missing = browser.get(f"{shop.url}/line/link")
    assert missing.status_code == 400

    link_url = shop.link_url_from_chat(aiko)
    shop.emu.advance(601)  # the link token's 10 minutes are over
    expired = browser.get(link_url)
    assert expired.status_code == 410 and "/login" not in expired.url
    assert shop.count("line_nonce") == 0 and shop.linked_customer(aiko) is None


def test_confirming_without_the_csrf_token_is_refused_and_stores_nothing(shop):
    aiko = shop.user("Aiko")
    browser = shop.browser(aiko)
    page = shop.confirm_page(browser, shop.link_url_from_chat(aiko), "aiko@example.com")
    for token in (None, "forged"):
        fields = {"csrf_token": token} if token else {}
        forged = browser.http.post(f"{shop.url}/line/link", allow_redirects=False,
                                   data={"linkToken": _link_token(page.url), **fields})
        assert forged.status_code == 400 and "Location" not in forged.headers
    assert shop.count("line_nonce") == 0
    assert shop.linked_customer(aiko) is None
    assert shop.requests("accountLinkDialog") == []


def test_another_line_user_completing_someone_elses_link_links_nobody(shop):
    aiko, kenji = shop.user("Aiko"), shop.user("Kenji")
    aiko_link = shop.link_url_from_chat(aiko)  # Aiko forwards her link to Kenji
    browser = shop.browser(kenji)  # Kenji's phone: logged in to LINE as Kenji
    page = shop.confirm_page(browser, aiko_link, "kenji@example.com")
    assert "「Aiko」" in page.text  # the page tells Kenji whose LINE account it is
    dialog = browser.submit(page, "/line/link")
    assert dialog.status_code == 200 and "another LINE account" in dialog.text
    assert shop.linked_customer(aiko) is None and shop.linked_customer(kenji) is None
    [failure] = shop.app.db.audit_log("link_failed")
    assert failure["detail"].startswith("failed_result")
    assert shop.menu_role(aiko) == "unlinked" and shop.menu_role(kenji) == "unlinked"
    # The nonce was burnt: the same confirmation cannot be replayed by Aiko either.
    assert shop.app.db.query("SELECT used_at FROM line_nonce")[0]["used_at"] is not None


def test_link_with_line_login_from_my_line(shop):
    kenji = shop.user("Kenji")
    before = len(kenji.inbox)
    _browser, page = shop.link_via_login(kenji, "kenji@example.com")
    assert page.url == f"{shop.url}/my/line"
    assert "連携中のLINEアカウント" in page.text and "Kenji" in page.text
    assert "LINEログイン" in page.text and "いつでも解除" in page.text
    assert shop.linked_customer(kenji) == shop.customer_id("kenji@example.com")
    [link] = shop.app.linker.links_for(shop.customer_id("kenji@example.com"))
    assert link.method == METHOD_LINE_LOGIN
    token = shop.app.db.profile(kenji.user_id)["login_access_token"]
    assert shop.emu.login.token_record(token) is not None  # kept, alive, for the unlink
    [confirmation] = shop.received(kenji, before)
    assert "鈴木 健二様" in confirmation["text"] and "解除" in confirmation["text"]
    assert shop.menu_role(kenji) == "linked"


def test_line_login_for_a_linked_user_logs_them_in(shop):
    kenji = shop.user("Kenji")
    shop.link_via_login(kenji, "kenji@example.com")
    first_token = shop.app.db.profile(kenji.user_id)["login_access_token"]
    browser = shop.browser(kenji)  # another device, logged in to nothing in the shop
    page = browser.get(f"{shop.url}/line/login?purpose=login")
    assert page.url == f"{shop.url}/my/line" and "鈴木 健二様" in page.text
    newest = shop.app.db.profile(kenji.user_id)["login_access_token"]
    assert newest != first_token and shop.emu.login.token_record(first_token) is None


def test_line_login_for_an_unknown_user_is_never_bound_by_email(shop):
    yui = shop.user("Yui")
    # A customer whose e-mail is the very address LINE has for Yui: still no automatic link.
    signup = shop.browser()
    page = signup.get(f"{shop.url}/signup")
    signup.submit(page, "/signup", name="Same Mail", email=f"{yui.user_id.lower()}@line.example",
                  password="password1")

    browser = shop.browser(yui)
    page = browser.get(f"{shop.url}/line/login?purpose=login")
    assert "まだどのアカウントとも連携されていません" in page.text
    assert shop.linked_customer(yui) is None
    assert "/my/line" not in page.url  # not logged in to anything

    # Yui proves she owns yui@example.com: that account (and no other) is linked.
    login = browser.get(f"{shop.url}/login?next=/my/line")
    assert "「Yui」と連携します" in login.text  # never a surprise on a shared device
    page = browser.submit(login, "/login", email="yui@example.com", password="line-demo")
    assert page.url == f"{shop.url}/my/line" and "連携しました" in page.text
    assert shop.linked_customer(yui) == shop.customer_id("yui@example.com")
    assert shop.app.db.profile(yui.user_id)["login_access_token"]


def test_a_pending_line_login_can_be_cancelled_and_is_not_inherited(shop):
    stranger, kenji = shop.user("Stranger"), shop.user("Kenji")
    shop.link_via_login(kenji, "kenji@example.com")
    browser = shop.browser(stranger)  # a shared computer: someone tries "log in with LINE"
    browser.get(f"{shop.url}/line/login?purpose=login")
    tokens = shop.emu.login.access_tokens
    browser.sign_in_to_line(shop.line.base_url, kenji.user_id)  # ...then Kenji logs in with LINE
    page = browser.get(f"{shop.url}/line/login?purpose=login")
    assert "鈴木 健二様" in page.text
    assert shop.linked_customer(stranger) is None
    assert [link.line_user_id for link in shop.app.active_links()] == [kenji.user_id]
    assert [t.user_id for t in tokens.values() if not t.revoked] == [kenji.user_id]

    other = shop.browser(stranger)
    other.get(f"{shop.url}/line/login?purpose=login")
    assert "連携します" in other.get(f"{shop.url}/login").text
    other.submit(other.get(f"{shop.url}/login"), "/logout")  # the login page's "cancel"
    page = shop.log_in(other, "yui@example.com")
    assert "連携します" not in page.text and shop.linked_customer(stranger) is None


def test_an_unknown_line_user_can_sign_up_and_is_linked_to_the_new_account(shop):
    taro = shop.user("Taro")
    browser = shop.browser(taro)
    page = browser.get(f"{shop.url}/line/login?purpose=login")
    assert "新規登録して連携する" in page.text
    page = browser.submit(browser.get(f"{shop.url}/signup?next=/my/line"), "/signup",
                          name="山田 太郎", email="taro@example.com", password="password1")
    assert page.url == f"{shop.url}/my/line"
    assert shop.linked_customer(taro) == shop.customer_id("taro@example.com")
    assert shop.menu_role(taro) == "linked"


def test_a_forged_or_replayed_login_callback_links_nothing(shop):
    kenji = shop.user("Kenji")
    browser = shop.browser(kenji)
    shop.log_in(browser, "kenji@example.com")
    nothing_pending = browser.get(f"{shop.url}/line/callback?code=abc&state=xyz")
    assert nothing_pending.status_code == 400
    authorize = browser.get(f"{shop.url}/line/login?purpose=link", follow=False)
    assert authorize.headers["Location"].startswith(f"{shop.line.base_url}/oauth2/v2.1/authorize")
    wrong_state = browser.get(f"{shop.url}/line/callback?code=abc&state=forged")
    assert wrong_state.status_code == 400 and "LINEログインに失敗" in wrong_state.text
    cancelled = browser.get(f"{shop.url}/line/login?purpose=link", follow=False)
    location = kenji.authorize(cancelled.headers["Location"], approve=False)
    assert browser.get(location).status_code == 400
    assert shop.linked_customer(kenji) is None


def _link_token(url):
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(url).query)["linkToken"][0]
