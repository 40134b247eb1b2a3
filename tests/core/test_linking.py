"""Account-link rules: nonce issue/consume, link decisions, LINE Login linking, unlink."""

import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from linebot.v3.webhooks import Event

from line_idlink.linking import (
    DEFAULT_AUTH_BASE, AccountLinker, LinkStartError, LinkStatus,
)
from line_idlink.storage import MemoryStorage, SQLiteStorage, digest

CHANNEL = "1600000001"
ALICE = "U" + "a1" * 16  # LINE users
BOB = "U" + "b2" * 16
T0 = 1_800_000_000.0


class FakeClock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture(params=["memory", "sqlite"])
def storage(request, tmp_path):
    if request.param == "memory":
        yield MemoryStorage()
    else:
        store = SQLiteStorage(tmp_path / "link.db")
        yield store
        store.close()


@pytest.fixture
def linker(storage, clock):
    return AccountLinker(storage, CHANNEL, clock=clock)


def account_link_event(nonce, user_id=ALICE, result="ok", event_id="01JEVENT0000000000000000AA"):
    """An accountLink event as LINE sends it: a failed one has no source and no replyToken."""
    event = {"type": "accountLink", "mode": "active", "timestamp": int(T0 * 1000),
             "webhookEventId": event_id, "deliveryContext": {"isRedelivery": False},
             "link": {"result": result, "nonce": nonce}}
    if result == "ok":
        event["source"] = {"type": "user", "userId": user_id}
        event["replyToken"] = "b60d432864f44d079f6d8efe86cf404b"
    return event


def begin(linker, customer="42", user=ALICE, token="linktoken-alice"):
    linker.remember_link_token(user, token)
    return linker.start_link(customer, user, token)


# start_link ------------------------------------------------------------------------------------
def test_start_link_issues_a_strong_nonce_and_the_dialog_url(linker, storage):
    nonce, url = begin(linker)
    assert len(nonce) == 43 and set(nonce) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == DEFAULT_AUTH_BASE
    assert parts.path == "/dialog/bot/accountLink"
    assert parse_qs(parts.query) == {"linkToken": ["linktoken-alice"], "nonce": [nonce]}
    record = storage.get_nonce(digest(nonce))
    assert (record.customer_id, record.line_user_id, record.link_token_hash) == (
        "42", ALICE, digest("linktoken-alice"))
    assert record.expires_at == T0 + 600 and record.used_at is None
    assert storage.get_nonce(nonce) is None  # stored under its hash only


def test_nonces_are_unique(linker):
    assert len({begin(linker).nonce for _ in range(50)}) == 50


def test_raw_nonce_never_reaches_the_database_file(tmp_path, clock):
    path = tmp_path / "secrets.db"
    store = SQLiteStorage(path)
    nonce, _ = begin(AccountLinker(store, CHANNEL, clock=clock), token="the-link-token-1")
    store.close()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert nonce.encode() not in data and b"the-link-token-1" not in data
    assert digest(nonce).encode() in data


def test_auth_base_is_configurable(storage, clock):
    linker = AccountLinker(storage, CHANNEL, clock=clock, auth_base="http://127.0.0.1:9999/")
    _, url = begin(linker)
    assert url.startswith("http://127.0.0.1:9999/dialog/bot/accountLink?linkToken=")


@pytest.mark.parametrize("case, status", [
    ("unknown", LinkStatus.UNKNOWN_LINK_TOKEN),
    ("expired", LinkStatus.EXPIRED_LINK_TOKEN),
    ("other-user", LinkStatus.USER_MISMATCH),
])
def test_start_link_refuses_bad_link_tokens(linker, clock, case, status):
    linker.remember_link_token(BOB, "bobs-token")
    token, user = {"unknown": ("never-issued", ALICE), "expired": ("bobs-token", BOB),
                   "other-user": ("bobs-token", ALICE)}[case]
    if case == "expired":
        clock.now += 600
    with pytest.raises(LinkStartError) as caught:
        linker.start_link("42", user, token)
    assert caught.value.status == status
    assert linker.line_user_for_link_token("bobs-token") == (None if case == "expired" else BOB)


@pytest.mark.parametrize("customer, user, token", [
    ("", ALICE, "tok"), (None, ALICE, "tok"), ("42", "alice", "tok"), ("42", ALICE, ""),
    ("42", ALICE, "bad\ntoken"),
])
def test_start_link_validates_its_input(linker, customer, user, token):
    with pytest.raises(ValueError):
        linker.start_link(customer, user, token)


def test_link_token_is_remembered_per_channel(storage, clock):
    AccountLinker(storage, CHANNEL, clock=clock).remember_link_token(ALICE, "tok-1")
    other = AccountLinker(storage, "1600000002", clock=clock)
    assert other.line_user_for_link_token("tok-1") is None
    with pytest.raises(LinkStartError):
        other.start_link("42", ALICE, "tok-1")


# complete_link -----------------------------------------------------------------------------------
def test_ok_event_links_the_customer_the_nonce_was_issued_for(linker):
    nonce, _ = begin(linker, customer=42)
    outcome = linker.complete_link(account_link_event(nonce))
    assert outcome.status is LinkStatus.LINKED and outcome.ok
    assert (outcome.customer_id, outcome.line_user_id) == ("42", ALICE)
    assert outcome.reply_token == "b60d432864f44d079f6d8efe86cf404b"
    assert outcome.link.method == "messaging_api"
    assert linker.customer_for(ALICE) == "42"
    assert [x.line_user_id for x in linker.links_for(42)] == [ALICE]


def test_nonces_stay_bound_to_their_customer(linker):
    alice_nonce, _ = begin(linker, customer="1", user=ALICE, token="tok-a")
    bob_nonce, _ = begin(linker, customer="2", user=BOB, token="tok-b")
    assert linker.complete_link(account_link_event(bob_nonce, BOB)).customer_id == "2"
    assert linker.complete_link(account_link_event(alice_nonce, ALICE)).customer_id == "1"
    assert (linker.customer_for(ALICE), linker.customer_for(BOB)) == ("1", "2")


def test_replayed_nonce_is_refused(linker):
    nonce, _ = begin(linker)
    assert linker.complete_link(account_link_event(nonce)).status is LinkStatus.LINKED
    replay = linker.complete_link(account_link_event(nonce, event_id="01JEVENT0000000000000000BB"))
    assert replay.status is LinkStatus.USED_NONCE and not replay.ok


def test_expired_nonce_is_refused(linker, clock):
    nonce, _ = begin(linker)
    clock.now += 600
    outcome = linker.complete_link(account_link_event(nonce))
    assert outcome.status is LinkStatus.EXPIRED_NONCE
    assert linker.customer_for(ALICE) is None


def test_nonce_is_valid_just_before_its_ttl(linker, clock):
    nonce, _ = begin(linker)
    clock.now += 599
    assert linker.complete_link(account_link_event(nonce)).status is LinkStatus.LINKED


def test_unknown_nonce_is_refused(linker):
    outcome = linker.complete_link(account_link_event("x" * 43))
    assert outcome.status is LinkStatus.UNKNOWN_NONCE and outcome.customer_id is None


def test_nonce_used_by_another_line_user_is_refused_and_burned(linker):
    nonce, _ = begin(linker, user=ALICE)
    outcome = linker.complete_link(account_link_event(nonce, user_id=BOB))
    assert outcome.status is LinkStatus.USER_MISMATCH
    assert linker.customer_for(BOB) is None and linker.customer_for(ALICE) is None
    assert linker.complete_link(account_link_event(nonce, ALICE)).status is LinkStatus.USED_NONCE


def test_failed_result_links_nothing_and_burns_the_nonce(linker, storage):
    nonce, _ = begin(linker)
    outcome = linker.complete_link(account_link_event(nonce, result="failed"))
    assert outcome.status is LinkStatus.FAILED_RESULT and outcome.customer_id == "42"
    assert outcome.reply_token is None and linker.customer_for(ALICE) is None
    assert storage.get_nonce(digest(nonce)).used_at is not None
    assert linker.complete_link(account_link_event(nonce)).status is LinkStatus.USED_NONCE


def test_line_user_linked_to_another_customer_is_refused(linker):
    nonce, _ = begin(linker, customer="1", token="tok-1")
    late_nonce, _ = begin(linker, customer="2", token="tok-2")  # started before the first link
    assert linker.complete_link(account_link_event(nonce)).status is LinkStatus.LINKED
    outcome = linker.complete_link(account_link_event(late_nonce))
    assert outcome.status is LinkStatus.LINE_USER_TAKEN
    assert outcome.conflict.customer_id == "1" and outcome.link is None
    assert linker.customer_for(ALICE) == "1"
    with pytest.raises(LinkStartError) as caught:  # and refused early from now on
        begin(linker, customer="2", token="tok-3")
    assert caught.value.status is LinkStatus.LINE_USER_TAKEN


def test_relinking_the_same_pair_is_idempotent(linker):
    first, _ = begin(linker, token="tok-1")
    assert linker.complete_link(account_link_event(first)).status is LinkStatus.LINKED
    again, _ = begin(linker, token="tok-2")
    outcome = linker.complete_link(account_link_event(again))
    assert outcome.status is LinkStatus.ALREADY_LINKED and outcome.ok
    assert len(linker.links_for("42")) == 1


def test_nonce_of_another_channel_is_unknown_and_left_untouched(storage, clock):
    mine = AccountLinker(storage, CHANNEL, clock=clock)
    other = AccountLinker(storage, "1600000002", clock=clock)
    nonce, _ = begin(mine)
    assert other.complete_link(account_link_event(nonce)).status is LinkStatus.UNKNOWN_NONCE
    assert mine.complete_link(account_link_event(nonce)).status is LinkStatus.LINKED
    assert other.customer_for(ALICE) is None


@pytest.mark.parametrize("event", [
    None, {}, "accountLink", 42, {"type": "follow"},
    {"type": "accountLink"},
    {"type": "accountLink", "link": "ok"},
    {"type": "accountLink", "link": {"result": "ok", "nonce": 12345678901}},
    {"type": "accountLink", "link": {"result": "ok", "nonce": "short"}},
    {"type": "accountLink", "link": {"result": "ok", "nonce": "n" * 256}},
    {"type": "accountLink", "link": {"result": ["ok"], "nonce": "n" * 20}},
    {"type": "accountLink", "link": {"result": "ok", "nonce": "n" * 20},
     "source": {"userId": "not-a-user"}},
    {"type": "accountLink", "link": {"result": "ok", "nonce": "n" * 20}, "source": []},
])
def test_malformed_events_never_raise(linker, event):
    outcome = linker.complete_link(event)
    assert outcome.status in (LinkStatus.INVALID_EVENT, LinkStatus.UNKNOWN_NONCE)
    assert not outcome.ok


def test_ok_event_without_source_links_nothing(linker):
    nonce, _ = begin(linker)
    event = account_link_event(nonce)
    del event["source"]
    assert linker.complete_link(event).status is LinkStatus.INVALID_EVENT
    assert linker.customer_for(ALICE) is None


def test_accepts_the_sdk_model(linker):
    nonce, _ = begin(linker)
    model = Event.from_dict(account_link_event(nonce))
    outcome = linker.complete_link(model)
    assert outcome.status is LinkStatus.LINKED and outcome.reply_token is not None


def test_accepts_a_failed_sdk_model(linker):
    nonce, _ = begin(linker)
    model = Event.from_dict(account_link_event(nonce, result="failed"))
    assert model.source is None
    assert linker.complete_link(model).status is LinkStatus.FAILED_RESULT


def test_concurrent_deliveries_of_one_event_link_once(linker):
    nonce, _ = begin(linker)
    barrier = threading.Barrier(8)
    outcomes = []

    def deliver():
        barrier.wait()
        outcomes.append(linker.complete_link(account_link_event(nonce)).status)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted([LinkStatus.LINKED] + [LinkStatus.USED_NONCE] * 7)


# LINE Login --------------------------------------------------------------------------------------
def test_link_from_login(linker):
    outcome = linker.link_from_login(7, {"sub": ALICE, "aud": "1234", "name": "Alice"})
    assert outcome.status is LinkStatus.LINKED and outcome.link.method == "line_login"
    assert linker.customer_for(ALICE) == "7"
    assert linker.link_from_login("7", {"sub": ALICE}).status is LinkStatus.ALREADY_LINKED
    taken = linker.link_from_login("8", {"sub": ALICE})
    assert taken.status is LinkStatus.LINE_USER_TAKEN and taken.conflict.customer_id == "7"


def test_login_and_messaging_links_share_the_one_customer_rule(linker):
    nonce, _ = begin(linker, customer="1")
    linker.complete_link(account_link_event(nonce))
    assert linker.link_from_login("2", {"sub": ALICE}).status is LinkStatus.LINE_USER_TAKEN
    assert linker.link_from_login("1", {"sub": ALICE}).status is LinkStatus.ALREADY_LINKED


@pytest.mark.parametrize("claims", [None, {}, {"sub": ""}, {"sub": "someone"}, {"sub": 5}])
def test_link_from_login_needs_a_line_user_id(linker, claims):
    with pytest.raises(ValueError, match="sub"):
        linker.link_from_login("7", claims)


# unlink ------------------------------------------------------------------------------------------
def test_unlink_by_line_user_is_always_allowed_and_idempotent(linker, clock):
    nonce, _ = begin(linker)
    linker.complete_link(account_link_event(nonce))
    clock.now += 30
    ended = linker.unlink(line_user_id=ALICE)
    assert [(x.customer_id, x.line_user_id, x.unlinked_at) for x in ended] == [
        ("42", ALICE, T0 + 30)]
    assert linker.unlink(line_user_id=ALICE) == []
    assert linker.customer_for(ALICE) is None


def test_unlink_by_customer_ends_all_its_links(linker):
    linker.link_from_login("42", {"sub": ALICE})
    linker.link_from_login("42", {"sub": BOB})
    linker.link_from_login("43", {"sub": "U" + "c" * 32})
    assert {x.line_user_id for x in linker.unlink(customer_id=42)} == {ALICE, BOB}
    assert linker.customer_for("U" + "c" * 32) == "43"


def test_unlink_with_nothing_linked_returns_nothing(linker):
    assert linker.unlink(line_user_id=ALICE) == []
    with pytest.raises(ValueError):
        linker.unlink()


def test_after_unlink_the_line_user_can_link_another_customer(linker):
    linker.link_from_login("1", {"sub": ALICE})
    linker.unlink(customer_id="1")
    nonce, _ = begin(linker, customer="2")
    assert linker.complete_link(account_link_event(nonce)).status is LinkStatus.LINKED
    assert linker.customer_for(ALICE) == "2"


def test_channel_id_is_required(storage):
    with pytest.raises(ValueError):
        AccountLinker(storage, "")
