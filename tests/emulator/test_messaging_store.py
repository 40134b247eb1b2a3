"""Sent messages are stored once per request (message_store): what readers see is unchanged.

A multicast keeps its body once and each inbox a reference to it; ``user.inbox``,
``emu.messaging.deliveries``, the control API and the quota still show one full message per
recipient, with that recipient's own message ids.
"""

import uuid

import requests
from linebot.v3 import messaging as msg

from line_emulator.app import MASK, mask_secrets
from messaging_support import api, friends, raw, text  # noqa: F401


def _multicast(api, users, *messages):
    return api.multicast_with_http_info(msg.MulticastRequest(
        to=[u.user_id for u in users], messages=list(messages)))


def test_each_recipient_reads_full_messages_with_its_own_ids(emu, emulator_server, api):
    team = friends(emu, 3)
    response = _multicast(api, team, text("冬の限定セット"), text("second"))
    request_id = response.headers["x-line-request-id"]

    ids = []
    for user in team:
        assert len(user.inbox) == 2
        first, second = user.inbox
        assert first == {"api": "multicast", "message": {"type": "text", "text": "冬の限定セット"},
                         "requestId": request_id, "messageId": first["messageId"],
                         "timestamp": emu.clock.now_ms()}
        assert second["message"] == {"type": "text", "text": "second"}
        ids += [first["messageId"], second["messageId"]]
        # The control API serves the same view
        shown = requests.get(f"{emulator_server.base_url}/__emulator__/users/{user.user_id}/inbox",
                             timeout=10).json()["messages"]
        assert shown == list(user.inbox)
    assert len(set(ids)) == 6 and all(i.isdigit() and len(i) == 18 for i in ids)

    records = [d for d in emu.messaging.deliveries if d["requestId"] == request_id]
    assert [(d["userId"], d["messageIds"]) for d in records] == [
        (u.user_id, [m["messageId"] for m in u.inbox]) for u in team]
    assert emu.messaging.deliveries[-1] == records[-1]
    assert emu.messaging.deliveries[-3:] == records


def test_the_inbox_is_a_read_only_view(emu, api):
    aiko, ben = friends(emu, 2)
    _multicast(api, [aiko, ben], text("hello"))
    entry = aiko.inbox[0]
    entry["message"] = {"type": "text", "text": "changed"}
    entry["api"] = "push"
    assert aiko.inbox[0]["api"] == "multicast"
    assert aiko.inbox[0]["message"]["text"] == "hello"
    assert ben.inbox[:1] == [ben.inbox[0]] and ben.inbox[-1] == ben.inbox[0]
    assert emu.add_user("Chika").inbox == []


def test_clearing_an_inbox_empties_that_chat_only(emu, api):
    aiko, ben = friends(emu, 2)
    _multicast(api, [aiko, ben], text("hello"))
    aiko.inbox.clear()
    assert aiko.inbox == [] and [m["message"]["text"] for m in ben.inbox] == ["hello"]
    # what LINE counted keeps the message: deliveries and the quota
    assert [d["userId"] for d in emu.messaging.deliveries] == [aiko.user_id, ben.user_id]
    assert emu.messaging.usage_this_month() == 2
    api.push_message(msg.PushMessageRequest(to=aiko.user_id, messages=[text("next")]))
    assert [m["message"]["text"] for m in aiko.inbox] == ["next"]


def test_push_and_multicast_mix_in_one_inbox_in_order(emu, api):
    aiko, ben = friends(emu, 2)
    api.push_message(msg.PushMessageRequest(to=aiko.user_id, messages=[text("one")]))
    _multicast(api, [ben, aiko], text("two"))
    api.push_message(msg.PushMessageRequest(to=aiko.user_id, messages=[text("three")]))
    assert [(m["api"], m["message"]["text"]) for m in aiko.inbox] == [
        ("push", "one"), ("multicast", "two"), ("push", "three")]
    assert [m["message"]["text"] for m in ben.inbox] == ["two"]


def test_the_quota_counts_recipients_not_requests_or_messages(emu, emulator_server, api):
    emu.config.quota = 5
    team = friends(emu, 3)
    _multicast(api, team, text("a"), text("b"))  # 3 recipients x 2 messages: 3 counted
    assert api.get_message_quota_consumption().total_usage == 3
    # Three more recipients would exceed the 2 left: 429, nothing delivered, nothing counted
    answer = raw(emulator_server, "POST", "/v2/bot/message/multicast",
                 headers={"X-Line-Retry-Key": str(uuid.uuid4())},
                 json={"to": [u.user_id for u in team], "messages": [{"type": "text",
                                                                       "text": "c"}]})
    assert answer.status_code == 429
    assert [len(u.inbox) for u in team] == [2, 2, 2]
    assert api.get_message_quota_consumption().total_usage == 3
    _multicast(api, team[:2], text("d"))
    assert api.get_message_quota_consumption().total_usage == 5


def test_the_request_log_masks_credentials_without_copying_the_rest():
    body = {"to": ["U" + "0" * 32], "messages": [{"type": "text", "text": "hi"}]}
    assert mask_secrets(body) is body  # nothing to mask: no deep copy of a large body
    nested = {"outer": {"linkToken": "abc", "keep": [1, {"nonce": "n"}]}, "list": [1, 2]}
    masked = mask_secrets(nested)
    assert masked == {"outer": {"linkToken": MASK, "keep": [1, {"nonce": MASK}]},
                      "list": [1, 2]}
    assert nested == {"outer": {"linkToken": "abc", "keep": [1, {"nonce": "n"}]},
                      "list": [1, 2]}  # the original is untouched
    assert masked["list"] is nested["list"]


def test_the_request_log_shows_the_body_that_was_sent(emu, api):
    team = friends(emu, 2)
    _multicast(api, team, text("logged"))
    [entry] = emu.requests_for("multicast")
    assert entry["body"]["to"] == [u.user_id for u in team]
    assert entry["body"]["messages"] == [{"type": "text", "text": "logged"}]
