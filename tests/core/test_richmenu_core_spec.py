"""Rich-menu specs and images are checked against LINE's limits before any call; minimal plans."""

import struct

import pytest

from line_emulator.images import solid_png
from line_idlink.richmenu_publisher import reconcile
from line_idlink.richmenu_spec import RichMenuInvalid, RichMenuSpec, check_image


def area(x, y, w, h, action):
    return {"bounds": {"x": x, "y": y, "width": w, "height": h}, "action": action}


def good_spec():
    return RichMenuSpec(size=(2500, 843), name="linked members", chat_bar_text="メニュー",
                        selected=True, areas=[
                            area(0, 0, 1250, 843, {"type": "postback", "data": "action=orders",
                                                   "displayText": "注文履歴", "label": "注文履歴"}),
                            area(1250, 0, 1250, 421, {"type": "uri",
                                                      "uri": "https://shop.example/my"}),
                            area(1250, 421, 1250, 422, {"type": "richmenuswitch",
                                                        "richMenuAliasId": "tab-b",
                                                        "data": "tab=b"})])


def jpeg_header(width, height):
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    frame = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return (b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0
            + b"\xff\xc0" + struct.pack(">H", len(frame) + 2) + frame + b"\xff\xd9")


def props(spec):
    return [p for p, _ in spec.validate()]


def test_a_valid_spec_passes_and_round_trips_lines_json():
    spec = good_spec()
    assert spec.validate() == [] and spec.check() is spec
    data = spec.to_dict()
    assert data["size"] == {"width": 2500, "height": 843} and data["chatBarText"] == "メニュー"
    assert RichMenuSpec.from_dict(dict(data, richMenuId="richmenu-x")).to_dict() == data


def test_every_problem_is_listed_with_its_property():
    spec = RichMenuSpec(size={"width": 700, "height": 200}, name="", chat_bar_text="x" * 15,
                        areas=[area(0, 0, 10, 10, {"type": "postback"})], selected="yes")
    with pytest.raises(RichMenuInvalid) as caught:
        spec.check()
    assert [p for p, _ in caught.value.errors] == [
        "size.width", "size.height", "selected", "name", "chatBarText", "areas[0].action.data"]
    assert "800 and 2500" in str(caught.value)


@pytest.mark.parametrize("size,ok", [((2500, 1686), True), ((800, 250), True), ((1200, 900), False),
                                     ((2501, 1686), False), ((800, 249), False)])
def test_size_limits_and_aspect_ratio(size, ok):
    spec = good_spec()
    spec.size, spec.areas = size, []
    assert (spec.validate() == []) is ok


def test_areas_must_lie_inside_the_image_and_be_at_most_20():
    spec = good_spec()
    spec.areas = [area(2000, 0, 501, 100, {"type": "message", "text": "hi"}),
                  area(0, 800, 100, 44, {"type": "message", "text": "hi"}),
                  area(-1, 0, 0, 10, {"type": "message", "text": "hi"})]
    assert props(spec) == ["areas[0].bounds", "areas[1].bounds", "areas[2].bounds.x",
                           "areas[2].bounds.width"]
    spec.areas = [area(0, 0, 100, 100, {"type": "message", "text": "hi"})] * 21
    assert props(spec) == ["areas"]


@pytest.mark.parametrize("action,prop", [
    ({"type": "postback", "data": "x" * 301}, "data"),
    ({"type": "postback", "data": "a", "displayText": "b", "text": "c"}, "text"),
    ({"type": "postback", "data": "a", "fillInText": "hi"}, "fillInText"),
    ({"type": "postback", "data": "a", "inputOption": "openCamera"}, "inputOption"),
    ({"type": "postback", "data": "a", "label": "l" * 21}, "label"),
    ({"type": "uri", "uri": "ftp://example.com/file"}, "uri"),
    ({"type": "uri", "uri": "https://example.com/" + "a" * 1000}, "uri"),
    ({"type": "uri", "uri": "https://example.com/ページ"}, "uri"),
    ({"type": "uri", "uri": "https://example.com", "altUri": {"desktop": "javascript:x"}},
     "altUri.desktop"),
    ({"type": "richmenuswitch", "richMenuAliasId": "Tab B", "data": "x"}, "richMenuAliasId"),
    ({"type": "richmenuswitch", "richMenuAliasId": "tab-b"}, "data"),
    ({"type": "message"}, "text"),
    ({"type": "datetimepicker", "data": "d", "mode": "week"}, "mode"),
    ({"type": "camera"}, "label"),
    ({"type": "clipboard", "clipboardText": ""}, "clipboardText"),
    ({"type": "sticker"}, "type"),
])
def test_action_rules(action, prop):
    spec = good_spec()
    spec.areas = [area(0, 0, 100, 100, action)]
    assert props(spec) == [f"areas[0].action.{prop}"]


@pytest.mark.parametrize("action", [
    {"type": "uri", "uri": "tel:0312345678"}, {"type": "uri", "uri": "line://nv/profile"},
    {"type": "postback", "data": "a", "inputOption": "openKeyboard", "fillInText": "No."},
    {"type": "datetimepicker", "data": "d", "mode": "date"},
    {"type": "cameraRoll", "label": "写真"}, {"type": "clipboard", "clipboardText": "CODE10"}])
def test_allowed_actions(action):
    spec = good_spec()
    spec.areas = [area(0, 0, 100, 100, action)]
    assert spec.validate() == []


def test_image_type_size_and_bytes_are_checked():
    assert check_image(solid_png(2500, 843), (2500, 843)) == "image/png"
    assert check_image(jpeg_header(1200, 405), (1200, 405)) == "image/jpeg"
    with pytest.raises(RichMenuInvalid, match="is 2500x1686 px but the rich menu is 2500x843"):
        check_image(solid_png(2500, 1686), (2500, 843))
    with pytest.raises(RichMenuInvalid, match="PNG or JPEG"):
        check_image(b"GIF89a" + bytes(100), (2500, 843))
    with pytest.raises(RichMenuInvalid, match="1 MB"):
        check_image(jpeg_header(2500, 843) + bytes(1024 * 1024), (2500, 843))
    with pytest.raises(RichMenuInvalid, match="bytes"):
        check_image("/tmp/menu.png", (2500, 843))  # the SDK would open a str as a file path


# Reconcile plans ---------------------------------------------------------------------------------
def uid(n):
    return f"U{n:032x}"


def test_1203_users_switched_with_exactly_3_bulk_calls_and_none_for_users_already_right():
    linked, unlinked = "richmenu-" + "1" * 32, "richmenu-" + "0" * 32
    current = {uid(n): None for n in range(1203)}
    current.update({uid(n): linked for n in range(2000, 2100)})  # already on the linked menu
    target = {user: linked for user in current}
    plan = reconcile(current, target, default_menu_id=unlinked)
    assert plan.calls == 3 and list(plan.link) == [linked]
    assert len(plan.link[linked]) == 1203 and plan.unlink == [] and plan.batch_operations == []
    assert sorted(plan.unchanged) == [uid(n) for n in range(2000, 2100)]


def test_the_default_menu_means_no_per_user_link():
    default, vip = "richmenu-" + "d" * 32, "richmenu-" + "v" * 32
    current = {uid(1): vip, uid(2): default, uid(3): None, uid(4): vip}
    target = {uid(1): default, uid(2): None, uid(3): default, uid(4): vip}
    plan = reconcile(current, target, default_menu_id=default)
    assert plan.unlink == [uid(1), uid(2)]  # both had a per-user link
    assert plan.link == {} and plan.unchanged == [uid(3), uid(4)] and plan.calls == 1


def test_everyone_on_a_menu_moving_together_is_one_batch_call():
    a, b, default = ("richmenu-" + c * 32 for c in "abd")
    current = {uid(n): a for n in range(1200)}
    current.update({uid(n): b for n in range(5000, 5010)})
    target = {user: b for user in current}
    plan = reconcile(current, target, default_menu_id=default)
    assert plan.batch_operations == [{"type": "link", "from": a, "to": b}]
    assert plan.calls == 1 and plan.link == {} and len(plan.unchanged) == 10

    to_default = reconcile(current, {u: default for u in current if current[u] == a}, default)
    assert to_default.batch_operations == [{"type": "unlink", "from": a}]

    one_stays = dict(target, **{uid(7): a})  # not ALL users of A move: per-user bulk calls
    plan = reconcile(current, one_stays, default_menu_id=default)
    assert plan.batch_operations == [] and plan.calls == 3

    never = reconcile(current, target, default_menu_id=default, batch_min_users=None)
    assert never.batch_operations == [] and never.calls == 3
