"""Webhook intake: signatures over raw bytes, body checks, de-duplication, dispatch, processing."""

import json
import threading

import pytest
from linebot.v3.models.events import UnknownEvent
from linebot.v3.webhooks import FollowEvent, PostbackEvent
from werkzeug.datastructures import Headers

from line_idlink.storage import MemoryStorage, SQLiteStorage
from line_idlink.retry import RetriesExhausted
from line_idlink.webhook import (
    InvalidBody, InvalidSignature, RetryLater, StoredEvent, WebhookError, WebhookReceiver,
    compute_signature, signature_from_headers, verify_signature,
)

SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"
CHANNEL = "1600000001"
BOT = "U" + "0" * 32
USER = "U" + "1f" * 16
T0 = 1_800_000_000.0


@pytest.fixture(params=["memory", "sqlite"])
def storage(request, tmp_path):
    if request.param == "memory":
        yield MemoryStorage()
    else:
        store = SQLiteStorage(tmp_path / "events.db")
        yield store
        store.close()


@pytest.fixture
def receiver(storage):
    return WebhookReceiver(SECRET, storage, CHANNEL, clock=lambda: T0)


def event(kind="follow", event_id="01JB0000000000000000000001", redelivery=False, **extra):
    data = {"type": kind, "mode": "active", "timestamp": 1_800_000_000_000,
            "source": {"type": "user", "userId": USER}, "webhookEventId": event_id,
            "deliveryContext": {"isRedelivery": redelivery},
            "replyToken": "0f3779fba3b349968c5d07db31eab56f"}
    if kind == "follow":
        data["follow"] = {"isUnblocked": False}
    data.update(extra)
    return data


def body(*events, **options):
    """Compact UTF-8 JSON (Japanese kept as UTF-8), the way LINE sends it."""
    return json.dumps({"destination": BOT, "events": list(events)}, ensure_ascii=False,
                      separators=(",", ":"), **options).encode("utf-8")


def sign(raw, secret=SECRET):
    return compute_signature(secret, raw)


# Signatures --------------------------------------------------------------------------------------
def test_signature_matches_the_sdk_test_vector():
    signature = "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k="
    assert verify_signature("channel_secret", b"bodybodybodybody", signature)
    assert not verify_signature("channel_secret", b"bodybodybodybodY", signature)
    assert not verify_signature("other_secret", b"bodybodybodybody", signature)
    assert not verify_signature("channel_secret", b"bodybodybodybody", "")
    assert not verify_signature("channel_secret", b"bodybodybodybody", None)


def test_signature_is_checked_on_bytes_not_text():
    with pytest.raises(TypeError, match="raw request bytes"):
        verify_signature(SECRET, "{}", sign(b"{}"))


@pytest.mark.parametrize("headers", [
    {"X-Line-Signature": "sig"}, {"x-line-signature": "sig"}, {"X-LINE-SIGNATURE": "sig"},
    [("Content-Type", "application/json"), ("x-Line-signature", "sig")],
    Headers([("X-Line-Signature", "sig")]),
])
def test_signature_header_name_is_case_insensitive(headers):
    assert signature_from_headers(headers) == "sig"


def test_missing_signature_header():
    assert signature_from_headers({"Content-Type": "application/json"}) is None


def test_forged_signature_is_refused_and_nothing_stored(receiver, storage):
    raw = body(event())
    with pytest.raises(InvalidSignature):
        receiver.receive(raw, sign(raw, secret="0" * 32))
    with pytest.raises(InvalidSignature, match="missing"):
        receiver.receive(raw, None)
    assert storage.pending_events() == []


def test_reserialised_body_fails_the_signature(receiver, storage):
    raw = body(event("message", message={"type": "text", "id": "1", "text": "こんにちは 👋"}))
    signature = sign(raw)
    reserialised = json.dumps(json.loads(raw)).encode("utf-8")  # ASCII escapes, spaces
    assert reserialised != raw
    with pytest.raises(InvalidSignature, match="re-serialised"):
        receiver.receive(reserialised, signature)
    assert storage.pending_events() == []
    assert len(receiver.receive(raw, signature).accepted) == 1


def test_non_ascii_body_is_accepted_intact(receiver, storage):
    text = "注文履歴を見せて 🍣 café"
    raw = body(event("message", message={"type": "text", "id": "1", "text": text,
                                         "quoteToken": "q"}))
    receipt = receiver.receive(raw, sign(raw))
    assert receipt.accepted[0].data["message"]["text"] == text
    assert receipt.accepted[0].model.message.text == text
    stored = StoredEvent.from_record(storage.pending_events()[0])
    assert stored.data["message"]["text"] == text


# Body checks -------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, message", [
    (b"{not json", "not UTF-8 JSON"),
    (b"\xff\xfe{}", "not UTF-8 JSON"),
    (b"[]", "JSON object"),
    (b'{"destination":"U0"}', "'events' array"),
    (b'{"events":{}}', "'events' array"),
    (b'{"events":[1]}', r"events\[0\] must be an object"),
    (b'{"events":[{"webhookEventId":"01A"}]}', r"events\[0\].type"),
])
def test_invalid_body_is_refused_with_a_clear_error(receiver, storage, raw, message):
    with pytest.raises(InvalidBody, match=message):
        receiver.receive(raw, sign(raw))
    assert storage.pending_events() == []


def test_one_bad_event_refuses_the_whole_body(receiver, storage):
    good = event(event_id="01JB0000000000000000000001")
    bad = event(event_id="01JB0000000000000000000002")
    del bad["webhookEventId"]
    raw = body(good, bad)
    with pytest.raises(InvalidBody, match=r"events\[1\].webhookEventId"):
        receiver.receive(raw, sign(raw))
    assert storage.pending_events() == []


def test_errors_are_value_errors_for_a_400():
    assert issubclass(InvalidSignature, WebhookError) and issubclass(InvalidBody, ValueError)


def test_empty_events_list_is_accepted(receiver, storage):
    raw = body()
    receipt = receiver.receive(raw, sign(raw))
    assert (receipt.accepted, receipt.duplicates, receipt.unknown) == ([], [], [])
    assert receipt.destination == BOT
    assert storage.pending_events() == []


# De-duplication ----------------------------------------------------------------------------------
def test_duplicate_event_ids_are_stored_once(receiver, storage):
    raw = body(event(event_id="01A0000000000000000000000A"),
               event(event_id="01A0000000000000000000000B"))
    first = receiver.receive(raw, sign(raw))
    again = receiver.receive(raw, sign(raw))
    assert [e.event_id for e in first.accepted] == ["01A0000000000000000000000A",
                                                    "01A0000000000000000000000B"]
    assert again.accepted == [] and again.duplicates == ["01A0000000000000000000000A",
                                                         "01A0000000000000000000000B"]
    assert len(storage.pending_events()) == 2


def test_redelivery_of_a_known_event_is_skipped(receiver, storage):
    original = body(event(event_id="01A0000000000000000000000A"))
    receiver.receive(original, sign(original))
    redelivered = body(event(event_id="01A0000000000000000000000A", redelivery=True))
    receipt = receiver.receive(redelivered, sign(redelivered))
    assert receipt.duplicates == ["01A0000000000000000000000A"] and receipt.accepted == []


def test_redelivery_of_an_unknown_event_is_accepted(receiver):
    raw = body(event(event_id="01A0000000000000000000000C", redelivery=True))
    receipt = receiver.receive(raw, sign(raw))
    assert receipt.accepted[0].is_redelivery is True


def test_same_id_twice_in_one_body_is_stored_once(receiver, storage):
    raw = body(event(), event())
    receipt = receiver.receive(raw, sign(raw))
    assert len(receipt.accepted) == 1 and len(receipt.duplicates) == 1


# Dispatch and processing -------------------------------------------------------------------------
def test_handlers_get_events_by_type_with_sdk_models(receiver):
    seen = []
    receiver.on("follow", lambda ev: seen.append(("follow", type(ev.model), ev.user_id)))

    @receiver.on("postback")
    def on_postback(ev):
        seen.append(("postback", type(ev.model), ev.model.postback.data))
        return "answered"

    raw = body(event("follow", event_id="01A"),
               event("postback", event_id="01B", postback={"data": "action=orders"}))
    receipt = receiver.receive(raw, sign(raw))
    assert receipt.accepted and seen == []  # receiving runs no handler
    done = receiver.process_pending()
    assert seen == [("follow", FollowEvent, USER), ("postback", PostbackEvent, "action=orders")]
    assert [(p.event_id, p.handled, p.result) for p in done] == [("01A", True, None),
                                                                 ("01B", True, "answered")]
    assert receiver.process_pending() == []  # each event is processed once


def test_unknown_event_types_go_to_the_default_handler(receiver, storage):
    seen = []
    receiver.default(lambda ev: seen.append((ev.type, ev.is_unknown)))
    raw = body(event("brandNewType", event_id="01A", brandNew={"x": 1}), event(event_id="01B"))
    receipt = receiver.receive(raw, sign(raw))
    assert receipt.unknown == ["01A"]
    assert isinstance(receipt.accepted[0].model, UnknownEvent)
    receiver.process_pending()
    assert seen == [("brandNewType", True), ("follow", False)]
    assert storage.get_event("01A").error is None


def test_unknown_event_without_default_handler_is_not_an_error(receiver, storage):
    raw = body(event("brandNewType", event_id="01A"))
    receiver.receive(raw, sign(raw))
    [done] = receiver.process_pending()
    assert done.handled is False and done.error is None
    record = storage.get_event("01A")
    assert record.finished_at == T0 and record.error == "unhandled"


def test_a_failing_handler_is_recorded_and_not_retried(receiver, storage):
    calls = []

    def explode(ev):
        calls.append(ev.event_id)
        raise RuntimeError("database down")

    receiver.on("follow", explode)
    receiver.on("unfollow", lambda ev: calls.append(ev.event_id))
    raw = body(event("follow", event_id="01A"), event("unfollow", event_id="01B"))
    receiver.receive(raw, sign(raw))
    done = receiver.process_pending()
    assert [(p.event_id, p.error) for p in done] == [("01A", "RuntimeError: database down"),
                                                     ("01B", None)]
    assert storage.get_event("01A").error == "RuntimeError: database down"
    assert receiver.process_pending() == [] and calls == ["01A", "01B"]


def test_two_workers_process_each_event_once(storage):
    handled = []
    lock = threading.Lock()

    def handler(ev):
        with lock:
            handled.append(ev.event_id)

    workers = [WebhookReceiver(SECRET, storage, CHANNEL, handlers={"follow": handler})
               for _ in range(4)]
    raw = body(*[event(event_id=f"01A{i:023d}") for i in range(20)])
    workers[0].receive(raw, sign(raw))
    barrier = threading.Barrier(4)

    def run(worker):
        barrier.wait()
        worker.process_pending()

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(handled) == sorted(f"01A{i:023d}" for i in range(20))


def test_events_of_other_channels_are_left_alone(storage):
    mine = WebhookReceiver(SECRET, storage, CHANNEL)
    other = WebhookReceiver("f" * 32, storage, "1600000002")
    raw = body(event(event_id="01A"))
    other.receive(raw, sign(raw, "f" * 32))
    assert mine.process_pending() == []
    assert [p.event_id for p in other.process_pending()] == ["01A"]


def test_standby_events_have_no_reply_token(receiver):
    raw = body(event(mode="standby"))
    [stored] = receiver.receive(raw, sign(raw)).accepted
    assert stored.mode == "standby" and stored.reply_token is None


def test_handle_receives_and_processes(receiver):
    receiver.on("follow", lambda ev: ev.model.follow.is_unblocked)
    raw = body(event())
    receipt, done = receiver.handle(raw, sign(raw))
    assert len(receipt.accepted) == 1 and [p.result for p in done] == [False]


def test_receiver_never_shows_its_secret(receiver):
    assert SECRET not in repr(receiver)
    with pytest.raises(ValueError):
        WebhookReceiver("", MemoryStorage())


# Retry policy ------------------------------------------------------------------------------------
class Clock:
    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now


def test_transient_failures_are_retried_after_1_2_4_8_minutes_then_finished(storage):
    clock = Clock()
    calls = []

    def flaky(ev):
        calls.append(clock.now)
        raise RetriesExhausted("LINE answered 500 three times")

    receiver = WebhookReceiver(SECRET, storage, CHANNEL, handlers={"follow": flaky}, clock=clock)
    raw = body(event(event_id="01A"))
    receiver.receive(raw, sign(raw))
    waits = []
    for attempt in range(1, 6):
        [done] = receiver.process_pending()
        assert done.attempt == attempt and done.error.startswith("RetriesExhausted")
        if attempt < 5:
            assert done.retry_at == clock.now + 60 * 2 ** (attempt - 1)
            waits.append(done.retry_at - clock.now)
            assert receiver.process_pending() == [], "not before its time"
            clock.now = done.retry_at - 1
            assert receiver.process_pending() == []
            clock.now = done.retry_at
        else:
            assert done.finished and done.retry_at is None
    assert waits == [60, 120, 240, 480]
    record = storage.get_event("01A")
    assert record.attempts == 5 and record.finished_at == clock.now
    assert record.error.startswith("RetriesExhausted")
    assert receiver.process_pending() == [] and len(calls) == 5


def test_a_retried_event_succeeds_later(storage):
    clock = Clock()
    outcomes = [RetryLater("database race lost"), None]

    def handler(ev):
        result = outcomes.pop(0)
        if result is not None:
            raise result
        return "done"

    receiver = WebhookReceiver(SECRET, storage, CHANNEL, handlers={"follow": handler},
                               clock=clock)
    raw = body(event(event_id="01A"))
    receiver.receive(raw, sign(raw))
    [first] = receiver.process_pending()
    assert first.retry_at == T0 + 60 and storage.get_event("01A").error == (
        "RetryLater: database race lost")
    clock.now += 60
    [second] = receiver.process_pending()
    assert (second.result, second.error, second.attempt) == ("done", None, 2)
    record = storage.get_event("01A")
    assert record.error is None and record.finished_at == T0 + 60


def test_the_transient_test_and_the_backoff_are_the_apps_choice(storage):
    class Busy(Exception):
        pass

    def handler(ev):
        raise Busy("serialization failure")

    clock = Clock()
    receiver = WebhookReceiver(SECRET, storage, CHANNEL, handlers={"follow": handler},
                               clock=clock, transient=lambda exc: isinstance(exc, Busy),
                               retry_backoff=5, max_attempts=2)
    raw = body(event(event_id="01A"))
    receiver.receive(raw, sign(raw))
    [done] = receiver.process_pending()
    assert done.retry_at == T0 + 5
    clock.now += 5
    [done] = receiver.process_pending()
    assert done.finished and storage.get_event("01A").error == "Busy: serialization failure"


def test_atomic_wraps_each_handler_and_checkpoint_follows_each_event(receiver):
    log = []

    class Atomic:
        def __enter__(self):
            log.append("begin")

        def __exit__(self, kind, exc, tb):
            log.append("rollback" if kind else "release")
            return False

    def explode(ev):
        raise ValueError("bad data")

    receiver.on("follow", lambda ev: log.append(("handle", ev.event_id)))
    receiver.on("unfollow", explode)
    raw = body(event(event_id="01A"), event("unfollow", event_id="01B"))
    receiver.receive(raw, sign(raw))
    receiver.process_pending(atomic=Atomic,
                             checkpoint=lambda outcome: log.append(("commit", outcome.event_id,
                                                                    outcome.error)))
    assert log == ["begin", ("handle", "01A"), "release", ("commit", "01A", None),
                   "begin", "rollback", ("commit", "01B", "ValueError: bad data")]
