"""Asynchronous rich-menu work: bulk link/unlink (202, applied by run_pending) and batch
operations with their progress, rate limit and resumeRequestKey."""

import json

import pytest
import requests
from linebot.v3.messaging import (PostbackAction, RichMenuArea, RichMenuBatchLinkOperation,
                                  RichMenuBatchRequest, RichMenuBatchUnlinkAllOperation,
                                  RichMenuBatchUnlinkOperation, RichMenuBounds,
                                  RichMenuBulkLinkRequest, RichMenuBulkUnlinkRequest,
                                  RichMenuRequest, RichMenuSize)

from line_emulator.images import solid_png
from richmenu_support import error_of, friends


@pytest.fixture
def raw(emulator_server):
    """POST a JSON body the SDK would refuse to build (too many items)."""
    emu = emulator_server.emulator

    def post(path, body):
        return requests.post(emulator_server.base_url + path, json=body, timeout=10,
                             headers={"Authorization": f"Bearer {emu.config.access_token}"})
    return post


def create_menu(line, name, image=True):
    api, blob = line
    request = RichMenuRequest(
        size=RichMenuSize(width=2500, height=843), selected=False, name=name, chat_bar_text=name,
        areas=[RichMenuArea(bounds=RichMenuBounds(x=0, y=0, width=2500, height=843),
                            action=PostbackAction(data=f"menu={name}"))])
    rich_menu_id = api.create_rich_menu(request).rich_menu_id
    if image:
        blob.set_rich_menu_image(rich_menu_id, body=solid_png(2500, 843),
                                 _headers={"Content-Type": "image/png"})
    return rich_menu_id


def run_batch(api, *operations, key=None):
    response = api.rich_menu_batch_with_http_info(
        RichMenuBatchRequest(operations=list(operations), resume_request_key=key))
    assert response.status_code == 202
    return response.headers["x-line-request-id"]


# Bulk link / unlink ---------------------------------------------------------------------------
def test_bulk_link_of_500_users_is_applied_by_run_pending(line, emu):
    api, _ = line
    users = friends(emu, 500)
    rich_menu_id = create_menu(line, "Members")
    response = api.link_rich_menu_id_to_users_with_http_info(
        RichMenuBulkLinkRequest(rich_menu_id=rich_menu_id, user_ids=[u.user_id for u in users]))
    assert response.status_code == 202
    assert all(u.rich_menu_id is None for u in users)  # accepted, not yet applied

    emu.advance(0)
    assert all(u.rich_menu_id == rich_menu_id for u in users)
    assert api.get_rich_menu_id_of_user(users[499].user_id).rich_menu_id == rich_menu_id

    api.unlink_rich_menu_id_from_users(RichMenuBulkUnlinkRequest(
        user_ids=[u.user_id for u in users[:200]]))
    emu.advance(0)
    assert sum(u.rich_menu_id is None for u in users) == 200


def test_bulk_link_of_501_users_is_a_400_and_links_nobody(line, emu, raw):
    users = friends(emu, 501)
    rich_menu_id = create_menu(line, "Members")
    ids = [u.user_id for u in users]
    for path, body in (("/v2/bot/richmenu/bulk/link", {"richMenuId": rich_menu_id, "userIds": ids}),
                       ("/v2/bot/richmenu/bulk/unlink", {"userIds": ids})):
        response = raw(path, body)
        assert response.status_code == 400
        assert response.json()["details"] == [{"message": "size must be between 1 and 500",
                                               "property": "userIds"}]
    emu.advance(0)
    assert all(u.rich_menu_id is None for u in users)


def test_bulk_link_skips_non_friends_and_rejects_malformed_ids(line, emu, raw):
    (aiko,) = friends(emu, 1)
    stranger = emu.add_user("Stranger").record
    rich_menu_id = create_menu(line, "Members")
    response = raw("/v2/bot/richmenu/bulk/link",
                   {"richMenuId": rich_menu_id, "userIds": [aiko.user_id, "not-a-user-id"]})
    assert response.status_code == 400
    assert response.json()["details"][0]["property"] == "userIds[1]"
    emu.advance(0)
    assert aiko.rich_menu_id is None  # a rejected request links nobody

    api, _ = line
    api.link_rich_menu_id_to_users(RichMenuBulkLinkRequest(
        rich_menu_id=rich_menu_id, user_ids=[aiko.user_id, stranger.user_id, "U" + "0" * 32]))
    emu.advance(0)
    assert (aiko.rich_menu_id, stranger.rich_menu_id) == (rich_menu_id, None)


def test_bulk_link_checks_the_menu_first(line, emu):
    api, _ = line
    (aiko,) = friends(emu, 1)
    bare = create_menu(line, "Bare", image=False)
    request = RichMenuBulkLinkRequest(rich_menu_id=bare, user_ids=[aiko.user_id])
    assert error_of(api.link_rich_menu_id_to_users, request)[0] == 400
    request.rich_menu_id = "richmenu-" + "f" * 32
    assert error_of(api.link_rich_menu_id_to_users, request) == \
        (404, {"message": "richmenu not found"})


def test_bulk_delay_holds_the_change_until_the_clock_reaches_it(line, emu):
    api, _ = line
    emu.richmenus.bulk_delay = 5
    (aiko,) = friends(emu, 1)
    rich_menu_id = create_menu(line, "Members")
    api.link_rich_menu_id_to_users(RichMenuBulkLinkRequest(rich_menu_id=rich_menu_id,
                                                           user_ids=[aiko.user_id]))
    emu.advance(4)
    assert aiko.rich_menu_id is None
    emu.advance(1)
    assert aiko.rich_menu_id == rich_menu_id


# Batch ----------------------------------------------------------------------------------------
def test_batch_link_moves_every_user_of_a_menu_and_reports_progress(line, emu):
    api, _ = line
    old, new, other = (create_menu(line, name) for name in ("Old", "New", "Other"))
    movers, stayer = friends(emu, 3), friends(emu, 1, "Stayer")[0]
    for user in movers:
        api.link_rich_menu_id_to_user(user.user_id, old)
    api.link_rich_menu_id_to_user(stayer.user_id, other)

    request_id = run_batch(api, RichMenuBatchLinkOperation(var_from=old, to=new))
    progress = api.get_rich_menu_batch_progress(request_id)
    assert progress.phase == "ongoing" and progress.completed_time is None
    assert all(u.rich_menu_id == old for u in movers)

    emu.advance(0)
    assert all(u.rich_menu_id == new for u in movers)
    assert stayer.rich_menu_id == other
    progress = api.get_rich_menu_batch_progress_with_http_info(request_id)
    body = json.loads(progress.raw_data)
    assert body == {"phase": "succeeded", "acceptedTime": "2026-11-02T00:00:00.000Z",
                    "completedTime": "2026-11-02T00:00:00.000Z"}


def test_batch_operations_run_in_parallel_without_cascading(line, emu):
    api, _ = line
    a, b, c = (create_menu(line, name) for name in "ABC")
    on_a, on_b = friends(emu, 1, "A")[0], friends(emu, 1, "B")[0]
    api.link_rich_menu_id_to_user(on_a.user_id, a)
    api.link_rich_menu_id_to_user(on_b.user_id, b)
    run_batch(api, RichMenuBatchLinkOperation(var_from=a, to=b),
              RichMenuBatchLinkOperation(var_from=b, to=c))
    emu.advance(1)
    assert (on_a.rich_menu_id, on_b.rich_menu_id) == (b, c)


def test_batch_unlink_and_unlink_all(line, emu):
    api, _ = line
    a, b = create_menu(line, "A"), create_menu(line, "B")
    on_a, on_b = friends(emu, 1, "A")[0], friends(emu, 1, "B")[0]
    api.link_rich_menu_id_to_user(on_a.user_id, a)
    api.link_rich_menu_id_to_user(on_b.user_id, b)
    run_batch(api, RichMenuBatchUnlinkOperation(var_from=a))
    emu.advance(0)
    assert (on_a.rich_menu_id, on_b.rich_menu_id) == (None, b)
    run_batch(api, RichMenuBatchUnlinkAllOperation())
    emu.advance(0)
    assert on_b.rich_menu_id is None


@pytest.mark.parametrize("operations,status,prop,message", [
    ([{"type": "unlinkAll"}, {"type": "unlink", "from": "A"}], 400, "operations[].type",
     "'unlinkAll' type can't be combined with other type"),
    ([{"type": "unlink", "from": "A"}, {"type": "link", "from": "A", "to": "B"}], 400,
     "operations[].from", "is duplicated"),
    ([{"type": "link", "from": "A", "to": "BARE"}], 400, "operations[0].to",
     "must have image but it doesn't"),
    ([{"type": "link", "from": "A", "to": "richmenu-" + "e" * 32}], 404, "operations[0].to",
     "is not found"),
    ([{"type": "link", "from": "A", "to": "nope"}], 400, "operations[0].to", "invalid richMenuId"),
    ([{"type": "link", "from": "A"}], 400, "operations[0].to", "must be specified"),
    ([{"type": "move", "from": "A"}], 400, "operations[0].type", "must be one of"),
    ([{"type": "unlink", "from": "A"}] * 1001, 400, "operations", "between 1 and 1000"),
    ([], 400, "operations", "between 1 and 1000"),
])
def test_invalid_batches_are_refused_by_batch_and_validate_alike(line, emu, raw, operations,
                                                                 status, prop, message):
    names = {"A": create_menu(line, "A"), "B": create_menu(line, "B"),
             "BARE": create_menu(line, "Bare", image=False)}
    on_a = friends(emu, 1)[0]
    line[0].link_rich_menu_id_to_user(on_a.user_id, names["A"])
    body = {"operations": [{k: names.get(v, v) for k, v in op.items()} for op in operations]}
    for path in ("/v2/bot/richmenu/validate/batch", "/v2/bot/richmenu/batch"):
        response = raw(path, body)
        assert response.status_code == status
        details = response.json()["details"]
        assert any(d["property"] == prop and message in d["message"] for d in details), details
    emu.advance(0)
    assert on_a.rich_menu_id == names["A"]


def test_resume_request_key_must_match_its_pattern(line, raw):
    a, b = create_menu(line, "A"), create_menu(line, "B")
    body = {"operations": [{"type": "link", "from": a, "to": b}], "resumeRequestKey": "no spaces!"}
    response = raw("/v2/bot/richmenu/validate/batch", body)
    assert response.status_code == 400
    assert response.json()["details"][0]["property"] == "resumeRequestKey"
    body["resumeRequestKey"] = "campaign-2026_11"
    assert raw("/v2/bot/richmenu/validate/batch", body).status_code == 200


def test_fourth_batch_in_an_hour_is_429_but_validation_is_not_limited(line, emu):
    api, _ = line
    a, b = create_menu(line, "A"), create_menu(line, "B")
    operation = RichMenuBatchLinkOperation(var_from=a, to=b)
    for _ in range(3):
        run_batch(api, operation)
    assert error_of(api.rich_menu_batch, RichMenuBatchRequest(operations=[operation]))[0] == 429
    for _ in range(5):
        api.validate_rich_menu_batch_request(RichMenuBatchRequest(operations=[operation]))
    emu.advance(3600)
    run_batch(api, operation)


def test_progress_of_unknown_or_expired_requests_is_404(line, emu):
    api, _ = line
    a, b = create_menu(line, "A"), create_menu(line, "B")
    assert error_of(api.get_rich_menu_batch_progress, "no-such-request") == \
        (404, {"message": "Not found"})
    request_id = run_batch(api, RichMenuBatchLinkOperation(var_from=a, to=b))
    emu.advance(14 * 24 * 3600 - 1)
    assert api.get_rich_menu_batch_progress(request_id).phase == "succeeded"
    emu.advance(1)
    assert error_of(api.get_rich_menu_batch_progress, request_id)[0] == 404


def test_failed_batch_resumes_only_unprocessed_users_with_the_same_key(line, emu):
    api, _ = line
    a, b, c, d, e = (create_menu(line, name) for name in "ABCDE")
    on_a, on_c = friends(emu, 1, "A")[0], friends(emu, 1, "C")[0]
    api.link_rich_menu_id_to_user(on_a.user_id, a)
    api.link_rich_menu_id_to_user(on_c.user_id, c)
    request_id = run_batch(api, RichMenuBatchLinkOperation(var_from=a, to=b),
                           RichMenuBatchLinkOperation(var_from=c, to=d), key="spring-sale")
    api.delete_rich_menu(d)  # the target vanishes before the batch runs
    emu.advance(0)
    assert api.get_rich_menu_batch_progress(request_id).phase == "failed"
    assert (on_a.rich_menu_id, on_c.rich_menu_id) == (b, c)

    api.link_rich_menu_id_to_user(on_a.user_id, a)  # A's user was processed under the key
    run_batch(api, RichMenuBatchLinkOperation(var_from=a, to=b),
              RichMenuBatchLinkOperation(var_from=c, to=e), key="spring-sale")
    emu.advance(0)
    assert (on_a.rich_menu_id, on_c.rich_menu_id) == (a, e)

    emu.advance(3600)  # rate limit window; a new key processes everyone again
    run_batch(api, RichMenuBatchLinkOperation(var_from=a, to=b), key="autumn-sale")
    emu.advance(0)
    assert on_a.rich_menu_id == b
