"""Rich menu aliases and what a user's taps do: areas, richmenuswitch tabs, clear errors."""

import pytest
from linebot.v3.messaging import (CreateRichMenuAliasRequest, PostbackAction, RichMenuArea,
                                  RichMenuBounds, RichMenuRequest, RichMenuSize,
                                  RichMenuSwitchAction, UpdateRichMenuAliasRequest)
from werkzeug.test import Client

from line_emulator.errors import LineError
from line_emulator.images import solid_png
from richmenu_support import error_of, friend


def tab_menu(line, name, switch_to, image=True):
    """Left half: a postback; a 50 px gap with no area; right part: switch to ``switch_to``."""
    api, blob = line
    request = RichMenuRequest(
        size=RichMenuSize(width=2500, height=843), selected=True, name=name, chat_bar_text=name,
        areas=[RichMenuArea(bounds=RichMenuBounds(x=0, y=0, width=1250, height=843),
                            action=PostbackAction(label="Points", data=f"tab={name}&do=points")),
               RichMenuArea(bounds=RichMenuBounds(x=1300, y=0, width=1200, height=843),
                            action=RichMenuSwitchAction(rich_menu_alias_id=switch_to,
                                                        data=f"switch-to={switch_to}"))])
    rich_menu_id = api.create_rich_menu(request).rich_menu_id
    if image:
        blob.set_rich_menu_image(rich_menu_id, body=solid_png(2500, 843),
                                 _headers={"Content-Type": "image/png"})
    return rich_menu_id


def shown(emu, user):
    """``(richMenuId, source)`` of what the user sees."""
    menu, source = emu.richmenus.displayed(user)
    return (menu and menu["richMenuId"]), source


def alias(api, alias_id, rich_menu_id):
    api.create_rich_menu_alias(CreateRichMenuAliasRequest(rich_menu_alias_id=alias_id,
                                                          rich_menu_id=rich_menu_id))


@pytest.fixture
def tabs(line, emu):
    """LINE's tab example: menu A (default) switches to alias tab-b, menu B back to tab-a."""
    api, _ = line
    a, b = tab_menu(line, "A", "tab-b"), tab_menu(line, "B", "tab-a")
    alias(api, "tab-a", a)
    alias(api, "tab-b", b)
    api.set_default_rich_menu(a)
    return a, b


# Aliases ----------------------------------------------------------------------------------------
def test_alias_create_get_list_update_delete(line):
    api, _ = line
    a, b = tab_menu(line, "A", "tab-b"), tab_menu(line, "B", "tab-a")
    alias(api, "tab-a", a)
    alias(api, "tab-b", b)
    assert api.get_rich_menu_alias("tab-a").rich_menu_id == a
    listed = api.get_rich_menu_alias_list().aliases
    assert [(x.rich_menu_alias_id, x.rich_menu_id) for x in listed] == [("tab-a", a), ("tab-b", b)]
    api.update_rich_menu_alias("tab-a", UpdateRichMenuAliasRequest(rich_menu_id=b))
    assert api.get_rich_menu_alias("tab-a").rich_menu_id == b
    api.delete_rich_menu_alias("tab-a")
    assert error_of(api.get_rich_menu_alias, "tab-a") == \
        (404, {"message": "richmenu alias not found"})
    assert error_of(api.delete_rich_menu_alias, "tab-a")[0] == 404
    assert [x.rich_menu_alias_id for x in api.get_rich_menu_alias_list().aliases] == ["tab-b"]


def test_alias_errors_change_nothing(line, emu):
    api, _ = line
    a, bare = tab_menu(line, "A", "tab-b"), tab_menu(line, "Bare", "tab-a", image=False)
    alias(api, "tab-a", a)
    assert error_of(alias, api, "tab-a", a) == (400, {"message": "conflict richmenu alias id"})
    status, body = error_of(alias, api, "tab-bare", bare)
    assert (status, body["message"]) == (400, "richmenu not found")
    assert "has no image" in body["details"][0]["message"]
    assert error_of(alias, api, "tab-x", "richmenu-" + "1" * 32)[0] == 400
    assert error_of(api.update_rich_menu_alias, "tab-a",
                    UpdateRichMenuAliasRequest(rich_menu_id=bare))[0] == 400
    assert error_of(api.update_rich_menu_alias, "tab-zzz",
                    UpdateRichMenuAliasRequest(rich_menu_id=a)) == \
        (404, {"message": "richmenu alias not found"})
    assert emu.richmenus.aliases == {"tab-a": a}


@pytest.mark.parametrize("alias_id", ["Tab-A", "tab a", "t" * 33, ""])
def test_alias_ids_must_match_the_pattern(line, emu, alias_id):
    a = tab_menu(line, "A", "tab-b")
    client = Client(emu.app)
    response = client.post("/v2/bot/richmenu/alias",
                           json={"richMenuAliasId": alias_id, "richMenuId": a},
                           headers={"Authorization": f"Bearer {emu.config.access_token}"})
    assert response.status_code == 400
    assert response.json["details"][0]["property"] == "richMenuAliasId"
    assert emu.richmenus.aliases == {}


def test_at_most_1000_aliases(line, emu):
    api, _ = line
    a = tab_menu(line, "A", "tab-b")
    emu.richmenus.aliases.update({f"alias-{i}": a for i in range(1000)})
    status, body = error_of(alias, api, "one-more", a)
    assert status == 400 and "(1000)" in body["message"]


# Taps -------------------------------------------------------------------------------------------
def test_tapping_an_area_returns_its_action(emu, tabs):
    aiko = friend(emu)
    result = emu.richmenus.tap(aiko, 10, 10)
    assert result["action"] == {"type": "postback", "label": "Points", "data": "tab=A&do=points"}
    assert result["params"] is None
    assert (result["richMenuId"], result["area"]) == (tabs[0], 0)
    assert emu.richmenus.clicks[(tabs[0], 0)] == 1


def test_richmenuswitch_tap_switches_tabs_for_that_user_only(line, emu, tabs):
    api, _ = line
    a, b = tabs
    aiko, ben = friend(emu, "Aiko"), friend(emu, "Ben")
    result = emu.richmenus.tap(aiko, 2000, 400)
    assert result["action"]["type"] == "richmenuswitch"
    assert result["params"] == {"newRichMenuAliasId": "tab-b", "status": "SUCCESS"}
    menu, source = emu.richmenus.displayed(aiko)
    assert (menu["richMenuId"], source) == (b, "alias")
    assert shown(emu, ben) == (a, "default")
    # LINE builds tabs on per-user menus: the switch shows as the user's menu.
    assert api.get_rich_menu_id_of_user(aiko.user_id).rich_menu_id == b

    api.cancel_default_rich_menu()  # LINE: clearing the default does not undo a switch
    assert emu.richmenus.displayed(aiko)[0]["richMenuId"] == b
    back = emu.richmenus.tap(aiko, 1499, 842)
    assert back["params"] == {"newRichMenuAliasId": "tab-a", "status": "SUCCESS"}
    assert emu.richmenus.displayed(aiko)[0]["richMenuId"] == a


def test_an_api_link_ends_the_switch(line, emu, tabs):
    api, _ = line
    a, b = tabs
    aiko = friend(emu)
    emu.richmenus.tap(aiko, 2000, 400)
    api.link_rich_menu_id_to_user(aiko.user_id, a)
    assert emu.richmenus.displayed(aiko)[1] == "user"
    api.unlink_rich_menu_id_from_user(aiko.user_id)
    assert shown(emu, aiko) == (a, "default")


def test_alias_update_redirects_later_switches(line, emu, tabs):
    api, _ = line
    a, _b = tabs
    c = tab_menu(line, "C", "tab-a")
    api.update_rich_menu_alias("tab-b", UpdateRichMenuAliasRequest(rich_menu_id=c))
    aiko = friend(emu)
    emu.richmenus.tap(aiko, 2000, 400)
    assert emu.richmenus.displayed(aiko)[0]["name"] == "C"


def test_switch_to_a_missing_alias_or_deleted_menu_fails_without_switching(line, emu, tabs):
    api, _ = line
    a, b = tabs
    aiko = friend(emu)
    api.delete_rich_menu_alias("tab-b")
    assert emu.richmenus.tap(aiko, 2000, 400)["params"] == {"status": "RICHMENU_ALIAS_ID_NOTFOUND"}
    assert emu.richmenus.displayed(aiko)[0]["richMenuId"] == a

    alias(api, "tab-b", b)
    api.delete_rich_menu(b)  # the alias survives, pointing at nothing
    assert api.get_rich_menu_alias("tab-b").rich_menu_id == b
    assert emu.richmenus.tap(aiko, 2000, 400)["params"] == {"status": "RICHMENU_NOTFOUND"}
    assert shown(emu, aiko) == (a, "default")


def test_tap_where_no_area_is_explains_the_areas(emu, tabs):
    aiko = friend(emu)
    with pytest.raises(LineError) as info:
        emu.richmenus.tap(aiko, 1275, 100)  # the 50 px gap between the two areas
    assert info.value.status == 400
    message = info.value.message
    assert "(1275, 100)" in message and "'A'" in message
    assert "x 0..1249, y 0..842" in message and "x 1300..2499" in message
    assert emu.richmenus.displayed(aiko)[0]["richMenuId"] == tabs[0]


@pytest.mark.parametrize("x,y", [(2500, 0), (0, 843), (-1, 5)])
def test_tap_outside_the_image(emu, tabs, x, y):
    with pytest.raises(LineError, match="outside rich menu"):
        emu.richmenus.tap(friend(emu), x, y)


def test_tap_without_a_menu_says_why(line, emu):
    aiko = friend(emu)
    with pytest.raises(LineError, match="no default rich menu is set"):
        emu.richmenus.tap(aiko, 0, 0)
    stranger = emu.add_user("Stranger").record
    line[0].set_default_rich_menu(tab_menu(line, "A", "tab-b"))
    with pytest.raises(LineError, match="friendship is 'none'"):
        emu.richmenus.tap(stranger, 0, 0)
