"""The webhook route and the bot: signatures, de-duplication, keywords answered from the customer's
own rows only, block/unblock."""

import json

import requests

from line_idlink_dev.reference import tap_point
from line_idlink.webhook import compute_signature


def _post(shop, body, signature):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["x-line-signature"] = signature
    return requests.post(f"{shop.url}/line/webhook", data=body, headers=headers, timeout=10)


def _follow_body(shop, user):
    event = {"type": "follow", "mode": "active", "timestamp": 1793577600000,
             "source": {"type": "user", "userId": user.user_id},
             "webhookEventId": "01FORGEDFORGEDFORGEDFORGED", "replyToken": "r" * 32,
             "deliveryContext": {"isRedelivery": False}, "follow": {"isUnblocked": False}}
    return json.dumps({"destination": "U" + "0" * 32, "events": [event]}).encode()


def test_a_forged_or_missing_signature_is_refused_with_403_and_nothing_is_stored(shop):
    user = shop.user("Mallory", follow=False)
    body = _follow_body(shop, user)
    forged = compute_signature("not-the-channel-secret", body)
    assert _post(shop, body, forged).status_code == 403
    assert _post(shop, body, None).status_code == 403
    assert shop.count("line_webhook_event") == 0 and shop.app.db.audit_log("follow") == []

    secret = shop.emu.config.channel_secret
    for bad in (b"not json", b'{"events": "nope"}'):
        assert _post(shop, bad, compute_signature(secret, bad)).status_code == 400
    assert shop.count("line_webhook_event") == 0
    assert requests.get(f"{shop.url}/line/webhook", timeout=10).status_code == 405

    shop.emu.webhooks.bad_signature = True  # LINE's own delivery, signed wrongly
    result = user.follow()
    assert [d["status"] for d in result.deliveries] == [403]
    assert user.inbox == [] and shop.count("line_webhook_event") == 0


def test_a_redelivered_webhook_is_processed_once(shop):
    aiko = shop.user("Aiko", follow=False)
    result = aiko.follow()
    assert len(aiko.inbox) == 2 and len(shop.requests("replyMessage")) == 1
    body = shop.emu.webhooks.body_for(result.events)  # the very bytes LINE sent
    again = _post(shop, body, shop.emu.webhooks.sign(body))  # LINE delivers them again
    assert again.status_code == 200
    assert len(shop.app.db.audit_log("follow")) == 1
    assert len(shop.requests("replyMessage")) == 1  # answered once
    assert len(aiko.inbox) == 2 and shop.count("line_webhook_event") == 1


def test_keywords_and_menu_buttons_answer_with_the_customers_own_data_only(shop):
    aiko, kenji, yui = shop.user("Aiko"), shop.user("Kenji"), shop.user("Yui")
    shop.link_via_chat(aiko, "aiko@example.com")
    shop.link_via_chat(kenji, "kenji@example.com")
    kenji_values = ("5,600", "2,480", "S00012", "S00023", "C000002", "鈴木")
    aiko_values = {"残高を教えて": "¥1,200", "ポイント": "320", "注文履歴": "S00011"}
    for text, expected in aiko_values.items():
        before = len(aiko.inbox)
        aiko.say(text)
        [answer] = shop.received(aiko, before)
        dump = json.dumps(answer, ensure_ascii=False)
        assert answer["type"] == "flex" and expected in dump
        assert not any(value in dump for value in kenji_values)
    before = len(aiko.inbox)
    aiko.tap(*tap_point("linked", "会員証"))
    [card] = shop.received(aiko, before)
    assert "C000001" in json.dumps(card, ensure_ascii=False) and "佐藤 愛子" in json.dumps(
        card, ensure_ascii=False)

    before = len(kenji.inbox)
    kenji.say("注文履歴")
    [orders] = shop.received(kenji, before)
    assert [b["header"]["contents"][0]["text"] for b in orders["contents"]["contents"]] == [
        "S00023", "S00019", "S00015", "S00012"]

    before = len(yui.inbox)
    yui.say("残高")
    [invite] = shop.received(yui, before)
    assert invite["type"] == "template"
    assert invite["template"]["actions"][0]["data"] == "action=link"
    before = len(yui.inbox)
    yui.say("こんにちは")
    [help_text] = shop.received(yui, before)
    assert "残高" in help_text["text"] and "連携" in help_text["text"]


def test_unfollow_marks_blocked_keeps_the_link_and_follow_again_makes_reachable(shop):
    kenji = shop.user("Kenji")
    shop.link_via_chat(kenji, "kenji@example.com")
    kenji.block()
    assert shop.app.db.profile(kenji.user_id)["blocked"] == 1
    assert shop.linked_customer(kenji) == shop.customer_id("kenji@example.com")
    before = len(kenji.inbox)
    kenji.follow()
    assert shop.app.db.profile(kenji.user_id)["blocked"] == 0
    [welcome] = shop.received(kenji, before)
    assert "おかえりなさい" in welcome["text"]
    assert shop.menu_role(kenji) == "linked"


def test_link_postback_of_a_linked_user_issues_no_new_token(shop):
    aiko = shop.user("Aiko")
    shop.link_via_chat(aiko, "aiko@example.com")
    issued = len(shop.requests("issueLinkToken"))
    before = len(aiko.inbox)
    aiko.postback("action=link")
    [answer] = shop.received(aiko, before)
    assert "連携済み" in answer["text"]
    assert len(shop.requests("issueLinkToken")) == issued
