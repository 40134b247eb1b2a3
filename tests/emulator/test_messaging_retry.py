"""Retry keys end to end (the case they exist for: accepted, then the connection dropped) and
rate limits on the frozen clock, through the official SDK."""

import uuid

import pytest
import urllib3
from linebot.v3 import messaging as msg
from linebot.v3.messaging.exceptions import ApiException

from messaging_support import api, friend, friends, raw, text  # noqa: F401


def _drop_after_commit(emu, endpoint):
    emu.faults.add({"endpoint": endpoint, "action": "drop", "when": "after", "times": 1})


def _conflict(call, *args, **kwargs):
    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    assert caught.value.status == 409
    return caught.value


def test_a_push_accepted_then_dropped_is_not_sent_twice(emu, api):
    aiko = friend(emu)
    key = str(uuid.uuid4())
    request = msg.PushMessageRequest(to=aiko.user_id, messages=[text("ご注文ありがとうございます")])
    _drop_after_commit(emu, "pushMessage")
    with pytest.raises(urllib3.exceptions.HTTPError):  # the client never saw an answer
        api.push_message(request, x_line_retry_key=key)
    first_request_id = emu.requests_for("pushMessage")[0]["requestId"]
    assert len(aiko.inbox) == 1  # ... but LINE had accepted it

    conflict = _conflict(api.push_message, request, x_line_retry_key=key)
    assert conflict.headers["x-line-accepted-request-id"] == first_request_id
    assert conflict.headers["x-line-request-id"] != first_request_id
    assert f'"id": "{aiko.inbox[0]["messageId"]}"' in conflict.body  # the original sentMessages
    assert len(aiko.inbox) == 1


def test_a_multicast_accepted_then_dropped_is_not_sent_twice(emu, api):
    team = friends(emu, 3)
    key = str(uuid.uuid4())
    request = msg.MulticastRequest(to=[u.user_id for u in team], messages=[text("セール")])
    _drop_after_commit(emu, "multicast")
    with pytest.raises(urllib3.exceptions.HTTPError):
        api.multicast(request, x_line_retry_key=key)
    conflict = _conflict(api.multicast, request, x_line_retry_key=key)
    assert conflict.headers["x-line-accepted-request-id"] == \
        emu.requests_for("multicast")[0]["requestId"]
    assert [len(u.inbox) for u in team] == [1, 1, 1]


def test_rejected_requests_do_not_use_up_the_key(emulator_server, emu, api):
    aiko = friend(emu)
    key = str(uuid.uuid4())
    bad = raw(emulator_server, "POST", "/v2/bot/message/push", headers={"X-Line-Retry-Key": key},
              json={"to": aiko.user_id, "messages": [{"type": "text", "text": ""}]})
    assert bad.status_code == 400
    emu.config.quota = 0
    with pytest.raises(ApiException) as caught:
        api.push_message(msg.PushMessageRequest(to=aiko.user_id, messages=[text()]),
                         x_line_retry_key=key)
    assert caught.value.status == 429
    assert aiko.inbox == []
    emu.config.quota = None
    api.push_message(msg.PushMessageRequest(to=aiko.user_id, messages=[text()]),
                     x_line_retry_key=key)
    assert len(aiko.inbox) == 1
    _conflict(api.push_message, msg.PushMessageRequest(to=aiko.user_id, messages=[text()]),
              x_line_retry_key=key)


def test_a_retry_key_is_remembered_for_24_hours(emu, api):
    aiko = friend(emu)
    key = str(uuid.uuid4())
    request = msg.PushMessageRequest(to=aiko.user_id, messages=[text()])
    api.push_message(request, x_line_retry_key=key)
    emu.advance(24 * 3600 - 1)
    _conflict(api.push_message, request, x_line_retry_key=key)
    emu.advance(2)
    api.push_message(request, x_line_retry_key=key)  # a new request as far as LINE knows
    assert len(aiko.inbox) == 2


def test_multicast_is_limited_to_200_requests_a_second(emu, api):
    aiko = friend(emu)
    request = msg.MulticastRequest(to=[aiko.user_id], messages=[text()])
    for _ in range(200):
        api.multicast(request)
    with pytest.raises(ApiException) as caught:
        api.multicast(request)
    assert caught.value.status == 429
    assert len(aiko.inbox) == 200
    emu.advance(1)
    api.multicast(request)
    assert len(aiko.inbox) == 201


def test_broadcast_is_limited_to_60_requests_an_hour(emu, api):
    aiko = friend(emu)
    request = msg.BroadcastRequest(messages=[text()])
    for _ in range(60):
        api.broadcast(request)
        emu.advance(30)
    with pytest.raises(ApiException) as caught:
        api.broadcast(request)
    assert caught.value.status == 429
    emu.advance(1800)  # the first broadcast is now an hour old: one slot is free again
    api.broadcast(request)
    with pytest.raises(ApiException):
        api.broadcast(request)
    assert len(aiko.inbox) == 61
