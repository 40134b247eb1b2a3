"""Rich menus through the official SDK: objects, images (api-data endpoints), the default menu,
per-user links and what a user then sees."""

import json
import struct

import pytest
from linebot.v3.messaging import (PostbackAction, RichMenuArea, RichMenuBounds, RichMenuRequest,
                                  RichMenuSize, URIAction)

from line_emulator.images import solid_png
from richmenu_support import error_of, friend


def menu_request(name="Main menu", width=2500, height=843):
    half = width // 2
    return RichMenuRequest(
        size=RichMenuSize(width=width, height=height), selected=True, name=name,
        chat_bar_text="Menu",
        areas=[RichMenuArea(bounds=RichMenuBounds(x=0, y=0, width=half, height=height),
                            action=PostbackAction(label="Link", data="action=link")),
               RichMenuArea(bounds=RichMenuBounds(x=half, y=0, width=width - half, height=height),
                            action=URIAction(label="Shop", uri="https://example.com/shop"))])


def create_menu(line, name="Main menu", image=True):
    api, blob = line
    rich_menu_id = api.create_rich_menu(menu_request(name)).rich_menu_id
    if image:
        blob.set_rich_menu_image(rich_menu_id, body=solid_png(2500, 843),
                                 _headers={"Content-Type": "image/png"})
    return rich_menu_id


def jpeg_header(width, height):
    frame = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8\xff\xc0" + struct.pack(">H", len(frame) + 2) + frame + b"\xff\xd9"


# Objects and images ---------------------------------------------------------------------------
def test_menu_and_png_round_trip_byte_identical(line):
    api, blob = line
    rich_menu_id = api.create_rich_menu(menu_request()).rich_menu_id
    png = solid_png(2500, 843, rgb=(10, 20, 30))
    blob.set_rich_menu_image(rich_menu_id, body=png, _headers={"Content-Type": "image/png"})

    response = blob.get_rich_menu_image_with_http_info(rich_menu_id)
    assert bytes(response.data) == png
    assert response.headers["Content-Type"] == "image/png"
    menu = api.get_rich_menu(rich_menu_id)
    assert (menu.rich_menu_id, menu.name, menu.chat_bar_text, menu.selected) == \
        (rich_menu_id, "Main menu", "Menu", True)
    assert menu.areas[1].action.uri == "https://example.com/shop"
    assert [m.rich_menu_id for m in api.get_rich_menu_list().richmenus] == [rich_menu_id]


def test_jpeg_of_the_right_size_is_accepted_and_served_as_jpeg(line):
    api, blob = line
    rich_menu_id = api.create_rich_menu(menu_request()).rich_menu_id
    jpeg = jpeg_header(2500, 843)
    blob.set_rich_menu_image(rich_menu_id, body=jpeg, _headers={"Content-Type": "image/jpeg"})
    response = blob.get_rich_menu_image_with_http_info(rich_menu_id)
    assert (bytes(response.data), response.headers["Content-Type"]) == (jpeg, "image/jpeg")


@pytest.mark.parametrize("body,content_type,status,message", [
    (solid_png(2500, 1686), "image/png", 400, "The image size is not allowed for richmenu"),
    (jpeg_header(1200, 405), "image/jpeg", 400, "The image size is not allowed for richmenu"),
    (solid_png(2500, 843), "image/gif", 415, "must be image/png or image/jpeg"),
    (solid_png(2500, 843), "image/jpeg", 400, "could not be read"),
    (b"GIF89a....", "image/png", 400, "could not be read"),
    (solid_png(2500, 843) + b"\x00" * (1024 * 1024), "image/png", 400,
     "The image size is not allowed for richmenu"),
], ids=["png-wrong-size", "jpeg-wrong-size", "gif-type", "png-sent-as-jpeg", "not-an-image",
        "over-1MB"])
def test_bad_images_are_refused_and_a_good_one_still_fits(line, body, content_type, status,
                                                          message):
    api, blob = line
    rich_menu_id = api.create_rich_menu(menu_request()).rich_menu_id
    got_status, error = error_of(blob.set_rich_menu_image, rich_menu_id, body=body,
                                 _headers={"Content-Type": content_type})
    assert got_status == status
    assert message in error["message"] + json.dumps(error.get("details", []))
    assert error_of(blob.get_rich_menu_image, rich_menu_id)[0] == 404  # nothing was stored
    blob.set_rich_menu_image(rich_menu_id, body=solid_png(2500, 843),
                             _headers={"Content-Type": "image/png"})


def test_mismatched_size_explains_both_sizes(line):
    api, blob = line
    rich_menu_id = api.create_rich_menu(menu_request()).rich_menu_id
    _, error = error_of(blob.set_rich_menu_image, rich_menu_id, body=solid_png(2500, 1686),
                        _headers={"Content-Type": "image/png"})
    assert "2500x1686" in error["details"][0]["message"]
    assert "2500x843" in error["details"][0]["message"]


def test_an_image_cannot_be_replaced(line):
    _, blob = line
    rich_menu_id = create_menu(line)
    status, error = error_of(blob.set_rich_menu_image, rich_menu_id,
                             body=solid_png(2500, 843, rgb=(0, 0, 0)),
                             _headers={"Content-Type": "image/png"})
    assert (status, error["message"]) == (400, "An image has already been uploaded to the richmenu")
    assert bytes(blob.get_rich_menu_image(rich_menu_id)) == solid_png(2500, 843)


def test_unknown_menus_are_404(line):
    api, blob = line
    unknown = "richmenu-" + "0" * 32
    for call in (api.get_rich_menu, api.delete_rich_menu, blob.get_rich_menu_image,
                 api.set_default_rich_menu):
        assert error_of(call, unknown) == (404, {"message": "Not found"})
    assert error_of(blob.set_rich_menu_image, unknown, body=solid_png(2500, 843),
                    _headers={"Content-Type": "image/png"})[0] == 404


# Default and per-user menus -------------------------------------------------------------------
def test_a_menu_without_image_cannot_be_shown(line, emu):
    api, _ = line
    aiko = friend(emu)
    bare = create_menu(line, image=False)
    no_image = "must upload richmenu image before applying it to user"
    assert error_of(api.link_rich_menu_id_to_user, aiko.user_id, bare) == \
        (400, {"message": no_image})
    assert error_of(api.set_default_rich_menu, bare) == (400, {"message": no_image})
    assert aiko.rich_menu_id is None
    assert error_of(api.get_default_rich_menu_id)[1] == {"message": "no default richmenu"}
    assert emu.richmenus.displayed(aiko) == (None, None)


def test_per_user_menu_beats_the_default(line, emu):
    api, _ = line
    aiko, ben = friend(emu, "Aiko"), friend(emu, "Ben")
    default, personal = create_menu(line, "Everyone"), create_menu(line, "Linked members")

    api.set_default_rich_menu(default)
    assert api.get_default_rich_menu_id().rich_menu_id == default
    assert emu.richmenus.displayed(aiko)[0]["richMenuId"] == default
    assert emu.richmenus.displayed(aiko)[1] == "default"

    api.link_rich_menu_id_to_user(aiko.user_id, personal)
    menu, source = emu.richmenus.displayed(aiko)
    assert (menu["name"], source) == ("Linked members", "user")
    assert api.get_rich_menu_id_of_user(aiko.user_id).rich_menu_id == personal
    assert emu.richmenus.displayed(ben)[1] == "default"  # others keep the default

    api.unlink_rich_menu_id_from_user(aiko.user_id)
    assert emu.richmenus.displayed(aiko)[1] == "default"
    assert error_of(api.get_rich_menu_id_of_user, aiko.user_id) == \
        (404, {"message": "the user has no richmenu"})

    api.cancel_default_rich_menu()
    assert emu.richmenus.displayed(aiko) == (None, None)


def test_linking_a_non_friend_answers_200_and_links_nothing(line, emu):
    api, _ = line
    stranger = emu.add_user("Chika").record
    rich_menu_id = create_menu(line)
    api.link_rich_menu_id_to_user(stranger.user_id, rich_menu_id)
    assert stranger.rich_menu_id is None
    assert error_of(api.get_rich_menu_id_of_user, stranger.user_id)[0] == 404
    api.set_default_rich_menu(rich_menu_id)
    assert emu.richmenus.displayed(stranger) == (None, None)  # only friends see menus


def test_a_malformed_user_id_is_a_400(line):
    api, _ = line
    rich_menu_id = create_menu(line)
    message = {"message": "The value for the 'userId' parameter is invalid"}
    assert error_of(api.link_rich_menu_id_to_user, "aiko", rich_menu_id) == (400, message)
    assert error_of(api.get_rich_menu_id_of_user, "aiko") == (400, message)
    assert error_of(api.unlink_rich_menu_id_from_user, "aiko") == (400, message)


def test_deleting_a_menu_unlinks_its_users_and_clears_the_default(line, emu):
    api, blob = line
    aiko = friend(emu)
    fallback, doomed = create_menu(line, "Fallback"), create_menu(line, "Doomed")
    api.set_default_rich_menu(doomed)
    api.link_rich_menu_id_to_user(aiko.user_id, doomed)

    api.delete_rich_menu(doomed)
    assert error_of(api.get_rich_menu, doomed)[0] == 404
    assert error_of(blob.get_rich_menu_image, doomed)[0] == 404
    assert error_of(api.get_rich_menu_id_of_user, aiko.user_id)[0] == 404
    assert error_of(api.get_default_rich_menu_id)[0] == 404
    assert emu.richmenus.displayed(aiko) == (None, None)
    api.set_default_rich_menu(fallback)
    assert emu.richmenus.displayed(aiko)[0]["name"] == "Fallback"
    assert [m.name for m in api.get_rich_menu_list().richmenus] == ["Fallback"]
