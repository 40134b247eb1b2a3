"""Signed webhook delivery: exact bytes, signature, delivery modes, attempt log, redelivery."""

import json
import socket
import threading
import time

import pytest
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import ApiClient, MessagingApi, PushMessageRequest, TextMessage
from linebot.v3.webhooks import FollowEvent, MessageEvent

from line_emulator import Emulator


def parse(emu, received):
    """Parse one received webhook as a bot does: raw body text + x-line-signature."""
    parser = WebhookParser(emu.config.channel_secret)
    return parser.parse(received["raw"].decode("utf-8"), received["headers"]["X-Line-Signature"])


def test_body_is_signed_utf8_that_the_sdk_verifies(emu, webhook_sink):
    aiko = emu.add_user("愛子")
    aiko.follow()
    aiko.say("こんにちは 🍣 ID連携")

    received = webhook_sink.received[-1]
    assert "こんにちは 🍣".encode() in received["raw"]  # UTF-8, not \\u escapes
    assert b": " not in received["raw"] and b", " not in received["raw"]  # compact
    assert received["headers"]["Content-Type"] == "application/json; charset=UTF-8"
    assert received["headers"]["User-Agent"] == "LineBotWebhook/2.0"
    assert received["body"]["destination"] == emu.config.bot_user_id

    [event] = parse(emu, received)
    assert isinstance(event, MessageEvent)
    assert event.message.text == "こんにちは 🍣 ID連携"
    assert event.source.user_id == aiko.user_id
    assert event.mode == "active"
    assert event.delivery_context.is_redelivery is False
    assert event.timestamp == emu.clock.now_ms()
    assert len(event.webhook_event_id) == 26


def test_tampered_or_reserialized_body_fails_the_signature(emu, webhook_sink):
    emu.add_user("愛子").say("寿司 🍣 をください")
    received = webhook_sink.received[-1]
    signature = received["headers"]["X-Line-Signature"]
    parser = WebhookParser(emu.config.channel_secret)
    text = received["raw"].decode("utf-8")

    with pytest.raises(InvalidSignatureError):
        parser.parse(text.replace("🍣", "🍺"), signature)
    with pytest.raises(InvalidSignatureError):
        parser.parse(json.dumps(json.loads(text)), signature)  # re-serialized JSON
    assert parser.parse(text, signature)  # the exact bytes still verify


def test_sign_helper_matches_the_header(emu, webhook_sink):
    emu.add_user("Aiko").follow()
    received = webhook_sink.received[-1]
    assert emu.webhooks.sign(received["raw"]) == received["headers"]["X-Line-Signature"]


def test_bad_signature_switch_is_rejected_by_the_sdk(emu, webhook_sink):
    emu.webhooks.bad_signature = True
    emu.add_user("Aiko").follow()
    with pytest.raises(InvalidSignatureError):
        parse(emu, webhook_sink.received[-1])


def test_sync_mode_returns_the_bots_answer(emu, webhook_sink):
    webhook_sink.status = 202
    result = emu.add_user("Aiko").follow()
    [delivery] = result.deliveries
    assert delivery["status"] == 202
    assert delivery["outcome"] == "ok" and delivery["error"] is None
    assert delivery["eventIds"] == [result.event["webhookEventId"]]
    assert delivery["url"] == webhook_sink.url
    assert delivery["isRedelivery"] is False
    assert emu.webhooks.deliveries == [delivery]
    assert isinstance(parse(emu, webhook_sink.received[0])[0], FollowEvent)


def test_queued_mode_holds_until_flush(emu, webhook_sink):
    emu.webhooks.mode = "queued"
    aiko = emu.add_user("Aiko")
    follow = aiko.follow()
    say = aiko.say("hello")
    assert webhook_sink.received == [] and follow.deliveries == []
    assert emu.webhooks.pending["held"] == 2

    records = emu.flush()
    assert [r["status"] for r in records] == [200, 200]
    assert [e["type"] for e in webhook_sink.events] == ["follow", "message"]
    assert follow.deliveries == records[:1] and say.deliveries == records[1:]
    assert emu.flush() == []  # nothing is sent twice


def test_background_mode_delivers_from_a_worker(webhook_sink):
    emu = Emulator(seed=3, webhook_url=webhook_sink.url, delivery="background")
    try:
        aiko = emu.add_user("Aiko")
        aiko.follow()
        aiko.say("one")
        assert emu.webhooks.wait_idle()
        assert [e["type"] for e in webhook_sink.events] == ["follow", "message"]
        assert [d["status"] for d in emu.webhooks.deliveries] == [200, 200]
    finally:
        emu.webhooks.stop()


def test_a_bot_calling_back_from_its_handler_does_not_deadlock(emulator_server, webhook_sink):
    emu = emulator_server.emulator
    api = MessagingApi(ApiClient(emulator_server.messaging_configuration()))
    answered = []

    def bot(request):
        event = json.loads(request.get_data())["events"][0]
        user_id = event["source"]["userId"]
        api.push_message(PushMessageRequest(to=user_id, messages=[TextMessage(text="Welcome")]))
        answered.append(user_id)

    webhook_sink.on_request = bot
    aiko = emu.add_user("Aiko")
    result = aiko.follow()
    assert result.deliveries[0]["status"] == 200  # not request_timeout
    assert answered == [aiko.user_id]
    assert [m["message"]["text"] for m in aiko.inbox] == ["Welcome"]


def test_a_bot_replying_with_its_reply_token_in_sync_mode(emulator_server, webhook_sink):
    from linebot.v3.messaging import ReplyMessageRequest

    emu = emulator_server.emulator
    api = MessagingApi(ApiClient(emulator_server.messaging_configuration()))

    def bot(request):
        event = json.loads(request.get_data())["events"][0]
        api.reply_message(ReplyMessageRequest(reply_token=event["replyToken"],
                                              messages=[TextMessage(text="はい")]))

    webhook_sink.on_request = bot
    aiko = emu.add_user("Aiko")
    result = aiko.say("こんにちは")
    assert result.deliveries[0]["status"] == 200
    assert [m["message"]["text"] for m in aiko.inbox] == ["はい"]


# Failures and redelivery -------------------------------------------------------------------
def _closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/line/webhook"


def test_connection_failure_is_could_not_connect():
    emu = Emulator(seed=1, webhook_url=_closed_port_url())
    [delivery] = emu.add_user("Aiko").follow().deliveries
    assert delivery["status"] is None
    assert delivery["error"] == "could_not_connect"
    assert delivery["outcome"] == "failed"


def test_slow_bot_is_request_timeout(emu, webhook_sink):
    release = threading.Event()
    webhook_sink.on_request = lambda request: release.wait(5)
    emu.webhooks.timeout = 0.2  # LINE's is 2 s; shortened to keep the test quick
    try:
        [delivery] = emu.add_user("Aiko").follow().deliveries
    finally:
        release.set()
    assert delivery["error"] == "request_timeout" and delivery["status"] is None


def test_error_status_is_recorded(emu, webhook_sink):
    webhook_sink.status = 503
    [delivery] = emu.add_user("Aiko").follow().deliveries
    assert (delivery["status"], delivery["error"]) == (503, "error_status_code")


@pytest.mark.parametrize("change", [{"webhook_url": None}, {"webhook_enabled": False}])
def test_no_url_or_disabled_is_skipped_and_nothing_sent(emu, webhook_sink, change):
    for name, value in change.items():
        setattr(emu.config, name, value)
    emu.config.redelivery = True
    aiko = emu.add_user("Aiko")
    [delivery] = aiko.follow().deliveries
    aiko.say("still works")
    emu.advance(3600)
    assert delivery["outcome"] == "skipped" and delivery["status"] is None
    assert webhook_sink.received == []
    assert [d["outcome"] for d in emu.webhooks.deliveries] == ["skipped", "skipped"]


def test_redelivery_keeps_the_event_id_and_reply_token(emu, webhook_sink):
    emu.config.redelivery = True
    webhook_sink.status = 500
    event = emu.add_user("Aiko").say("hello").event
    webhook_sink.status = 200

    emu.advance(9)
    assert len(webhook_sink.received) == 1  # not due yet
    emu.advance(1)
    assert len(webhook_sink.received) == 2
    [again] = parse(emu, webhook_sink.received[1])
    assert again.webhook_event_id == event["webhookEventId"]
    assert again.reply_token == event["replyToken"]
    assert again.timestamp == event["timestamp"]  # when it happened, not when it was resent
    assert again.delivery_context.is_redelivery is True
    first, second = emu.webhooks.deliveries
    assert (first["status"], first["isRedelivery"]) == (500, False)
    assert (second["status"], second["isRedelivery"]) == (200, True)
    assert first["eventIds"] == second["eventIds"] == [event["webhookEventId"]]
    emu.advance(3600)
    assert len(webhook_sink.received) == 2  # delivered: never sent again


def test_redelivery_gives_up_after_three_more_tries(emu, webhook_sink):
    emu.config.redelivery = True
    webhook_sink.status = 500
    emu.add_user("Aiko").follow()
    for seconds in (10, 20, 40, 80, 3600):
        emu.advance(seconds)
    assert [d["attempt"] for d in emu.webhooks.deliveries] == [1, 2, 3, 4]
    assert [d["isRedelivery"] for d in emu.webhooks.deliveries] == [False, True, True, True]


def test_without_redelivery_a_failure_is_final(emu, webhook_sink):
    webhook_sink.status = 500
    emu.add_user("Aiko").follow()
    emu.advance(3600)
    assert len(webhook_sink.received) == 1


def test_redelivery_in_queued_mode_waits_for_flush(emu, webhook_sink):
    emu.config.redelivery = True
    emu.webhooks.mode = "queued"
    webhook_sink.status = 500
    emu.add_user("Aiko").follow()
    assert [d["status"] for d in emu.flush()] == [500]
    webhook_sink.status = 200
    emu.advance(10)
    assert len(webhook_sink.received) == 1
    [record] = emu.flush()
    assert record["isRedelivery"] is True and record["status"] == 200


def test_flush_under_the_lock_is_refused(emu):
    with emu.locked(), pytest.raises(RuntimeError, match="deadlock"):
        emu.flush()


def test_send_test_posts_an_empty_event_list(emu, webhook_sink):
    record = emu.webhooks.send_test()
    assert record["status"] == 200
    assert webhook_sink.received[0]["body"] == {"destination": emu.config.bot_user_id,
                                                "events": []}
    assert parse(emu, webhook_sink.received[0]) == []


def test_latency_is_measured(emu, webhook_sink):
    webhook_sink.on_request = lambda request: time.sleep(0.05)
    [delivery] = emu.add_user("Aiko").follow().deliveries
    assert isinstance(delivery["latencyMs"], int) and delivery["latencyMs"] >= 50
