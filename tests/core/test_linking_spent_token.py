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


@pytest.mark.parametrize("result, status", [("ok", LinkStatus.LINKED),
                                            ("failed", LinkStatus.FAILED_RESULT)])
def test_a_used_link_token_names_nobody(linker, result, status):
    linker.remember_link_token(ALICE, "alice-token")
    start = linker.start_link("42", ALICE, "alice-token")
    assert linker.line_user_for_link_token("alice-token") == ALICE  # before: still usable
    assert linker.complete_link(event(start.nonce, result)).status == status
    assert linker.line_user_for_link_token("alice-token") is None
    with pytest.raises(LinkStartError) as refused:
        linker.start_link("43", ALICE, "alice-token")
    assert refused.value.status == LinkStatus.EXPIRED_LINK_TOKEN


def test_an_unknown_nonce_spends_nothing(linker):
    linker.remember_link_token(ALICE, "alice-token")
    linker.complete_link(event("n" * 43))
    assert linker.line_user_for_link_token("alice-token") == ALICE
