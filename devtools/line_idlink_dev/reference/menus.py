"""The reference app's two rich menus: "unlinked" (the default every friend sees) and "linked"
(linked per user when the account link is made, unlinked again when it ends).

Both are 2500x843 (LINE's compact size) with solid-colour placeholder images: the areas, not the
artwork, are what the flows need. :func:`tap_point` gives the centre of a button so demos and
tests tap it like a person would (``SimUser.tap(*tap_point("linked", "連携解除"))``).
"""

from line_emulator.images import solid_png
from line_idlink.message_builders import postback_action
from line_idlink.postbacks import (
    POSTBACK_LINK, POSTBACK_MEMBER_CARD, POSTBACK_ORDERS, POSTBACK_POINTS, POSTBACK_UNLINK,
)
from line_idlink.richmenu_spec import RichMenuSpec

WIDTH, HEIGHT = 2500, 843
ROLES = ("unlinked", "linked")
COLOURS = {"unlinked": (6, 199, 85), "linked": (0, 92, 175)}
NAMES = {"unlinked": "未連携メニュー", "linked": "連携済みメニュー"}
BUTTONS = {
    "unlinked": [("連携する", POSTBACK_LINK)],
    "linked": [("連携解除", POSTBACK_UNLINK), ("注文履歴", POSTBACK_ORDERS),
               ("ポイント", POSTBACK_POINTS), ("会員証", POSTBACK_MEMBER_CARD)],
}


def _bounds(role, index):
    width = WIDTH // len(BUTTONS[role])
    return {"x": index * width, "y": 0, "width": width, "height": HEIGHT}


def spec(role):
    areas = [{"bounds": _bounds(role, i), "action": postback_action(label, data, label)}
             for i, (label, data) in enumerate(BUTTONS[role])]
    return RichMenuSpec((WIDTH, HEIGHT), NAMES[role], "メニュー", areas, selected=True).check()


def image(role):
    return solid_png(WIDTH, HEIGHT, COLOURS[role])


def tap_point(role, label):
    """(x, y) in the middle of the button ``label`` of the ``role`` menu."""
    for index, (name, _data) in enumerate(BUTTONS[role]):
        if name == label:
            b = _bounds(role, index)
            return b["x"] + b["width"] // 2, b["y"] + b["height"] // 2
    raise KeyError(f"the {role} menu has no button {label!r}")


def ensure_rich_menus(app):
    """Publish the menus that are not on LINE yet, store their ids, make "unlinked" the default.

    Runs at every start: a menu id stored in the database but unknown to LINE (a fresh emulator, a
    menu deleted in the console) is published again, and linked users are moved onto the new
    linked menu. Returns ``{role: richMenuId}``.
    """
    ids, republished = {}, set()
    for role in ROLES:
        stored = app.db.setting(f"richmenu.{role}")
        if stored and _exists(app, stored):
            ids[role] = stored
            continue
        ids[role] = app.richmenus.publish(spec(role), image(role))
        app.db.set_setting(f"richmenu.{role}", ids[role])
        republished.add(role)
    app.richmenus.set_default(ids["unlinked"])
    if "linked" in republished:
        linked = [link.line_user_id for link in app.active_links()]
        if linked:
            app.richmenus.bulk_link(ids["linked"], linked)
    return ids


def _exists(app, rich_menu_id):
    outcome = app.sender.caller.call(
        "getRichMenu", lambda **kw: app.sender.caller.api.get_rich_menu_with_http_info(
            rich_menu_id, **kw))
    if outcome.failure is not None and outcome.failure.status == 404:
        return False
    outcome.raise_for_failure()
    return True
