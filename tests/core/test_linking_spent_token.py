"""Issue 8 point 7: a link token whose account link went through names nobody afterwards."""

import pytest

from line_idlink.linking import AccountLinker, LinkStartError, LinkStatus
from line_idlink.storage import MemoryStorage, SQLiteStorage

CHANNEL = "1600000001"
ALICE = "U" + "a1" * 16
T0 = 1_800_000_000.0


@pytest.fixture(params=["memory", "sqlite"])
def linker(request, tmp_path):
    store = MemoryStorage() if request.param == "memory" else SQLiteStorage(tmp_path / "l.db")
    yield AccountLinker(store, CHANNEL, clock=lambda: T0)
    if request.param == "sqlite":
        store.close()


def event(nonce, result="ok"):
    data = {"type": "accountLink", "mode": "active", "timestamp": int(T0 * 1000),
            "webhookEventId": "01JEVENT0000000000000000AA",
            "deliveryContext": {"isRedelivery": False}, "link": {"result": result, "nonce": nonce}}
    if result == "ok":
        data["source"] = {"type": "user", "userId": ALICE}
        data["replyToken"] = "b60d432864f44d079f6d8efe86cf404b"
    return data


@pytest.mark.parametrize("taken", [False, True])
def test_a_used_link_token_names_nobody(linker, taken):
    if taken:  # refused as LINE_USER_TAKEN: LINE used the token all the same
        linker.link_from_login("7", {"sub": ALICE})
    linker.remember_link_token(ALICE, "alice-token")
    start = linker.start_link("42", ALICE, "alice-token") if not taken else None
    nonce = start.nonce if start else _nonce_despite_link(linker)
    assert linker.line_user_for_link_token("alice-token") == ALICE  # before: still usable
    status = linker.complete_link(event(nonce)).status
    assert status == (LinkStatus.LINE_USER_TAKEN if taken else LinkStatus.LINKED)
    assert linker.line_user_for_link_token("alice-token") is None
    with pytest.raises(LinkStartError) as refused:
        linker.start_link("43", ALICE, "alice-token")
    assert refused.value.status == LinkStatus.EXPIRED_LINK_TOKEN


def _nonce_despite_link(linker):
    """A nonce for alice-token stored directly (start_link refuses a taken LINE user)."""
    from line_idlink.storage import NonceRecord, digest
    nonce = "n" * 43
    linker.storage.add_nonce(NonceRecord(digest(nonce), CHANNEL, "42", ALICE,
                                         digest("alice-token"), T0, T0 + 600))
    return nonce


def test_a_failed_or_foreign_event_burns_the_nonce_but_not_the_token(linker):
    """LINE used another token then (or none): the owner may still start again with hers."""
    linker.remember_link_token(ALICE, "alice-token")
    start = linker.start_link("42", ALICE, "alice-token")
    assert linker.complete_link(event(start.nonce, "failed")).status == LinkStatus.FAILED_RESULT
    assert linker.line_user_for_link_token("alice-token") == ALICE
    start = linker.start_link("42", ALICE, "alice-token")
    foreign = dict(event(start.nonce), source={"type": "user", "userId": "U" + "b2" * 16})
    assert linker.complete_link(foreign).status == LinkStatus.USER_MISMATCH
    assert linker.line_user_for_link_token("alice-token") == ALICE


def test_an_unknown_nonce_spends_nothing(linker):
    linker.remember_link_token(ALICE, "alice-token")
    linker.complete_link(event("n" * 43))
    assert linker.line_user_for_link_token("alice-token") == ALICE
