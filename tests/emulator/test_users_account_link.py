"""The account-link dialog, from the Python API and from a browser with the sign-in cookie."""

import pytest
import requests
from linebot.v3 import WebhookParser
from linebot.v3.messaging import ApiClient, MessagingApi
from linebot.v3.webhooks import AccountLinkEvent

NONCE = "bm9uY2Utb2YtdGhlLWJvdA"


@pytest.fixture
def api(emulator_server):
    return MessagingApi(ApiClient(emulator_server.messaging_configuration()))


@pytest.fixture
def aiko(emu):
    user = emu.add_user("Aiko")
    user.follow()
    return user


def link_events(emu, webhook_sink):
    parser = WebhookParser(emu.config.channel_secret)
    events = [event for item in webhook_sink.received
              for event in parser.parse(item["raw"].decode("utf-8"),
                                        item["headers"]["X-Line-Signature"])]
    return [event for event in events if isinstance(event, AccountLinkEvent)]


def test_ok_has_source_reply_token_and_nonce(emu, webhook_sink, api, aiko):
    token = api.issue_link_token(aiko.user_id).link_token
    result = aiko.account_link(token, NONCE)
    assert result.error is None and result.deliveries[0]["status"] == 200

    [event] = link_events(emu, webhook_sink)
    assert event.link.result == "ok" and event.link.nonce == NONCE
    assert event.source.user_id == aiko.user_id
    assert event.reply_token


def test_token_of_another_user_fails_without_source_or_reply_token(emu, webhook_sink, api, aiko):
    token = api.issue_link_token(aiko.user_id).link_token
    mallory = emu.add_user("Mallory")
    mallory.follow()
    result = mallory.account_link(token, NONCE)
    assert "source" not in result.event and "replyToken" not in result.event

    [event] = link_events(emu, webhook_sink)
    assert event.link.result == "failed" and event.link.nonce == NONCE
    assert event.source is None and event.reply_token is None


def test_expired_token_sends_no_event(emu, webhook_sink, api, aiko):
    token = api.issue_link_token(aiko.user_id).link_token
    emu.advance(601)
    result = aiko.account_link(token, NONCE)
    assert result.events == [] and result.error
    assert link_events(emu, webhook_sink) == []


def test_used_token_sends_no_second_event(emu, webhook_sink, api, aiko):
    token = api.issue_link_token(aiko.user_id).link_token
    aiko.account_link(token, NONCE)
    again = aiko.account_link(token, NONCE + "x")
    assert again.events == [] and again.error
    assert [e.link.nonce for e in link_events(emu, webhook_sink)] == [NONCE]


def test_unknown_token_sends_no_event(emu, webhook_sink, aiko):
    assert aiko.account_link("not-a-token", NONCE).events == []
    assert link_events(emu, webhook_sink) == []


@pytest.mark.parametrize("nonce", ["short", "n" * 256, None])
def test_bad_nonce_shows_an_error_and_leaves_the_token_usable(emu, webhook_sink, api, aiko,
                                                               nonce):
    token = api.issue_link_token(aiko.user_id).link_token
    refused = aiko.account_link(token, nonce)
    assert refused.events == [] and "nonce" in refused.error
    assert aiko.account_link(token, NONCE).event["link"]["result"] == "ok"


def test_browser_dialog_with_the_sign_in_cookie(emulator_server, webhook_sink, api, aiko):
    emu = emulator_server.emulator
    token = api.issue_link_token(aiko.user_id).link_token
    dialog = (f"{emulator_server.base_url}/dialog/bot/accountLink?linkToken={token}"
              f"&nonce={NONCE}")
    browser = requests.Session()

    anonymous = browser.get(dialog)
    assert anonymous.status_code == 401
    assert f"/__emulator__/users/{aiko.user_id}/signin?next=" in anonymous.text
    assert link_events(emu, webhook_sink) == []

    signin = f"{emulator_server.base_url}/__emulator__/users/{aiko.user_id}/signin"
    page = browser.get(signin, params={"next": dialog})  # follows the redirect to the dialog
    assert page.status_code == 200 and "Accounts linked" in page.text
    [event] = link_events(emu, webhook_sink)  # delivered before the page was served (sync)
    assert event.source.user_id == aiko.user_id and event.link.nonce == NONCE

    used = browser.get(dialog)
    assert used.status_code == 400 and len(link_events(emu, webhook_sink)) == 1


def test_browser_dialog_as_another_user_fails(emulator_server, webhook_sink, api, aiko):
    emu = emulator_server.emulator
    token = api.issue_link_token(aiko.user_id).link_token
    mallory = emu.add_user("Mallory")
    browser = requests.Session()
    browser.get(f"{emulator_server.base_url}/__emulator__/users/{mallory.user_id}/signin")
    page = browser.get(f"{emulator_server.base_url}/dialog/bot/accountLink",
                       params={"linkToken": token, "nonce": NONCE})
    assert "Linking failed" in page.text
    [event] = link_events(emu, webhook_sink)
    assert event.link.result == "failed" and event.source is None


def test_sign_in_refuses_unknown_users_and_foreign_redirects(emulator_server, aiko):
    base = emulator_server.base_url
    assert requests.get(f"{base}/__emulator__/users/Unobody/signin").status_code == 404
    bad = requests.get(f"{base}/__emulator__/users/{aiko.user_id}/signin",
                       params={"next": "//evil.example/"}, allow_redirects=False)
    assert bad.status_code == 400 and "line_emulator_user" not in bad.headers.get("Set-Cookie", "")
