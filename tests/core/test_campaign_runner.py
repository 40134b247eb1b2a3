"""Campaign plans and resumable runs: nobody twice, nobody skipped, whatever crashes when."""

import threading

import pytest

from line_emulator import Emulator, EmulatorServer
from line_emulator.clock import Clock
from line_idlink.campaign import (Batch, CampaignMismatch, CampaignRunner, CampaignStore,
                                  MemoryCampaignStore, Recipient, plan_campaign)
from line_idlink.sender import InvalidMessages, QuotaExceeded, RetriesExhausted, Sender
from line_idlink.ratelimit import ManualTime
from line_idlink.retry import Backoff

PROMO = [{"type": "text", "text": "11月セール: 全品20%オフ"}]


def personal(name):
    return [{"type": "text", "text": f"{name}様、ご注文ありがとうございます"}]


def make_friends(emu, count):
    users = [emu.add_user(f"customer{i}") for i in range(count)]
    with emu.locked():  # friends without one follow webhook each
        for user in users:
            user.record.friendship, user.record.ever_followed = "friend", True
    return [u.user_id for u in users]


def inbox_counts(emu, user_ids):
    return [len(emu.user(u).inbox) for u in user_ids]


@pytest.fixture
def clock():
    return ManualTime()


def new_sender(server, clock, **options):
    return Sender(server.messaging_configuration(), sleep=clock.sleep, clock=clock.now,
                  backoff=Backoff(seed=2), **options)


class CrashingStore(MemoryCampaignStore):
    """Dies (like a killed process) when asked to record that a batch was sent."""

    def __init__(self):
        super().__init__()
        self.armed = True

    def save_batch(self, campaign_id, batch):
        if self.armed and batch.state == "sent":
            self.armed = False
            raise SystemExit("killed after the send, before its result was saved")
        super().save_batch(campaign_id, batch)


# Planning ----------------------------------------------------------------------------------------
def test_identical_bodies_go_by_multicast_and_personal_ones_by_push():
    recipients = [Recipient(1, "U" + "1" * 32, PROMO),
                  (2, "U" + "2" * 32, [{"text": "11月セール: 全品20%オフ", "type": "text"}]),
                  {"recipient_id": 3, "user_id": "U" + "3" * 32, "messages": personal("佐藤")},
                  Recipient(4, None, PROMO),
                  Recipient(5, "U" + "5" * 32, PROMO, skip_reason="blocked"),
                  Recipient(6, "U" + "1" * 32, PROMO)]
    batches = plan_campaign(recipients, aggregation_unit="nov_sale")
    assert [(b.kind, b.state, [r for r, _ in b.recipients]) for b in batches] == [
        ("multicast", "pending", [1, 2]), ("push", "pending", [3]),
        ("skip", "skipped", [4]), ("skip", "skipped", [5]), ("skip", "skipped", [6])]
    assert [b.error for b in batches[2:]] == ["not linked", "blocked",
                                              "duplicate (same LINE user and content as 1)"]
    assert batches[0].aggregation_unit == "nov_sale" and batches[0].retry_key is None
    assert Batch.from_dict(batches[0].to_dict()) == batches[0]


def test_plan_splits_1201_identical_recipients_500_500_201():
    recipients = [(i, f"U{i:032x}", PROMO) for i in range(1201)]
    assert [len(b.recipients) for b in plan_campaign(recipients)] == [500, 500, 201]


def test_a_bad_message_stops_planning_and_stores_nothing(emulator_server, clock):
    store = MemoryCampaignStore()
    runner = CampaignRunner(new_sender(emulator_server, clock), store)
    with pytest.raises(InvalidMessages, match="recipient 2"):
        runner.run("c1", [(1, "U" + "1" * 32, PROMO), (2, "U" + "2" * 32, PROMO * 6)])
    assert store.load_batches("c1") is None
    assert isinstance(store, CampaignStore)


# Running against the emulator --------------------------------------------------------------------
def test_a_campaign_reaches_everyone_once(emulator_server, emu, clock):
    users = make_friends(emu, 4)
    recipients = [Recipient(i, u, PROMO) for i, u in enumerate(users[:3])]
    recipients += [Recipient(3, users[3], personal("田中")), Recipient(4, None, PROMO)]
    runner = CampaignRunner(new_sender(emulator_server, clock), MemoryCampaignStore())
    report = runner.run("nov", recipients, aggregation_unit="nov_sale")
    assert report.done and report.counts == {"sent": 4, "skipped": 1}
    assert inbox_counts(emu, users) == [1, 1, 1, 1]
    assert emu.user(users[3]).inbox[0]["message"]["text"] == "田中様、ご注文ありがとうございます"
    (multicast,) = emu.requests_for("multicast")
    assert multicast["body"]["to"] == users[:3]
    assert multicast["body"]["customAggregationUnits"] == ["nov_sale"]
    assert runner.run("nov").counts == {"sent": 4, "skipped": 1}  # nothing left to send
    assert len(emu.requests_for("multicast")) == 1 and len(emu.requests_for("pushMessage")) == 1


def test_1201_recipients_go_out_in_500_500_201(emulator_server, emu, clock):
    users = make_friends(emu, 1201)
    runner = CampaignRunner(new_sender(emulator_server, clock), MemoryCampaignStore())
    report = runner.run("big", [(i, u, PROMO) for i, u in enumerate(users)])
    bodies = [entry["body"] for entry in emu.requests_for("multicast")]
    assert [len(b["to"]) for b in bodies] == [500, 500, 201]
    assert [u for b in bodies for u in b["to"]] == users
    assert len({e["retryKey"] for e in emu.requests_for("multicast")}) == 3
    assert report.counts == {"sent": 1201}
    assert set(inbox_counts(emu, users)) == {1}


def test_connection_dropped_after_acceptance_then_restart(emulator_server, emu, clock):
    users = make_friends(emu, 3)
    store = MemoryCampaignStore()
    emu.faults.add({"endpoint": "multicast", "action": "drop", "when": "after", "times": 1})
    first = CampaignRunner(new_sender(emulator_server, clock, max_attempts=1), store)
    with pytest.raises(RetriesExhausted):
        first.run("c", [(i, u, PROMO) for i, u in enumerate(users)])
    (batch,) = store.load_batches("c")
    assert batch.state == "sending" and batch.retry_key  # outcome unknown, key kept
    assert inbox_counts(emu, users) == [1, 1, 1]  # LINE had accepted it

    second = CampaignRunner(new_sender(emulator_server, clock), store)  # a new process
    report = second.run("c")
    assert report.counts == {"sent": 3}
    attempts = emu.requests_for("multicast")
    assert [a["status"] for a in attempts] == [None, 409]
    assert {a["retryKey"] for a in attempts} == {batch.retry_key}
    assert inbox_counts(emu, users) == [1, 1, 1]
    assert report.batches[0].request_id == attempts[0]["requestId"]


def test_process_killed_before_saving_the_result_then_restart(emulator_server, emu, clock):
    users = make_friends(emu, 4)
    recipients = [(0, users[0], PROMO), (1, users[1], PROMO), (2, users[2], personal("鈴木")),
                  (3, users[3], PROMO)]
    store = CrashingStore()
    with pytest.raises(SystemExit):
        CampaignRunner(new_sender(emulator_server, clock), store).run("c", recipients)
    assert [b.state for b in store.load_batches("c")] == ["sending", "pending"]
    assert inbox_counts(emu, users) == [1, 1, 0, 1]

    report = CampaignRunner(new_sender(emulator_server, clock), store).run("c")
    assert report.done and report.counts == {"sent": 4}
    assert inbox_counts(emu, users) == [1, 1, 1, 1]
    assert [e["status"] for e in emu.requests_for("multicast")] == [200, 409]


def test_a_429_storm_is_waited_out(emulator_server, emu, clock):
    users = make_friends(emu, 600)
    emu.faults.add({"endpoint": "multicast", "action": "rate_limit", "times": 4})
    runner = CampaignRunner(new_sender(emulator_server, clock), MemoryCampaignStore())
    report = runner.run("storm", [(i, u, PROMO) for i, u in enumerate(users)])
    assert report.counts == {"sent": 600}
    assert [b.attempts for b in report.batches] == [5, 1]
    assert [e["status"] for e in emu.requests_for("multicast")] == [429] * 4 + [200, 200]
    assert len(clock.slept) == 4 and all(0 <= s <= 0.5 * 2 ** i for i, s in enumerate(clock.slept))
    assert set(inbox_counts(emu, users)) == {1}


def test_a_storm_longer_than_the_attempts_stops_the_run_and_resumes(emulator_server, emu, clock):
    users = make_friends(emu, 600)
    emu.faults.add({"endpoint": "multicast", "action": "rate_limit", "times": 10})
    store = MemoryCampaignStore()
    runner = CampaignRunner(new_sender(emulator_server, clock), store)
    with pytest.raises(RetriesExhausted):
        runner.run("storm", [(i, u, PROMO) for i, u in enumerate(users)])
    assert [(b.state, b.retry_key) for b in store.load_batches("storm")] == [("pending", None)] * 2
    report = runner.run("storm")
    assert report.counts == {"sent": 600}
    assert [b.attempts for b in report.batches] == [6 + 5, 1]
    assert len(clock.slept) == 5 + 4
    assert set(inbox_counts(emu, users)) == {1}


def test_5xx_and_drops_around_acceptance_still_send_once(emulator_server, emu, clock):
    users = make_friends(emu, 2)
    emu.faults.add({"endpoint": "multicast", "action": "drop", "nth": 1})
    emu.faults.add({"endpoint": "multicast", "action": "status", "status": 503, "nth": 2})
    emu.faults.add({"endpoint": "multicast", "action": "status", "status": 500, "when": "after",
                    "nth": 3})
    runner = CampaignRunner(new_sender(emulator_server, clock), MemoryCampaignStore())
    report = runner.run("c", [(0, users[0], PROMO), (1, users[1], PROMO)])
    assert report.counts == {"sent": 2} and report.batches[0].attempts == 4
    assert [e["status"] for e in emu.requests_for("multicast")] == [None, 503, 500, 409]
    assert inbox_counts(emu, users) == [1, 1]


def test_quota_stops_the_run_and_a_later_run_finishes_it(emulator_server, emu, clock):
    users = make_friends(emu, 1201)
    emu.config.quota = 700
    store = MemoryCampaignStore()
    runner = CampaignRunner(new_sender(emulator_server, clock), store)
    with pytest.raises(QuotaExceeded):
        runner.run("q", [(i, u, PROMO) for i, u in enumerate(users)])
    report = runner.report("q")
    assert report.counts == {"sent": 500, "pending": 701}
    assert [b.state for b in report.batches] == ["sent", "pending", "pending"]
    assert report.batches[1].retry_key is None  # never accepted: a fresh key next time
    assert len(emu.requests_for("multicast")) == 2  # no retry of a quota 429
    assert sum(inbox_counts(emu, users)) == 500

    emu.config.quota = 5000
    report = runner.run("q")
    assert report.done and report.counts == {"sent": 1201}
    assert set(inbox_counts(emu, users)) == {1}


def test_a_rejected_batch_fails_and_the_others_go_on(emulator_server, emu, clock):
    users = make_friends(emu, 2)
    recipients = [(0, "not-a-line-user", personal("X")), (1, users[0], PROMO),
                  (2, users[1], PROMO)]
    runner = CampaignRunner(new_sender(emulator_server, clock), MemoryCampaignStore())
    report = runner.run("c", recipients)
    outcomes = {o.recipient_id: o for o in report.outcomes}
    assert outcomes[0].status == "failed" and "to" in outcomes[0].reason
    assert outcomes[1].status == outcomes[2].status == "sent"
    assert inbox_counts(emu, users) == [1, 1]


def test_a_stale_in_flight_batch_is_not_resent(emulator_server, emu, clock):
    users = make_friends(emu, 2)
    store = MemoryCampaignStore()
    wall = {"now": 1_000_000.0}
    runner = CampaignRunner(new_sender(emulator_server, clock, max_attempts=1), store,
                            now=lambda: wall["now"])
    emu.faults.add({"endpoint": "multicast", "action": "drop", "when": "after", "times": 1})
    with pytest.raises(RetriesExhausted):
        runner.run("c", [(0, users[0], PROMO), (1, users[1], PROMO)])
    wall["now"] += 24 * 3600  # LINE has forgotten the key: a resend could deliver twice
    report = runner.run("c")
    assert report.counts == {"failed": 2}
    assert "outcome unknown" in report.batches[0].error
    assert len(emu.requests_for("multicast")) == 1 and inbox_counts(emu, users) == [1, 1]


def test_a_stored_plan_is_not_silently_replaced(emulator_server, emu, clock):
    users = make_friends(emu, 2)
    runner = CampaignRunner(new_sender(emulator_server, clock), MemoryCampaignStore())
    runner.run("c", [(0, users[0], PROMO), (1, users[1], PROMO)])
    runner.run("c", [(1, users[1], PROMO), (0, users[0], PROMO)])  # same plan, other order
    with pytest.raises(CampaignMismatch):
        runner.run("c", [(0, users[0], personal("別"))])
    assert inbox_counts(emu, users) == [1, 1]


# Cheaper planning and concurrent sending ---------------------------------------------------------
def test_an_identical_body_is_validated_once_however_many_recipients(monkeypatch):
    import line_idlink.campaign_plan as planning

    calls = []
    real = planning.to_messages
    monkeypatch.setattr(planning, "to_messages", lambda m: calls.append(m) or real(m))
    recipients = [(i, f"U{i:032x}", [dict(PROMO[0])]) for i in range(1200)]  # equal, not same
    recipients.append((1200, "U" + "f" * 32, personal("佐藤")))
    batches = plan_campaign(recipients)
    assert len(calls) == 2
    assert [(b.kind, len(b.recipients)) for b in batches] == [
        ("multicast", 500), ("multicast", 500), ("multicast", 200), ("push", 1)]


def test_a_message_list_reused_and_changed_between_recipients_is_read_each_time():
    shared = [{"type": "text", "text": "A"}]
    rows = []
    for i, text in enumerate(["A", "B", "A"]):
        shared[0]["text"] = text
        batches = plan_campaign([(i, f"U{i:032x}", shared)])
        rows.append(batches[0].messages[0]["text"])
    assert rows == ["A", "B", "A"]

    def generated():  # one list object mutated in place while the plan is read
        for i, text in enumerate(["A", "B", "A", "B"]):
            shared[0]["text"] = text
            yield i, f"U{i:032x}", shared

    batches = plan_campaign(generated())
    assert [(b.messages[0]["text"], [r for r, _ in b.recipients]) for b in batches] == [
        ("A", [0, 2]), ("B", [1, 3])]

    def then_invalid():
        yield 0, "U" + "0" * 32, shared
        shared[0]["type"] = "no-such-type"
        yield 1, "U" + "1" * 32, shared

    with pytest.raises(InvalidMessages, match="recipient 1"):
        plan_campaign(then_invalid())


class ThreadRecordingStore(MemoryCampaignStore):
    def __init__(self):
        super().__init__()
        self.threads = set()

    def save_batch(self, campaign_id, batch):
        self.threads.add(threading.current_thread().name)
        super().save_batch(campaign_id, batch)


def test_concurrent_batches_really_overlap_and_the_store_stays_on_one_thread():
    from line_idlink.sender import SendResult

    in_flight = threading.Barrier(3, timeout=30)  # breaks (and the test fails) if sequential

    class OverlapSender:
        key_factory = staticmethod(lambda: "123e4567-e89b-12d3-a456-426614174000")

        def multicast(self, user_ids, messages, retry_key, **options):
            in_flight.wait()
            return SendResult("multicast", "sent", list(user_ids), retry_key, "req", attempts=1)

    store = ThreadRecordingStore()
    runner = CampaignRunner(OverlapSender(), store, concurrency=3)
    report = runner.run("c", [(i, f"U{i:032x}", PROMO) for i in range(1500)])
    assert report.counts == {"sent": 1500}
    assert [b.state for b in store.load_batches("c")] == ["sent"] * 3
    assert store.threads == {threading.current_thread().name}
    with pytest.raises(ValueError):
        CampaignRunner(OverlapSender(), store, concurrency=0)


def test_concurrent_run_with_a_drop_after_acceptance_resumes_exactly_once(emulator_server, emu,
                                                                           clock):
    users = make_friends(emu, 2600)  # 6 batches
    store = MemoryCampaignStore()
    emu.faults.add({"endpoint": "multicast", "action": "drop", "when": "after", "nth": 3})
    first = CampaignRunner(new_sender(emulator_server, clock, max_attempts=1), store,
                           concurrency=4)
    with pytest.raises(RetriesExhausted):
        first.run("c", [(i, u, PROMO) for i, u in enumerate(users)])
    states = [b.state for b in store.load_batches("c")]
    assert states.count("sending") == 1  # the dropped one: outcome unknown, key kept
    assert set(states) <= {"sent", "sending", "pending"}  # nothing failed for good

    second = CampaignRunner(new_sender(emulator_server, clock), store, concurrency=4)
    report = second.run("c")
    assert report.done and report.counts == {"sent": 2600}
    assert set(inbox_counts(emu, users)) == {1}
    statuses = [e["status"] for e in emu.requests_for("multicast")]
    assert statuses.count(409) == 1 and statuses.count(None) == 1  # the dropped one, resumed
    assert len({e["retryKey"] for e in emu.requests_for("multicast")}) == 6


class KilledStore(MemoryCampaignStore):
    """Dies (like a killed process) on the n-th "sent" save; later saves never happen."""

    def __init__(self, on_sent):
        super().__init__()
        self.on_sent, self.sent_saves, self.dead = on_sent, 0, False

    def save_batch(self, campaign_id, batch):
        if self.dead:
            raise AssertionError("a dead process stored something")
        if batch.state == "sent":
            self.sent_saves += 1
            if self.sent_saves == self.on_sent:
                self.dead = True
                raise SystemExit("killed while other batches were in flight")
        super().save_batch(campaign_id, batch)


def test_concurrent_run_killed_mid_flight_resumes_exactly_once(emulator_server, emu, clock):
    users = make_friends(emu, 3000)  # 6 batches, 4 in flight when the kill comes
    store = KilledStore(on_sent=2)
    recipients = [(i, u, PROMO) for i, u in enumerate(users)]
    with pytest.raises(SystemExit):
        CampaignRunner(new_sender(emulator_server, clock), store, concurrency=4).run("c",
                                                                                      recipients)
    store.dead = False  # a new process
    stored = store.load_batches("c")
    assert [b.state for b in stored].count("sent") == 1
    assert all(b.retry_key for b in stored if b.state == "sending")
    delivered_before = sum(inbox_counts(emu, users))

    report = CampaignRunner(new_sender(emulator_server, clock), store, concurrency=4).run("c")
    assert report.done and report.counts == {"sent": 3000}
    assert set(inbox_counts(emu, users)) == {1}
    statuses = [e["status"] for e in emu.requests_for("multicast")]
    assert statuses.count(200) == 6  # each batch delivered by exactly one request
    assert statuses.count(409) == delivered_before // 500 - 1  # in flight, result never stored


def test_concurrent_run_stops_at_the_quota_and_finishes_later(emulator_server, emu, clock):
    users = make_friends(emu, 3000)
    emu.config.quota = 1300  # room for two batches of 500, not three
    store = MemoryCampaignStore()
    runner = CampaignRunner(new_sender(emulator_server, clock), store, concurrency=3)
    with pytest.raises(QuotaExceeded):
        runner.run("q", [(i, u, PROMO) for i, u in enumerate(users)])
    report = runner.report("q")
    assert report.counts == {"sent": 1000, "pending": 2000}
    assert all(b.retry_key is None for b in report.batches if b.state == "pending")
    assert len(emu.requests_for("multicast")) <= 2 + 3  # two sent, then at most 3 in flight

    emu.config.quota = 10_000
    assert runner.run("q").counts == {"sent": 3000}
    assert set(inbox_counts(emu, users)) == {1}


def test_a_campaign_at_full_speed_meets_no_429_from_lines_strict_window(webhook_sink):
    """600 multicasts as fast as the client goes, on real time, against the emulator's strict
    sliding window of 200 per second (LINE's): the production limiter (its slot taken right
    before each request is sent, its window 20 ms longer than LINE's) never lets a request arrive
    in a full window, so no request is answered 429 (each would cost a backoff of 0.5 s or more)."""
    server = EmulatorServer(Emulator(seed=7, clock=Clock(frozen=False),
                                     webhook_url=webhook_sink.url)).start()
    try:
        emu = server.emulator
        users = make_friends(emu, 1200)
        # 600 distinct texts to 2 friends each: 600 multicast batches
        recipients = [(i, u, [{"type": "text", "text": f"冬の限定セット No.{i // 2}"}])
                      for i, u in enumerate(users)]
        with Sender(server.messaging_configuration()) as sender:
            report = CampaignRunner(sender, MemoryCampaignStore(), concurrency=8).run(
                "full-speed", recipients)
            waited = sender.limiter.waited["multicast"]
        statuses = [e["status"] for e in emu.requests_for("multicast")]
    finally:
        server.stop()
    assert report.counts == {"sent": 1200}
    assert waited > 0  # the client did reach LINE's limit: its limiter made it wait
    assert statuses.count(429) == 0 and statuses == [200] * 600
    assert set(inbox_counts(emu, users)) == {1}
