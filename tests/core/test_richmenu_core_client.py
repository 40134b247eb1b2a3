"""RichMenuClient against the emulator: publish, default, per-user, bulk, batch, reconcile+apply."""

import pytest

from line_emulator.images import solid_png
from line_idlink.ratelimit import ManualTime
from line_idlink.retry import RequestRejected
from line_idlink.richmenu_publisher import BatchFailed, RichMenuClient
from line_idlink.richmenu_spec import RichMenuInvalid, RichMenuSpec


def spec(name, chat_bar_text="メニュー"):
    return RichMenuSpec(size=(2500, 843), name=name, chat_bar_text=chat_bar_text, areas=[
        {"bounds": {"x": 0, "y": 0, "width": 1250, "height": 843},
         "action": {"type": "postback", "data": "action=link", "displayText": "連携する"}},
        {"bounds": {"x": 1250, "y": 0, "width": 1250, "height": 843},
         "action": {"type": "uri", "uri": "https://shop.example/my"}}])


IMAGE = solid_png(2500, 843)


def make_friends(emu, count):
    users = [emu.add_user(f"member{i}") for i in range(count)]
    with emu.locked():  # friends without one follow webhook each
        for user in users:
            user.record.friendship, user.record.ever_followed = "friend", True
    return [u.user_id for u in users]


def linked_menus(emu, user_ids):
    return [emu.users[u].rich_menu_id for u in user_ids]


@pytest.fixture
def clock(emu):
    return ManualTime(on_sleep=emu.advance)  # sleeping moves the emulator's clock too


@pytest.fixture
def client(emulator_server, clock):
    return RichMenuClient(emulator_server.messaging_configuration(), sleep=clock.sleep,
                          clock=clock.now, poll_interval=5)


def test_publish_creates_uploads_and_points_the_alias(client, emu):
    menu_id = client.publish(spec("unlinked"), IMAGE, alias_id="unlinked")
    assert emu.richmenus.menus[menu_id]["chatBarText"] == "メニュー"
    assert emu.richmenus.image(menu_id) == (IMAGE, "image/png")
    assert emu.richmenus.aliases["unlinked"] == menu_id
    assert [e["endpoint"] for e in emu.request_log] == [
        "createRichMenu", "setRichMenuImage", "getRichMenuAlias", "createRichMenuAlias"]

    newer = client.publish(spec("unlinked v2"), IMAGE, alias_id="unlinked")
    assert emu.richmenus.aliases["unlinked"] == newer  # moved, not duplicated
    assert emu.request_log[-1]["endpoint"] == "updateRichMenuAlias"


def test_an_invalid_menu_or_image_sends_nothing(client, emu):
    with pytest.raises(RichMenuInvalid):
        client.publish(spec("x", chat_bar_text="this is far too long"), IMAGE)
    with pytest.raises(RichMenuInvalid, match="2500x1686"):
        client.publish(spec("x"), solid_png(2500, 1686))
    with pytest.raises(RichMenuInvalid, match="richMenuAliasId"):
        client.publish(spec("x"), IMAGE, alias_id="Not An Alias")
    assert emu.request_log == [] and emu.richmenus.menus == {}


def test_a_failed_upload_leaves_no_image_less_menu(client, emu):
    emu.faults.add({"endpoint": "setRichMenuImage", "action": "status", "status": 400,
                    "body": {"message": "An image has already been uploaded to the richmenu"}})
    with pytest.raises(RequestRejected, match="already been uploaded"):
        client.publish(spec("broken"), IMAGE)
    assert emu.richmenus.menus == {}
    assert [e["endpoint"] for e in emu.request_log] == [
        "createRichMenu", "setRichMenuImage", "deleteRichMenu"]


def test_default_and_per_user_links(client, emu):
    user = make_friends(emu, 1)[0]
    default = client.publish(spec("default"), IMAGE)
    vip = client.publish(spec("vip"), IMAGE)
    client.set_default(default)
    assert emu.richmenus.default_id == default
    client.link_user(user, vip)
    assert client.user_menu(user) == vip and emu.user(user).rich_menu["richMenuId"] == vip
    client.unlink_user(user)
    assert client.user_menu(user) is None
    assert emu.user(user).rich_menu["richMenuId"] == default
    assert client.delete(vip) is True and client.delete(vip) is False
    with pytest.raises(RequestRejected):
        client.link_user(user, vip)  # deleted: LINE refuses, not retried
    assert len(emu.requests_for("linkRichMenuIdToUser")) == 2


def test_bulk_link_goes_500_at_a_time(client, emu):
    users = make_friends(emu, 1203)
    menu = client.publish(spec("linked"), IMAGE)
    calls = client.bulk_link(menu, users)
    bodies = [e["body"] for e in emu.requests_for("linkRichMenuIdToUsers")]
    assert [len(b["userIds"]) for b in bodies] == [500, 500, 203]
    assert [u for b in bodies for u in b["userIds"]] == users
    assert [n for _, n, _ in calls] == [500, 500, 203]
    emu.advance(0)  # bulk jobs are asynchronous (202)
    assert set(linked_menus(emu, users)) == {menu}


def test_reconcile_switches_1203_users_with_3_bulk_calls_and_skips_users_already_right(client,
                                                                                       emu):
    users = make_friends(emu, 1210)
    unlinked = client.publish(spec("unlinked"), IMAGE)
    linked = client.publish(spec("linked"), IMAGE)
    client.set_default(unlinked)
    client.bulk_link(linked, users[1203:])  # 7 users are already right
    emu.advance(0)
    emu.request_log.clear()

    current = {u: emu.users[u].rich_menu_id for u in users}
    plan = client.reconcile(current, {u: linked for u in users}, default_menu_id=unlinked)
    assert plan.calls == 3 and len(plan.unchanged) == 7
    report = client.apply(plan)
    assert [e["endpoint"] for e in emu.request_log] == ["linkRichMenuIdToUsers"] * 3
    assert sorted(u for e in emu.request_log for u in e["body"]["userIds"]) == sorted(users[:1203])
    assert [n for _, n, _ in report.calls] == [500, 500, 203]
    emu.advance(0)
    assert set(linked_menus(emu, users)) == {linked}

    # Unlinking back to the default: per-user links are removed, not re-pointed at the default.
    emu.request_log.clear()
    plan = client.reconcile(current={u: linked for u in users[:10]},
                            target={u: unlinked for u in users[:10]}, default_menu_id=unlinked)
    client.apply(plan)
    assert [e["endpoint"] for e in emu.request_log] == ["unlinkRichMenuIdFromUsers"]
    emu.advance(0)
    assert set(linked_menus(emu, users[:10])) == {None}
    assert emu.user(users[0]).rich_menu["richMenuId"] == unlinked


def test_batch_move_polls_progress_until_done(client, emu, clock):
    users = make_friends(emu, 1200)
    old = client.publish(spec("old"), IMAGE)
    new = client.publish(spec("new"), IMAGE)
    client.bulk_link(old, users)
    emu.advance(0)
    emu.richmenus.batch_delay = 12  # LINE takes a while: three polls see "ongoing"
    plan = client.reconcile({u: old for u in users}, {u: new for u in users})
    assert plan.batch_operations == [{"type": "link", "from": old, "to": new}]
    report = client.apply(plan)
    assert [name for name, _, _ in report.calls] == ["richMenuBatch"]
    (batch,) = emu.requests_for("richMenuBatch")
    assert batch["body"]["operations"] == plan.batch_operations
    assert batch["body"]["resumeRequestKey"]
    assert len(emu.requests_for("getRichMenuBatchProgress")) == 4
    assert clock.slept == [1, 2, 4, 5]  # first poll after 1 s, doubling up to poll_interval
    assert set(linked_menus(emu, users)) == {new}


def test_batches_respect_three_per_hour_without_a_429(client, emu, clock):
    users = make_friends(emu, 2)
    a = client.publish(spec("a"), IMAGE)
    b = client.publish(spec("b"), IMAGE)
    client.bulk_link(a, users)
    emu.advance(0)
    for source, destination in ((a, b), (b, a), (a, b), (b, a)):
        client.batch_move(source, destination)
    statuses = [e["status"] for e in emu.requests_for("richMenuBatch")]
    assert len(statuses) == 4 and all(s in (200, 202) for s in statuses)
    # each batch finished at its first poll (1 s): the 4th waited for the 1st to age out
    assert max(clock.slept) == pytest.approx(3600 - 3 * 1)
    assert set(linked_menus(emu, users)) == {a}


def test_a_failed_batch_is_reported_with_its_resume_key(client, emu):
    users = make_friends(emu, 2)
    a = client.publish(spec("a"), IMAGE)
    b = client.publish(spec("b"), IMAGE)
    client.bulk_link(a, users)
    emu.advance(0)
    emu.richmenus.batch_delay = 10
    request_id = client.batch_move(a, b, resume_key="move-a-b", wait=False)
    client.delete(b)  # the target disappears before the batch runs
    with pytest.raises(BatchFailed) as caught:
        client.wait_batch(request_id, "move-a-b")
    assert caught.value.phase == "failed" and caught.value.resume_key == "move-a-b"
