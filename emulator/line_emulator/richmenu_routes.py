"""HTTP handlers of the rich-menu endpoints (https://developers.line.biz/en/reference/messaging-api/#rich-menu ,
#per-user-rich-menu, #rich-menu-alias). Each validates everything, then changes state through
:class:`.richmenu.RichMenuState`. Error messages quote LINE's reference where it gives them.

Undocumented behaviour chosen here:
- A malformed or unknown rich menu id in a URL path answers 404 "Not found"; a malformed id in
  a request body answers 400 "invalid richMenuId" (LINE's wording for bodies).
- Image upload checks in this order: Content-Type (415), the menu exists (404), no image yet
  (400), at most 1 MB = 1,048,576 bytes (400), the bytes are an image of the declared type (400),
  its pixel size equals the menu's size (400 "The image size is not allowed for richmenu").
- Batch: syntax errors answer 400, unknown menus 404 (with details, as LINE's validate example),
  a ``to`` menu without an image 400. The batch answers 202 (LINE's OpenAPI spec; the reference page says 200).
- A malformed alias id in a URL path answers 400 "The value for the 'richMenuAliasId' parameter
  is invalid"; creating an alias once 1,000 exist answers 400.
"""

from .errors import LineError, invalid
from .images import ImageError, image_size, sniff_type
from .richmenu import MAX_ALIASES, MAX_RICH_MENUS
from .richmenu_validation import (ALIAS_ID_RE, USER_ID_RE, check_rich_menu_id,
                                  validate_batch_syntax, validate_rich_menu, validate_user_ids)
from .routing import route

MAX_IMAGE_BYTES = 1024 * 1024
IMAGE_TYPES = ("image/png", "image/jpeg")
NO_IMAGE = "must upload richmenu image before applying it to user"
IMAGE_SIZE_NOT_ALLOWED = "The image size is not allowed for richmenu"


def _state(call):
    return call.emu.richmenus.catch_up()


def _not_found():
    return LineError(404, "Not found")


def _menu_from_path(call):
    rich_menu_id = call.args["richMenuId"]
    if rich_menu_id not in call.emu.richmenus.menus:
        raise _not_found()
    return rich_menu_id


def _user_from_path(call):
    """The user record for a path userId (None if unknown); 400 if it is not a userId at all."""
    user_id = call.args["userId"]
    if not USER_ID_RE.match(user_id):
        raise LineError(400, "The value for the 'userId' parameter is invalid")
    return call.emu.users.get(user_id)


# Rich menu objects --------------------------------------------------------------------------------
@route("POST", "/v2/bot/richmenu", "createRichMenu")
def create_rich_menu(call):
    state, body = _state(call), call.json()
    errors = validate_rich_menu(body)
    if errors:
        raise invalid(errors)
    if len(state.menus) >= MAX_RICH_MENUS:
        raise LineError(400, f"The maximum number of rich menus ({MAX_RICH_MENUS}) has been "
                             "reached; delete one before creating another")
    return 200, {"richMenuId": state.create(body)}


@route("POST", "/v2/bot/richmenu/validate", "validateRichMenuObject")
def validate_rich_menu_object(call):
    errors = validate_rich_menu(call.json())
    if errors:
        raise invalid(errors)
    return 200, {}


@route("GET", "/v2/bot/richmenu/list", "getRichMenuList")
def get_rich_menu_list(call):
    state = _state(call)
    return 200, {"richmenus": [dict(menu) for menu in state.menus.values()]}


@route("GET", "/v2/bot/richmenu/<richMenuId>", "getRichMenu")
def get_rich_menu(call):
    state = _state(call)
    return 200, state.menus[_menu_from_path(call)]


@route("DELETE", "/v2/bot/richmenu/<richMenuId>", "deleteRichMenu")
def delete_rich_menu(call):
    state = _state(call)
    state.delete(_menu_from_path(call))
    return 200, {}


# Images (api-data.line.me) ------------------------------------------------------------------------
@route("POST", "/v2/bot/richmenu/<richMenuId>/content", "setRichMenuImage", host="api-data")
def set_rich_menu_image(call):
    state = _state(call)
    content_type = call.request.mimetype
    if content_type not in IMAGE_TYPES:
        raise LineError(415, f"Unsupported Media Type: the Content-Type must be image/png or "
                             f"image/jpeg, not {content_type or 'missing'!r}")
    rich_menu_id = _menu_from_path(call)
    if state.has_image(rich_menu_id):
        raise LineError(400, "An image has already been uploaded to the richmenu")
    data = call.request.get_data(cache=True)
    if len(data) > MAX_IMAGE_BYTES:
        raise LineError(400, IMAGE_SIZE_NOT_ALLOWED, [{
            "message": f"the file is {len(data)} bytes; the maximum is 1 MB "
                       f"({MAX_IMAGE_BYTES} bytes)", "property": "content"}])
    try:
        if sniff_type(data) != content_type:
            raise ImageError(f"the data is not a {content_type} image")
        width, height = image_size(data)
    except ImageError as exc:
        raise LineError(400, f"The image could not be read: {exc}") from None
    size = state.menus[rich_menu_id]["size"]
    if (width, height) != (size["width"], size["height"]):
        raise LineError(400, IMAGE_SIZE_NOT_ALLOWED, [{
            "message": f"the image is {width}x{height} px but the rich menu size is "
                       f"{size['width']}x{size['height']} px", "property": "content"}])
    state.set_image(rich_menu_id, data, content_type)
    return 200, {}


@route("GET", "/v2/bot/richmenu/<richMenuId>/content", "getRichMenuImage", host="api-data")
def get_rich_menu_image(call):
    image = _state(call).image(call.args["richMenuId"])
    if image is None:
        raise _not_found()
    data, content_type = image
    return 200, data, {"Content-Type": content_type}


# Default rich menu ----------------------------------------------------------------------------
@route("POST", "/v2/bot/user/all/richmenu/<richMenuId>", "setDefaultRichMenu")
def set_default_rich_menu(call):
    state = _state(call)
    rich_menu_id = _menu_from_path(call)
    if not state.has_image(rich_menu_id):
        raise LineError(400, NO_IMAGE)
    state.default_id = rich_menu_id
    return 200, {}


@route("GET", "/v2/bot/user/all/richmenu", "getDefaultRichMenuId")
def get_default_rich_menu_id(call):
    state = _state(call)
    if state.default_id is None:
        raise LineError(404, "no default richmenu")
    return 200, {"richMenuId": state.default_id}


@route("DELETE", "/v2/bot/user/all/richmenu", "cancelDefaultRichMenu")
def cancel_default_rich_menu(call):
    _state(call).default_id = None
    return 200, {}


# Per-user rich menus --------------------------------------------------------------------------
@route("POST", "/v2/bot/user/<userId>/richmenu/<richMenuId>", "linkRichMenuIdToUser")
def link_rich_menu_id_to_user(call):
    state = _state(call)
    user = _user_from_path(call)
    rich_menu_id = _menu_from_path(call)
    if not state.has_image(rich_menu_id):
        raise LineError(400, NO_IMAGE)
    state.link(user, rich_menu_id)
    return 200, {}


@route("GET", "/v2/bot/user/<userId>/richmenu", "getRichMenuIdOfUser")
def get_rich_menu_id_of_user(call):
    state = _state(call)
    user = _user_from_path(call)
    if user is None or not user.is_friend or user.rich_menu_id not in state.menus:
        raise LineError(404, "the user has no richmenu")
    return 200, {"richMenuId": user.rich_menu_id}


@route("DELETE", "/v2/bot/user/<userId>/richmenu", "unlinkRichMenuIdFromUser")
def unlink_rich_menu_id_from_user(call):
    state = _state(call)
    state.unlink(_user_from_path(call))
    return 200, {}


@route("POST", "/v2/bot/richmenu/bulk/link", "linkRichMenuIdToUsers")
def link_rich_menu_id_to_users(call):
    state, body = _state(call), call.json()
    errors = []
    check_rich_menu_id(body.get("richMenuId"), "richMenuId", errors)
    errors.extend(validate_user_ids(body))
    if errors:
        raise invalid(errors)
    if body["richMenuId"] not in state.menus:
        raise LineError(404, "richmenu not found")
    if not state.has_image(body["richMenuId"]):
        raise LineError(400, NO_IMAGE)
    state.queue_bulk("link", body["userIds"], body["richMenuId"])
    return 202, {}


@route("POST", "/v2/bot/richmenu/bulk/unlink", "unlinkRichMenuIdFromUsers")
def unlink_rich_menu_id_from_users(call):
    state, body = _state(call), call.json()
    errors = validate_user_ids(body)
    if errors:
        raise invalid(errors)
    state.queue_bulk("unlink", body["userIds"])
    return 202, {}


# Batch control ----------------------------------------------------------------------------------
def _check_batch(state, body):
    """Raise LINE's error for a batch body that can't be accepted; return nothing when valid."""
    errors = validate_batch_syntax(body)
    if errors:
        raise invalid(errors)
    missing, imageless = [], []
    for index, op in enumerate(body["operations"]):
        for end in ("from", "to"):
            rich_menu_id = op.get(end)
            if rich_menu_id is None:
                continue
            prop = f"operations[{index}].{end}"
            if rich_menu_id not in state.menus:
                missing.append((prop, f"Richmenu ({rich_menu_id}) is not found"))
            elif end == "to" and not state.has_image(rich_menu_id):
                imageless.append((prop, f"'to' richmenu ({rich_menu_id}) must have image but "
                                        "it doesn't"))
    if missing:
        error = invalid(missing)
        error.status = 404
        raise error
    if imageless:
        raise invalid(imageless)


@route("POST", "/v2/bot/richmenu/batch", "richMenuBatch")
def rich_menu_batch(call):
    state, body = _state(call), call.json()
    _check_batch(state, body)
    state.accept_batch(call.request_id, body["operations"], body.get("resumeRequestKey"))
    return 202, {}


@route("POST", "/v2/bot/richmenu/validate/batch", "validateRichMenuBatchRequest")
def validate_rich_menu_batch_request(call):
    _check_batch(_state(call), call.json())
    return 200, {}


@route("GET", "/v2/bot/richmenu/progress/batch", "getRichMenuBatchProgress")
def get_rich_menu_batch_progress(call):
    state = _state(call)
    request_id = call.query("requestId")
    if not request_id:
        raise invalid([("requestId", "must be specified")])
    progress = state.batch_progress(request_id)
    if progress is None:
        raise _not_found()
    return 200, progress


# Aliases --------------------------------------------------------------------------------------
def _alias_target(state, body):
    """The richMenuId of a create/update alias body, checked as LINE does."""
    errors = []
    check_rich_menu_id(body.get("richMenuId"), "richMenuId", errors)
    if errors:
        raise invalid(errors)
    rich_menu_id = body["richMenuId"]
    if rich_menu_id not in state.menus or not state.has_image(rich_menu_id):
        # LINE answers the same for both; the emulator says which.
        why = "does not exist" if rich_menu_id not in state.menus else "has no image yet"
        raise LineError(400, "richmenu not found", [{
            "message": f"rich menu {rich_menu_id} {why}; create the menu and upload its image "
                       "before pointing an alias at it", "property": "richMenuId"}])
    return rich_menu_id


def _alias_from_path(call):
    alias_id = call.args["richMenuAliasId"]
    if not ALIAS_ID_RE.match(alias_id):
        raise LineError(400, "The value for the 'richMenuAliasId' parameter is invalid")
    if alias_id not in call.emu.richmenus.aliases:
        raise LineError(404, "richmenu alias not found")
    return alias_id


@route("POST", "/v2/bot/richmenu/alias", "createRichMenuAlias")
def create_rich_menu_alias(call):
    state, body = _state(call), call.json()
    alias_id = body.get("richMenuAliasId")
    if alias_id is None:
        raise invalid([("richMenuAliasId", "must be specified")])
    if not (isinstance(alias_id, str) and ALIAS_ID_RE.match(alias_id)):
        raise invalid([("richMenuAliasId", "must match ^[a-z0-9_-]{1,32}$")])
    rich_menu_id = _alias_target(state, body)
    if alias_id in state.aliases:
        raise LineError(400, "conflict richmenu alias id")
    if len(state.aliases) >= MAX_ALIASES:
        raise LineError(400, f"The maximum number of rich menu aliases ({MAX_ALIASES}) has been "
                             "reached; delete one before creating another")
    state.aliases[alias_id] = rich_menu_id
    return 200, {}


@route("POST", "/v2/bot/richmenu/alias/<richMenuAliasId>", "updateRichMenuAlias")
def update_rich_menu_alias(call):
    state, body = _state(call), call.json()
    alias_id = _alias_from_path(call)
    state.aliases[alias_id] = _alias_target(state, body)
    return 200, {}


@route("GET", "/v2/bot/richmenu/alias/list", "getRichMenuAliasList")
def get_rich_menu_alias_list(call):
    aliases = _state(call).aliases
    return 200, {"aliases": [{"richMenuAliasId": alias, "richMenuId": target}
                             for alias, target in aliases.items()]}


@route("GET", "/v2/bot/richmenu/alias/<richMenuAliasId>", "getRichMenuAlias")
def get_rich_menu_alias(call):
    state = _state(call)
    alias_id = _alias_from_path(call)
    return 200, {"richMenuAliasId": alias_id, "richMenuId": state.aliases[alias_id]}


@route("DELETE", "/v2/bot/richmenu/alias/<richMenuAliasId>", "deleteRichMenuAlias")
def delete_rich_menu_alias(call):
    state = _state(call)
    del state.aliases[_alias_from_path(call)]
    return 200, {}
