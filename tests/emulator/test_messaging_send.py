"""Sending through the official SDK: push, multicast, broadcast, reply tokens, validate, quota."""

import uuid

import pytest
from linebot.v3 import messaging as msg
from linebot.v3.messaging.exceptions import ApiException

from messaging_support import api, block, friend, friends, inbox_texts, raw, text  # noqa: F401

DAY = 86400


def test_push_lands_in_the_inbox_with_the_ids_the_api_returned(emu, api):
    aiko = friend(emu)
    template = msg.TemplateMessage.from_dict({
        "type": "template", "altText": "ID連携", "template": {
            "type": "confirm", "text": "連携しますか？", "actions": [
                {"type": "postback", "label": "はい", "data": "link=yes"},
                {"type": "message", "label": "いいえ", "text": "いいえ"}]}})
    response = api.push_message_with_http_info(
        msg.PushMessageRequest(to=aiko.user_id, messages=[text(), template]))

    sent = response.data.sent_messages
    assert [item["messageId"] for item in aiko.inbox] == [m.id for m in sent]
    assert sent[0].quote_token and sent[1].quote_token is None  # a template can't be quoted
    first = aiko.inbox[0]
    assert first["api"] == "push"
    assert first["message"] == {"type": "text", "text": "こんにちは 🍣"}
    assert first["requestId"] == response.headers["x-line-request-id"]
    assert first["timestamp"] == emu.clock.now_ms()
    assert aiko.inbox[1]["message"]["template"]["type"] == "confirm"


def test_push_reaches_non_friends_only_within_7_days_of_their_message(emu, api):
    stranger, recent, old, blocked = (emu.add_user(n) for n in ("S", "R", "O", "B"))
    now = emu.clock.now()
    recent.record.last_message_at = now - 6 * DAY
    old.record.last_message_at = now - 8 * DAY
    blocked.record.last_message_at = now - 60
    block(blocked)
    unknown = "U" + "0" * 32
    for user_id in (stranger.user_id, recent.user_id, old.user_id, blocked.user_id, unknown):
        response = api.push_message(msg.PushMessageRequest(to=user_id, messages=[text("hi")]))
        assert len(response.sent_messages) == 1  # LINE answers 200 either way

    assert [len(u.inbox) for u in (stranger, recent, old, blocked)] == [0, 1, 0, 0]
    assert api.get_message_quota_consumption().total_usage == 1  # only the delivered one


def test_push_needs_a_well_formed_recipient(emulator_server, emu):
    answer = raw(emulator_server, "POST", "/v2/bot/message/push",
                 json={"to": "aiko", "messages": [{"type": "text", "text": "x"}]})
    assert answer.status_code == 400
    assert answer.json() == {"message": "The request body has 1 error(s)", "details": [
        {"message": "must be a user ID, group ID or room ID", "property": "to"}]}


def test_multicast_delivers_once_per_friend_and_skips_the_others(emu, api):
    aiko, ben = friends(emu, 2)
    carol = friend(emu, "Carol")
    block(carol)
    stranger = emu.add_user("Stranger")
    to = [aiko.user_id, aiko.user_id, ben.user_id, carol.user_id, stranger.user_id]
    assert api.multicast(msg.MulticastRequest(to=to, messages=[text("セール")])) == {}

    assert inbox_texts(aiko) == [("multicast", "セール")]
    assert inbox_texts(ben) == [("multicast", "セール")]
    assert carol.inbox == [] and stranger.inbox == []
    assert api.get_message_quota_consumption().total_usage == 2


def test_broadcast_goes_to_every_friend_and_nobody_else(emu, api):
    everyone = friends(emu, 3)
    block(everyone[2])
    emu.add_user("not a friend")
    api.broadcast(msg.BroadcastRequest(messages=[text("お知らせ"), text("2")]))

    assert [len(u.inbox) for u in everyone] == [2, 2, 0]
    assert sum(len(u.inbox) for u in emu.users.values()) == 4
    assert api.get_message_quota_consumption().total_usage == 2  # per recipient, not per message


def _reply(api, token, value="ok"):
    return api.reply_message(msg.ReplyMessageRequest(reply_token=token, messages=[text(value)]))


def _invalid_token(api, token):
    with pytest.raises(ApiException) as caught:
        _reply(api, token)
    assert caught.value.status == 400
    assert caught.value.body == '{"message": "Invalid reply token"}'


def test_a_reply_token_works_once(emu, api):
    aiko = friend(emu)
    token = emu.messaging.issue_reply_token(aiko.user_id, emu.clock.now_ms())
    sent = _reply(api, token, "ようこそ").sent_messages
    assert inbox_texts(aiko) == [("reply", "ようこそ")]
    assert aiko.inbox[0]["messageId"] == sent[0].id
    _invalid_token(api, token)
    _invalid_token(api, "not-a-token")
    assert len(aiko.inbox) == 1
    assert api.get_message_quota_consumption().total_usage == 0  # replies are free


def test_a_reply_token_expires_after_a_minute(emu, api):
    aiko = friend(emu)
    token = emu.messaging.issue_reply_token(aiko.user_id, emu.clock.now_ms())
    emu.advance(60)
    late = emu.messaging.issue_reply_token(aiko.user_id, emu.clock.now_ms())
    emu.advance(1)
    _invalid_token(api, token)
    _reply(api, late)
    assert len(aiko.inbox) == 1


def test_a_redelivery_renews_the_token_but_never_past_20_minutes(emu, api):
    aiko = friend(emu)
    event_ms = emu.clock.now_ms()
    token = emu.messaging.issue_reply_token(aiko.user_id, event_ms)
    emu.advance(5 * 60)
    assert emu.messaging.renew_reply_token(token) is True
    emu.advance(30)
    other = emu.messaging.issue_reply_token(aiko.user_id, event_ms)
    _reply(api, token)  # 5.5 minutes after the event, thanks to the redelivery
    assert emu.messaging.renew_reply_token(token) is False  # used: renewing changes nothing
    emu.advance(20 * 60)
    assert emu.messaging.renew_reply_token(other) is False  # more than 20 minutes after the event
    _invalid_token(api, other)


def test_a_bad_reply_body_leaves_the_token_usable(emulator_server, emu, api):
    aiko = friend(emu)
    token = emu.messaging.issue_reply_token(aiko.user_id, emu.clock.now_ms())
    answer = raw(emulator_server, "POST", "/v2/bot/message/reply",
                 json={"replyToken": token, "messages": []})
    assert answer.status_code == 400
    assert answer.json()["details"] == [{"message": "Size must be between 1 and 5",
                                         "property": "messages"}]
    with pytest.raises(ApiException) as caught:  # replies never take a retry key
        api.reply_message(msg.ReplyMessageRequest(reply_token=token, messages=[text()]),
                          _headers={"X-Line-Retry-Key": str(uuid.uuid4())})
    assert caught.value.status == 400
    _reply(api, token)
    assert len(aiko.inbox) == 1


def test_a_reply_to_a_user_who_blocked_meanwhile_is_not_delivered(emu, api):
    aiko = friend(emu)
    token = emu.messaging.issue_reply_token(aiko.user_id, emu.clock.now_ms())
    block(aiko)
    assert len(_reply(api, token).sent_messages) == 1
    assert aiko.inbox == []


def test_the_monthly_quota_stops_a_send_before_anything_goes_out(emu, api):
    team = friends(emu, 4)
    assert api.get_message_quota().to_dict() == {"type": "none"}
    emu.config.quota = 3
    assert api.get_message_quota().to_dict() == {"type": "limited", "value": 3}

    with pytest.raises(ApiException) as caught:
        api.multicast(msg.MulticastRequest(to=[u.user_id for u in team], messages=[text()]))
    assert caught.value.status == 429
    assert caught.value.body == '{"message": "You have reached your monthly limit."}'
    assert all(u.inbox == [] for u in team)

    api.multicast(msg.MulticastRequest(to=[u.user_id for u in team[:3]], messages=[text()]))
    with pytest.raises(ApiException) as caught:
        api.push_message(msg.PushMessageRequest(to=team[3].user_id, messages=[text()]))
    assert caught.value.status == 429
    assert team[3].inbox == []
    assert api.get_message_quota_consumption().total_usage == 3
    emu.advance(30 * DAY)  # December (UTC+9): a new month
    api.push_message(msg.PushMessageRequest(to=team[3].user_id, messages=[text()]))
    assert api.get_message_quota_consumption().total_usage == 1


def test_validate_endpoints_check_messages_and_send_nothing(emu, api):
    aiko = friend(emu)
    good = msg.ValidateMessageRequest(messages=[text(), msg.StickerMessage(package_id="446",
                                                                         sticker_id="1988")])
    for call in (api.validate_push, api.validate_reply, api.validate_multicast,
                 api.validate_narrowcast, api.validate_broadcast):
        assert call(good) is None
        with pytest.raises(ApiException) as caught:
            call(msg.ValidateMessageRequest(messages=[text("x" * 5001)]))
        assert caught.value.status == 400
        assert '"property": "messages[0].text"' in caught.value.body
    assert aiko.inbox == [] and emu.messaging.deliveries == []


def test_a_body_over_2_mb_is_refused_with_413(emulator_server, emu):
    aiko = friend(emu)
    huge = {"to": aiko.user_id, "messages": [{"type": "text", "text": "x" * 5000}],
            "padding": "p" * (2 * 1024 * 1024)}
    answer = raw(emulator_server, "POST", "/v2/bot/message/push", json=huge)
    assert answer.status_code == 413
    assert aiko.inbox == []
