"""The sender: retry keys stored before sending, 409 = accepted, backoff, quota, rate limits.

Integration tests run against the emulator; every wait goes through ManualTime, so nothing
really sleeps (the one read-timeout test uses a 0.3 s server-side delay to trigger a real
client timeout).
"""

import socket
import uuid

import pytest
import urllib3
from linebot.v3.messaging import TextMessage

from line_idlink.sender import (InvalidMessages, QuotaExceeded, RetriesExhausted, SendRejected,
                                Sender, canonical_json, to_messages)
from line_idlink.ratelimit import HOUR, ManualTime, RateLimiter
from line_idlink.retry import Backoff, classify

TEXT = [{"type": "text", "text": "セール開催中 🎉"}]


def make_friends(emu, count, name="user"):
    """Friends of the bot without a follow webhook each (1,000 POSTs would only slow tests)."""
    users = [emu.add_user(f"{name}{i}") for i in range(count)]
    with emu.locked():
        for user in users:
            user.record.friendship, user.record.ever_followed = "friend", True
    return [u.user_id for u in users]


@pytest.fixture
def clock():
    return ManualTime()


@pytest.fixture
def sender(emulator_server, clock):
    with Sender(emulator_server.messaging_configuration(), sleep=clock.sleep, clock=clock.now,
                backoff=Backoff(seed=1)) as s:
        yield s


def texts(user):
    return [entry["message"].get("text") for entry in user.inbox]


# Pure units --------------------------------------------------------------------------------------
def test_backoff_is_full_jitter_under_an_exponential_cap():
    backoff = Backoff(base=0.5, cap=30, seed=3)
    assert [backoff.ceiling(n) for n in (1, 2, 3, 6, 7, 12)] == [0.5, 1, 2, 16, 30, 30]
    waits = [backoff.delay(n) for n in range(1, 40)]
    assert all(0 <= w <= backoff.ceiling(n) for n, w in zip(range(1, 40), waits))
    same_seed = Backoff(base=0.5, cap=30, seed=3)
    assert waits == [same_seed.delay(n) for n in range(1, 40)]
    assert len(set(waits)) == len(waits)  # jittered, not a fixed ladder


def test_rate_limiter_waits_for_the_oldest_slot_of_a_sliding_window():
    t = ManualTime()
    limiter = RateLimiter(clock=t.now, sleep=t.sleep)
    for _ in range(200):
        assert limiter.acquire("multicast") == 0
    assert t.slept == []
    assert limiter.acquire("multicast") == pytest.approx(1.0)  # 201st multicast in one second
    for _ in range(60):
        limiter.acquire("broadcast")
    limiter.acquire("broadcast")
    assert t.slept[-1] == pytest.approx(HOUR)  # the 61st broadcast waits for the 1st to age out
    assert limiter.acquire("pushMessage") == 0  # endpoints are counted separately


def test_rate_limiter_override_and_default():
    t = ManualTime()
    limiter = RateLimiter(limits={"pushMessage": (2, 10)}, clock=t.now, sleep=t.sleep)
    limiter.acquire("pushMessage"), limiter.acquire("pushMessage")
    assert limiter.delay_for("pushMessage") == pytest.approx(10)
    assert limiter.limit_for("getProfile") == (2000, 1.0)


def test_a_request_sent_in_a_slot_counts_from_its_answer_not_from_its_slot():
    """LINE counted it at the latest when it answered: the window runs from the answer, so a
    slow request cannot let the next one in too early (and a fixed margin need not be guessed)."""
    t = ManualTime()
    limiter = RateLimiter(limits={"multicast": (2, 1.0)}, clock=t.now, sleep=t.sleep)
    with limiter.slot("multicast") as waited:
        t.sleep(0.3)  # the answer comes 0.3 s after the slot
    assert waited == 0
    assert limiter.acquire("multicast") == 0  # at 0.3 s: the 2nd of 2
    assert limiter.delay_for("multicast") == pytest.approx(1.0)  # 1st frees at 0.3 + 1, not 1.0
    with limiter.slot("multicast") as waited:
        assert waited == pytest.approx(1.0)
    # acquire() alone counts from the slot: the 2nd (at 0.3 s) is out of the window at 1.3 s
    assert limiter.delay_for("multicast") == 0
    with_margin = RateLimiter(limits={"multicast": (1, 1.0)}, clock=t.now, margin=0.25)
    with_margin.acquire("multicast")
    assert with_margin.delay_for("multicast") == pytest.approx(1.25)


def test_classify_tells_sent_from_maybe_sent():
    refused = urllib3.exceptions.NewConnectionError(None, "refused")
    assert classify(refused).kind == "not_sent"
    assert classify(urllib3.exceptions.MaxRetryError(None, "/", refused)).kind == "not_sent"
    read = urllib3.exceptions.ReadTimeoutError(None, "/", "read timed out")
    assert classify(read).kind == "maybe_sent"
    assert classify(urllib3.exceptions.ProtocolError("Connection aborted")).kind == "maybe_sent"


def test_messages_are_checked_before_anything_is_sent(sender, emu):
    user = make_friends(emu, 1)[0]
    with pytest.raises(InvalidMessages, match="1 to 5 messages"):
        sender.push(user, TEXT * 6)
    with pytest.raises(InvalidMessages, match="1 to 5 messages"):
        sender.push(user, [])
    with pytest.raises(InvalidMessages, match="messages\\[0\\]"):
        sender.push(user, [{"type": "bogus"}])
    with pytest.raises(InvalidMessages, match="customAggregationUnits"):
        sender.push(user, TEXT, aggregation_unit="has space")
    with pytest.raises(InvalidMessages, match="UUID"):
        sender.push(user, TEXT, retry_key="not-a-uuid")
    with pytest.raises(InvalidMessages, match="1 to 500"):
        sender.multicast([f"U{i:032x}" for i in range(501)], TEXT)
    with pytest.raises(InvalidMessages, match="distinct"):
        sender.multicast([user, user], TEXT)
    assert emu.request_log == []


def test_canonical_json_ignores_key_order_and_model_types():
    a = [{"type": "text", "text": "x"}]
    b = [{"text": "x", "type": "text"}]
    assert canonical_json(a) == canonical_json(b) == canonical_json(to_messages(b))
    assert canonical_json(a) != canonical_json([{"type": "text", "text": "y"}])


def test_urllib3_retries_are_off_and_the_callers_configuration_is_untouched(emulator_server):
    configuration = emulator_server.messaging_configuration()
    sender = Sender(configuration)
    assert sender.caller.configuration.retries is False
    assert configuration.retries is None
    sender.close()


# Against the emulator ----------------------------------------------------------------------------
def test_push_stores_its_key_before_the_first_attempt(sender, emu):
    user = make_friends(emu, 1)[0]
    stored = []

    def key_store(key, recipients):
        assert emu.requests_for("pushMessage") == []  # nothing has gone out yet
        stored.append((key, recipients))

    result = sender.push(user, TEXT, aggregation_unit="promo_2026_11", key_store=key_store)
    assert result.status == "sent" and result.ok and result.attempts == 1
    (entry,) = emu.requests_for("pushMessage")
    assert stored == [(result.retry_key, [user])]
    assert entry["retryKey"] == result.retry_key and uuid.UUID(result.retry_key)
    assert entry["requestId"] == result.request_id
    assert entry["body"]["customAggregationUnits"] == ["promo_2026_11"]
    assert texts(emu.user(user)) == ["セール開催中 🎉"]
    assert result.sent_messages[0]["id"] == emu.user(user).inbox[0]["messageId"]


def test_a_failing_key_store_sends_nothing(sender, emu):
    user = make_friends(emu, 1)[0]

    def broken_store(key, recipients):
        raise OSError("disk full")

    with pytest.raises(OSError):
        sender.push(user, TEXT, key_store=broken_store)
    assert emu.requests_for("pushMessage") == [] and emu.user(user).inbox == []


def test_dropped_connection_after_acceptance_is_retried_with_the_same_key(sender, emu, clock):
    user = make_friends(emu, 1)[0]
    emu.faults.add({"endpoint": "pushMessage", "action": "drop", "when": "after", "times": 1})
    result = sender.push(user, TEXT)
    assert result.status == "accepted_before" and result.ok
    assert result.history == ["maybe_sent", "accepted"] and result.attempts == 2
    attempts = emu.requests_for("pushMessage")
    assert {a["retryKey"] for a in attempts} == {result.retry_key}
    assert [a["status"] for a in attempts] == [None, 409]
    assert result.request_id == attempts[0]["requestId"]  # x-line-accepted-request-id
    assert len(emu.user(user).inbox) == 1  # delivered exactly once
    assert result.sent_messages[0]["id"] == emu.user(user).inbox[0]["messageId"]
    assert clock.slept == result.waits and 0 <= result.waits[0] <= 0.5


def test_resending_with_a_stored_key_is_accepted_before(sender, emu):
    user = make_friends(emu, 1)[0]
    first = sender.push(user, TEXT)
    again = sender.push(user, TEXT, retry_key=first.retry_key)
    assert again.status == "accepted_before" and again.request_id == first.request_id
    assert again.sent_messages == first.sent_messages
    assert len(emu.user(user).inbox) == 1


def test_a_429_storm_waits_with_backoff_and_then_sends(sender, emu, clock):
    user = make_friends(emu, 1)[0]
    emu.faults.add({"endpoint": "pushMessage", "action": "rate_limit", "times": 4})
    result = sender.push(user, TEXT)
    assert result.status == "sent"
    assert result.attempts == 5 and result.history == ["throttled"] * 4 + ["ok"]
    assert clock.slept == result.waits and len(result.waits) == 4
    assert all(0 <= w <= 0.5 * 2 ** i for i, w in enumerate(result.waits))
    assert len(emu.user(user).inbox) == 1


def test_5xx_then_success(sender, emu):
    user = make_friends(emu, 1)[0]
    emu.faults.add({"endpoint": "pushMessage", "action": "status", "status": 503, "times": 2})
    result = sender.push(user, TEXT)
    assert result.status == "sent" and result.history == ["server", "server", "ok"]
    assert len(emu.user(user).inbox) == 1


def test_retries_are_bounded(emulator_server, emu, clock):
    user = make_friends(emu, 1)[0]
    emu.faults.add({"endpoint": "pushMessage", "action": "status", "status": 500})
    sender = Sender(emulator_server.messaging_configuration(), max_attempts=3,
                    sleep=clock.sleep, clock=clock.now)
    result = sender.push(user, TEXT)
    assert result.status == "failed" and result.attempts == 3
    assert isinstance(result.error, RetriesExhausted) and result.error.maybe_sent
    assert len(emu.requests_for("pushMessage")) == 3 and len(clock.slept) == 2
    with pytest.raises(RetriesExhausted):
        result.raise_for_error()


def test_monthly_quota_is_not_retried(sender, emu):
    users = make_friends(emu, 3)
    emu.config.quota = 2
    assert sender.push(users[0], TEXT).status == "sent"
    assert sender.push(users[1], TEXT).status == "sent"
    result = sender.push(users[2], TEXT)
    assert result.status == "failed" and result.attempts == 1
    assert isinstance(result.error, QuotaExceeded) and result.error.status == 429
    assert "monthly limit" in result.error.message
    assert emu.user(users[2]).inbox == []


def test_other_4xx_is_permanent_with_lines_details(sender, emu):
    result = sender.push("not-a-user-id", TEXT)
    assert result.status == "failed" and result.attempts == 1
    assert isinstance(result.error, SendRejected) and result.error.status == 400
    assert result.error.details and result.error.details[0]["property"] == "to"
    assert "to" in str(result.error)


def test_read_timeout_after_acceptance_is_retried_with_the_same_key(emulator_server, emu, clock):
    user = make_friends(emu, 1)[0]
    emu.faults.add({"endpoint": "pushMessage", "action": "delay", "seconds": 0.3, "when": "after",
                    "times": 1})
    sender = Sender(emulator_server.messaging_configuration(), timeout=(1, 0.1),
                    sleep=clock.sleep, clock=clock.now)
    result = sender.push(user, TEXT)
    assert result.history[0] == "maybe_sent" and result.status == "accepted_before"
    assert len(emu.user(user).inbox) == 1


def test_connection_refused_is_retried_then_reported(clock):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sender = Sender((f"http://127.0.0.1:{port}", "token"), max_attempts=4, sleep=clock.sleep,
                    clock=clock.now)
    result = sender.push("U" + "0" * 32, TEXT)
    assert result.history == ["not_sent"] * 4
    assert isinstance(result.error, RetriesExhausted) and not result.error.maybe_sent
    reply = sender.reply("token", TEXT)
    assert reply.history == ["not_sent"] * 3  # reply_attempts


def test_multicast_all_chunks_by_500_with_one_key_per_chunk(sender, emu):
    users = make_friends(emu, 1201)
    keys = []
    results = sender.multicast_all(users + users[:3], TEXT, aggregation_unit="nov",
                                   key_store=lambda key, ids: keys.append((key, len(ids))))
    bodies = [entry["body"] for entry in emu.requests_for("multicast")]
    assert [len(b["to"]) for b in bodies] == [500, 500, 201]
    assert [b["to"] for b in bodies] == [users[:500], users[500:1000], users[1000:]]
    assert all(b["customAggregationUnits"] == ["nov"] for b in bodies)
    assert [n for _, n in keys] == [500, 500, 201]
    assert len({k for k, _ in keys}) == 3
    assert [r.user_id for r in results] == users  # one result per distinct recipient
    assert {r.status for r in results} == {"sent"}
    assert all(len(emu.user(u).inbox) == 1 for u in users)


def test_multicast_all_stops_at_the_quota_and_reports_the_rest_pending(sender, emu):
    users = make_friends(emu, 1100)
    emu.config.quota = 700
    results = sender.multicast_all(users, TEXT)
    statuses = [r.status for r in results]
    assert statuses == ["sent"] * 500 + ["failed"] * 500 + ["pending"] * 100
    assert isinstance(results[600].error, QuotaExceeded)
    assert len(emu.requests_for("multicast")) == 2


def test_multicast_rate_limit_comes_from_the_client_limiter_not_from_429s(emulator_server, emu):
    """205 multicasts at once: the client waits for the 201st instead of hitting LINE's 200/s."""
    users = make_friends(emu, 1)
    t = ManualTime(on_sleep=emu.advance)  # the emulator's rate window moves with our clock
    sender = Sender(emulator_server.messaging_configuration(), sleep=t.sleep, clock=t.now)
    emu.advance(0)
    statuses = [sender.multicast(users, TEXT).status for _ in range(205)]
    assert statuses == ["sent"] * 205
    assert all(e["status"] == 200 for e in emu.requests_for("multicast"))
    assert t.slept == [pytest.approx(1.0)]


SERIALISED = []  # texts of SerialisedText messages, each time one is turned into JSON values


class SerialisedText(TextMessage):
    """A text message that notes in SERIALISED each time it is turned into JSON values."""

    def to_dict(self):
        SERIALISED.append(self.text)
        return super().to_dict()


class SlotSpy(RateLimiter):
    """The real limiter, noting at each slot taken: the endpoint, how many times the message had
    been serialised, and how many requests of that endpoint the emulator had received."""

    def __init__(self, emu, **options):
        super().__init__(**options)
        self.emu = emu
        self.slots = []

    def slot(self, endpoint):
        self.slots.append((endpoint, len(SERIALISED),
                           len(self.emu.requests_for(endpoint))))
        return super().slot(endpoint)


def test_the_rate_limit_slot_is_taken_after_the_body_is_built_right_before_sending(
        emulator_server, emu, webhook_sink):
    """LINE counts a request when it arrives: the slot is taken once the body is JSON values, so
    building it (tens of ms on a busy machine) cannot push two requests a window apart into one
    window of LINE's. The retry key is stored before the slot is even asked for."""
    users = make_friends(emu, 2)
    t = ManualTime(on_sleep=emu.advance)
    limiter = SlotSpy(emu, clock=t.now, sleep=t.sleep)
    SERIALISED.clear()
    stored = []
    with Sender(emulator_server.messaging_configuration(), limiter=limiter, clock=t.now,
                sleep=t.sleep, backoff=Backoff(seed=1)) as sender:
        emu.faults.add({"endpoint": "multicast", "nth": 1, "action": "status", "status": 429})
        multicast = sender.multicast(users, [SerialisedText(text="冬の限定セット")],
                                     key_store=lambda key, to: stored.append(len(limiter.slots)))
        push = sender.push(users[0], [SerialisedText(text="ご注文ありがとうございます")])
        user = emu.add_user("Hana")
        user.follow()
        reply = sender.reply(webhook_sink.events[-1]["replyToken"], [SerialisedText(text="はい")])
    assert [multicast.history, push.status, reply.status] == [["throttled", "ok"], "sent", "sent"]
    assert stored == [0]  # the key was stored before the first slot
    # one slot per attempt, each taken after that attempt's body was built and before the
    # emulator saw the request: the 429-ed multicast again, then push, then reply
    assert limiter.slots == [("multicast", 1, 0), ("multicast", 2, 1), ("pushMessage", 3, 0),
                             ("replyMessage", 4, 0)]
    assert texts(emu.user(users[0])) == ["冬の限定セット", "ご注文ありがとうございます"]


def test_reply_is_sent_without_a_retry_key(sender, emu, webhook_sink):
    user = emu.add_user("Hana")
    user.follow()
    token = webhook_sink.events[0]["replyToken"]
    result = sender.reply(token, TEXT)
    assert result.status == "sent" and result.sent_messages
    (entry,) = emu.requests_for("replyMessage")
    assert entry["retryKey"] is None
    assert texts(user) == ["セール開催中 🎉"]
    again = sender.reply(token, TEXT)  # a used token: permanent, not retried
    assert isinstance(again.error, SendRejected) and again.attempts == 1


def test_reply_is_not_retried_when_it_may_have_arrived(sender, emu, webhook_sink):
    user = emu.add_user("Ken")
    user.follow()
    token = webhook_sink.events[0]["replyToken"]
    emu.faults.add({"endpoint": "replyMessage", "action": "drop", "when": "after", "times": 1})
    result = sender.reply(token, TEXT)
    assert result.status == "failed" and result.attempts == 1
    assert isinstance(result.error, RetriesExhausted) and result.error.maybe_sent
    assert len(user.inbox) == 1  # it did arrive: a blind retry would have been refused anyway


def test_reply_is_retried_after_a_throttle(sender, emu, webhook_sink):
    user = emu.add_user("Yui")
    user.follow()
    token = webhook_sink.events[0]["replyToken"]
    emu.faults.add({"endpoint": "replyMessage", "action": "rate_limit", "times": 1})
    result = sender.reply(token, TEXT)
    assert result.status == "sent" and result.history == ["throttled", "ok"]
    assert len(user.inbox) == 1


def test_a_multicast_body_is_the_json_the_sdk_itself_would_send():
    """MulticastBody skips pydantic's per-userId walk; what goes on the wire is unchanged."""
    from linebot.v3.messaging import ApiClient, Configuration, MulticastRequest, TextMessage

    from line_idlink.sender import MulticastBody

    ids = [f"U{index:032x}" for index in range(500)]
    messages = [TextMessage(text="冬の限定セット"), TextMessage(text="second")]
    client = ApiClient(Configuration(host="http://127.0.0.1:9", access_token="t"))
    for options in ({}, {"notification_disabled": True, "custom_aggregation_units": ["winter"]}):
        ours = MulticastBody.construct(to=ids, messages=messages, **{
            "notification_disabled": False, **options})
        sdk = MulticastRequest(to=ids, messages=messages, **options)
        assert client.sanitize_for_serialization(ours) == client.sanitize_for_serialization(sdk)
        assert list(ours.to_dict()) == list(sdk.to_dict())  # same key order, same bytes
