"""Issue 8 in the reference shop: webhook body limit (point 5), same-site redirects (point 6),
used link URLs (point 7)."""

import json
from urllib.parse import quote

import pytest
import requests
from webhook_limits import post_unfinished

from line_idlink.redirects import is_same_site, safe_redirect
from line_idlink.webhook import MAX_WEBHOOK_BODY, compute_signature

EVIL = ("/\\evil.example/x", "//evil.example", "\\\\evil.example", "https://evil.example/",
        "javascript:alert(1)", "/%5Cevil.example", "/%2F/evil.example", "/%255Cevil.example",
        "/\tevil.example", "/\t/evil.example", "/\n/evil.example", "\r\n/evil", " /my/line",
        "http:/evil.example", "/my/line\\..\\x", "//", "", "evil.example/x")


# Point 6: one rule for same-site redirects -------------------------------------------------
@pytest.mark.parametrize("target", EVIL)
def test_the_core_rule_refuses_targets_a_browser_reads_as_another_site(target):
    assert not is_same_site(target)
    assert safe_redirect(target, "/home") == "/home"


@pytest.mark.parametrize("target", ["/my/line", "/my/line?x=1&y=%2F%2Fz", "/line/link?linkToken=a%2Fb",
                                    "/a#frag", "/my%20line"])
def test_the_core_rule_keeps_same_site_paths(target):
    assert safe_redirect(target, "/home") == target


@pytest.mark.parametrize("target", EVIL)
def test_logging_in_never_leaves_the_site(shop, target):
    browser = shop.browser()
    page = browser.get(f"{shop.url}/login?next={quote(target, safe='')}")
    assert "evil" not in page.text
    response = browser.submit(page, "/login", follow=False, email="aiko@example.com",
                              password="line-demo", next=target)
    assert response.status_code == 302
    assert response.headers["Location"] in ("/my/line", f"{shop.url}/my/line")


def test_line_login_never_leaves_the_site(shop):
    browser = shop.browser()
    response = browser.get(f"{shop.url}/line/login?purpose=login&next=" + quote("/\\evil.example/x"),
                           follow=False)
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]  # the next target is not even carried


# Point 5: webhook body size ------------------------------------------------------------------
def stored_events(shop):
    """Every webhook event the shop stored (processed or not)."""
    return shop.count("line_webhook_event")


def signed_body(shop, size):
    """A validly signed webhook body of exactly ``size`` bytes (padded JSON)."""
    skeleton = {"destination": "U" + "0" * 32, "events": [], "pad": ""}
    raw = json.dumps(skeleton).encode()
    skeleton["pad"] = "x" * (size - len(raw))
    raw = json.dumps(skeleton).encode()
    assert len(raw) == size
    return raw, compute_signature(shop.app.settings.channel_secret, raw)


def test_the_limit_is_documented_and_far_above_line_bodies():
    assert MAX_WEBHOOK_BODY == 1024 * 1024


def test_a_webhook_at_the_limit_is_read_one_byte_more_is_refused(shop):
    raw, signature = signed_body(shop, MAX_WEBHOOK_BODY)
    ok = requests.post(f"{shop.url}/line/webhook", data=raw,
                       headers={"X-Line-Signature": signature, "Content-Type": "application/json"})
    assert ok.status_code == 200, ok.text
    raw, signature = signed_body(shop, MAX_WEBHOOK_BODY + 1)
    big = requests.post(f"{shop.url}/line/webhook", data=raw,
                        headers={"X-Line-Signature": signature, "Content-Type": "application/json"})
    assert big.status_code == 413
    # chunked (no Content-Length): read up to the limit, then refused all the same
    chunked = requests.post(f"{shop.url}/line/webhook", data=iter([raw[:700_000], raw[700_000:]]),
                            headers={"X-Line-Signature": signature,
                                     "Content-Type": "application/json"})
    assert chunked.status_code == 413


def test_a_huge_declared_body_is_refused_before_it_is_sent(shop):
    before = stored_events(shop)
    status, head = post_unfinished(
        f"{shop.url}/line/webhook",
        {"Content-Type": "application/json", "Content-Length": str(300 * 1024 * 1024),
         "X-Line-Signature": "x"}, b'{"events": [', chunked=False)
    assert status == 413, head
    assert stored_events(shop) == before  # nothing stored


def test_an_endless_chunked_body_is_refused_without_buffering_it(shop):
    """The body never ends (no final chunk): the 413 proves the shop stopped at the limit."""
    before = stored_events(shop)
    status, head = post_unfinished(
        f"{shop.url}/line/webhook", {"Content-Type": "application/json", "X-Line-Signature": "x"},
        b"{" + b" " * (MAX_WEBHOOK_BODY + 256 * 1024), chunked=True)
    assert status == 413, head
    assert stored_events(shop) == before
    # the shop still answers webhooks afterwards
    user = shop.user("Aiko")
    assert shop.received(user), "the follow webhook was processed: the bot answered"


# Point 7: a used link URL names nobody --------------------------------------------------------
def test_a_used_link_url_shows_nothing_about_anyone(shop):
    aiko = shop.user("Aiko")
    link_url = shop.link_url_from_chat(aiko)
    browser = shop.browser(aiko)
    page = shop.confirm_page(browser, link_url, "aiko@example.com")
    assert "「Aiko」" in page.text
    browser.submit(page, "/line/link")
    assert shop.linked_customer(aiko) == shop.customer_id("aiko@example.com")
    expired = browser.get(f"{shop.url}/line/link?linkToken=never-issued")
    # Kenji, logged in, opens Aiko's used link (well within its 10 minutes)
    kenji = shop.browser()
    shop.log_in(kenji, "kenji@example.com")
    page = kenji.get(link_url)
    assert page.status_code == 410
    assert "Aiko" not in page.text and "佐藤" not in page.text
    assert _main(page.text) == _main(expired.text)  # the very page of an unknown link
    assert "Aiko" not in shop.browser().get(link_url).text  # nor to a visitor


def _main(html):
    return html.split("<main>", 1)[1].split("</main>", 1)[0]


# Point 3 (reference too): the callback checks state first, shows no attacker text -------------
def test_a_crafted_login_callback_shows_no_text_and_keeps_the_login(shop):
    kenji = shop.user("Kenji")
    browser = shop.browser(kenji)
    shop.log_in(browser, "kenji@example.com")
    started = browser.get(f"{shop.url}/line/login?purpose=link", follow=False)
    crafted = browser.get(f"{shop.url}/line/callback?error=access_denied&state=attacker"
                          "&error_description=" + quote("Call +1-555-0100 now"))
    assert crafted.status_code == 400 and "555" not in crafted.text
    assert shop.linked_customer(kenji) is None
    # the login this browser started still completes
    page = browser.get(started.headers["Location"])
    assert page.url == f"{shop.url}/my/line"
    assert shop.linked_customer(kenji) == shop.customer_id("kenji@example.com")


def test_the_pending_login_is_cancelled_by_post_with_csrf_only(shop):
    stranger = shop.user("Stranger")
    browser = shop.browser(stranger)
    browser.get(f"{shop.url}/line/login?purpose=login")
    browser.get(f"{shop.url}/logout")  # a GET (e.g. a link on another site) changes nothing
    page = browser.get(f"{shop.url}/login")
    assert "連携します" in page.text and 'action="/logout"' in page.text
    browser.submit(page, "/logout")
    assert "連携します" not in browser.get(f"{shop.url}/login").text
