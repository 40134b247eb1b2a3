"""Contract tests every Storage implementation passes (memory, SQLite file, SQLite :memory:)."""

import sqlite3
import threading

import pytest

from line_idlink.storage import (
    LinkConflict, LinkRecord, LinkTokenRecord, MemoryStorage, NonceRecord, SQLiteStorage, Storage,
    digest,
)

CHANNEL = "1600000001"
USER_A = "U" + "a" * 32
USER_B = "U" + "b" * 32
NOW = 1_800_000_000.0


@pytest.fixture(params=["memory", "sqlite-file", "sqlite-memory"])
def storage(request, tmp_path):
    if request.param == "memory":
        yield MemoryStorage()
        return
    store = SQLiteStorage(tmp_path / "link.db" if request.param == "sqlite-file" else ":memory:")
    yield store
    store.close()


def nonce(secret="nonce-secret-1", customer="42", user=USER_A, expires=NOW + 600):
    return NonceRecord(digest(secret), CHANNEL, customer, user, digest("token"), NOW, expires)


def link(user=USER_A, customer="42", channel=CHANNEL, method="messaging_api"):
    return LinkRecord(channel, user, customer, method, NOW)


def run_threads(count, fn):
    """Start ``count`` threads together (a barrier) and return their results."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def worker(index):
        barrier.wait()
        results[index] = fn(index)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_implements_the_protocol(storage):
    assert isinstance(storage, Storage)


def test_digest_is_sha256_hex():
    assert digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


# Nonces ------------------------------------------------------------------------------------------
def test_nonce_is_consumed_once(storage):
    storage.add_nonce(nonce())
    first = storage.consume_nonce(digest("nonce-secret-1"), NOW + 1)
    assert first.customer_id == "42" and first.line_user_id == USER_A and first.used_at == NOW + 1
    assert storage.consume_nonce(digest("nonce-secret-1"), NOW + 2) is None
    assert storage.get_nonce(digest("nonce-secret-1")).used_at == NOW + 1


def test_expired_nonce_is_not_consumed(storage):
    storage.add_nonce(nonce(expires=NOW + 600))
    assert storage.consume_nonce(digest("nonce-secret-1"), NOW + 600) is None
    assert storage.get_nonce(digest("nonce-secret-1")).used_at is None


def test_unknown_nonce_is_not_consumed(storage):
    assert storage.consume_nonce(digest("never-issued"), NOW) is None
    assert storage.get_nonce(digest("never-issued")) is None


def test_adding_the_same_nonce_twice_is_refused(storage):
    storage.add_nonce(nonce())
    with pytest.raises(ValueError):
        storage.add_nonce(nonce(customer="43"))
    assert storage.get_nonce(digest("nonce-secret-1")).customer_id == "42"


def test_eight_threads_consuming_one_nonce_yield_one_winner(storage, tmp_path, request):
    storage.add_nonce(nonce())
    if isinstance(storage, SQLiteStorage) and storage.path != ":memory:":
        # Separate connections on one file: the SQL statement itself must be atomic.
        stores = [SQLiteStorage(storage.path) for _ in range(8)]
        results = run_threads(8, lambda i: stores[i].consume_nonce(digest("nonce-secret-1"),
                                                                   NOW + 1))
        for store in stores:
            store.close()
    else:
        results = run_threads(8, lambda i: storage.consume_nonce(digest("nonce-secret-1"),
                                                                 NOW + 1))
    assert sum(result is not None for result in results) == 1


# Link tokens -------------------------------------------------------------------------------------
def test_link_token_saved_and_replaced(storage):
    storage.save_link_token(LinkTokenRecord(digest("tok"), CHANNEL, USER_A, NOW, NOW + 600))
    storage.save_link_token(LinkTokenRecord(digest("tok"), CHANNEL, USER_B, NOW + 5, NOW + 605))
    assert storage.get_link_token(digest("tok")).line_user_id == USER_B
    assert storage.get_link_token(digest("other")) is None


# Links -------------------------------------------------------------------------------------------
def test_one_customer_per_line_user_and_channel(storage):
    storage.add_link(link(customer="42"))
    with pytest.raises(LinkConflict) as caught:
        storage.add_link(link(customer="43"))
    assert caught.value.existing.customer_id == "42"
    with pytest.raises(LinkConflict):
        storage.add_link(link(customer="42"))  # the same pair is not stored twice either
    storage.add_link(link(customer="43", channel="1600000002"))  # another channel: allowed
    assert storage.get_link(CHANNEL, USER_A).customer_id == "42"
    assert storage.get_link("1600000002", USER_A).customer_id == "43"


def test_a_customer_may_link_several_line_users(storage):
    storage.add_link(link(user=USER_A))
    storage.add_link(link(user=USER_B))
    assert [x.line_user_id for x in storage.links_for_customer(CHANNEL, "42")] == [USER_A, USER_B]


def test_end_links_by_user_or_customer_is_idempotent(storage):
    storage.add_link(link(user=USER_A))
    storage.add_link(link(user=USER_B))
    ended = storage.end_links(CHANNEL, NOW + 10, line_user_id=USER_A)
    assert [(x.line_user_id, x.unlinked_at) for x in ended] == [(USER_A, NOW + 10)]
    assert storage.end_links(CHANNEL, NOW + 11, line_user_id=USER_A) == []
    assert storage.get_link(CHANNEL, USER_A) is None
    assert [x.line_user_id for x in storage.end_links(CHANNEL, NOW + 12, customer_id="42")] \
        == [USER_B]
    assert storage.links_for_customer(CHANNEL, "42") == []
    with pytest.raises(ValueError):
        storage.end_links(CHANNEL, NOW)


def test_relink_after_unlink_keeps_history(storage):
    storage.add_link(link(customer="42"))
    storage.end_links(CHANNEL, NOW + 10, line_user_id=USER_A)
    storage.add_link(link(customer="43"))
    history = [(x.customer_id, x.unlinked_at) for x in storage.all_links()]
    assert history == [("42", NOW + 10), ("43", None)]


def test_concurrent_links_of_one_line_user_yield_one_winner(storage):
    def attempt(index):
        try:
            storage.add_link(link(customer=str(100 + index)))
            return True
        except LinkConflict:
            return False

    assert sum(run_threads(8, attempt)) == 1


# Webhook events ----------------------------------------------------------------------------------
def test_remember_event_once_and_queue_in_order(storage):
    assert storage.remember_event("01B", CHANNEL, '{"type":"follow"}', NOW) is True
    assert storage.remember_event("01A", CHANNEL, '{"type":"unfollow"}', NOW) is True
    assert storage.remember_event("01B", CHANNEL, '{"type":"changed"}', NOW + 1) is False
    assert storage.remember_event("01C", "other", "{}", NOW) is True
    pending = storage.pending_events(CHANNEL)
    assert [(e.event_id, e.payload) for e in pending] == [("01B", '{"type":"follow"}'),
                                                         ("01A", '{"type":"unfollow"}')]
    assert [e.event_id for e in storage.pending_events()] == ["01B", "01A", "01C"]
    assert [e.event_id for e in storage.pending_events(limit=1)] == ["01B"]


def test_claim_and_finish_event(storage):
    storage.remember_event("01A", CHANNEL, "{}", NOW)
    assert storage.claim_event("01A", NOW + 1) is True
    assert storage.claim_event("01A", NOW + 2) is False
    assert storage.pending_events() == []
    storage.finish_event("01A", NOW + 3, "ValueError: boom")
    record = storage.get_event("01A")
    assert (record.started_at, record.finished_at, record.error) == (NOW + 1, NOW + 3,
                                                                    "ValueError: boom")
    assert storage.claim_event("missing", NOW) is False
    with pytest.raises(KeyError):
        storage.finish_event("missing", NOW)


def test_retry_event_waits_until_its_time(storage):
    storage.remember_event("01A", CHANNEL, "{}", NOW)
    storage.remember_event("01B", CHANNEL, "{}", NOW)
    assert storage.get_event("01A").attempts == 0
    assert storage.claim_event("01A", NOW) is True
    storage.retry_event("01A", NOW + 60, "LineCallFailed: 500")
    record = storage.get_event("01A")
    assert (record.attempts, record.next_try, record.error) == (1, NOW + 60,
                                                                 "LineCallFailed: 500")
    assert [e.event_id for e in storage.pending_events(CHANNEL, now=NOW + 59)] == ["01B"]
    assert [e.event_id for e in storage.pending_events(CHANNEL, now=NOW + 60)] == ["01A", "01B"]
    assert [e.event_id for e in storage.pending_events(CHANNEL)] == ["01A", "01B"]
    assert storage.claim_event("01A", NOW + 60) is True
    assert storage.get_event("01A").attempts == 2
    with pytest.raises(KeyError):
        storage.retry_event("missing", NOW, "x")


def test_concurrent_claims_yield_one_winner(storage):
    storage.remember_event("01A", CHANNEL, "{}", NOW)
    assert sum(run_threads(8, lambda i: storage.claim_event("01A", NOW))) == 1


def test_concurrent_remember_stores_once(storage):
    assert sum(run_threads(8, lambda i: storage.remember_event("01A", CHANNEL, "{}", NOW))) == 1


# Housekeeping ------------------------------------------------------------------------------------
def test_purge_expired(storage):
    storage.add_nonce(nonce("old", expires=NOW))
    storage.add_nonce(nonce("fresh", expires=NOW + 600))
    storage.save_link_token(LinkTokenRecord(digest("tok"), CHANNEL, USER_A, NOW - 600, NOW))
    assert storage.purge_expired(NOW + 1) == 2
    assert storage.get_nonce(digest("old")) is None
    assert storage.get_nonce(digest("fresh")) is not None
    assert storage.get_link_token(digest("tok")) is None


# SQLite specifics --------------------------------------------------------------------------------
def test_sqlite_persists_and_shares_a_file_with_other_tables(tmp_path):
    path = tmp_path / "app.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT)")
    con.commit()
    con.close()
    first = SQLiteStorage(path)
    first.add_link(link())
    first.remember_event("01A", CHANNEL, "{}", NOW)
    first.close()
    second = SQLiteStorage(path)
    assert second.get_link(CHANNEL, USER_A).customer_id == "42"
    assert second.remember_event("01A", CHANNEL, "{}", NOW) is False
    second.close()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT name FROM customer").fetchall() == []
    con.close()


def test_sqlite_adds_the_retry_columns_to_an_older_file(tmp_path):
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.execute("""CREATE TABLE line_webhook_event (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,
        channel_id TEXT NOT NULL, payload TEXT NOT NULL, received_at REAL NOT NULL,
        started_at REAL, finished_at REAL, error TEXT)""")
    con.execute("INSERT INTO line_webhook_event (event_id, channel_id, payload, received_at)"
                " VALUES ('01OLD', ?, '{}', ?)", (CHANNEL, NOW))
    con.commit()
    con.close()
    store = SQLiteStorage(path)
    [old] = store.pending_events(CHANNEL, now=NOW)
    assert (old.event_id, old.attempts, old.next_try) == ("01OLD", 0, None)
    assert store.claim_event("01OLD", NOW) is True
    store.retry_event("01OLD", NOW + 60, "boom")
    assert store.get_event("01OLD").attempts == 1
    store.close()


def test_an_unknown_link_method_is_refused(storage):
    with pytest.raises(ValueError):
        storage.add_link(link(method="email"))
    assert storage.get_link(CHANNEL, USER_A) is None
