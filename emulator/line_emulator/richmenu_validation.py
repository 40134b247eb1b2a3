"""Validation of rich-menu request bodies: the rich menu object, its area actions, bulk user
lists and batch operations. Every check returns ``[(property, message), ...]`` in LINE's style
(property paths such as ``areas[3].bounds.x``); an empty list means valid.

Sources: https://developers.line.biz/en/reference/messaging-api/#rich-menu-object , #area-object,
#bounds-object, #action-objects, #batch-control-rich-menus-of-users; LINE's OpenAPI schemas
(https://github.com/line/line-openapi) RichMenuRequest, Action, RichMenuBatchRequest.

Undocumented behaviour chosen here:
- ``name`` and ``chatBarText`` must be non-empty strings (LINE only documents them as required).
- ``areas`` may be empty (the spec sets a maximum of 20, no minimum).
- An area must start inside the menu (``x < width``, ``y < height``) but may run past its right or
  bottom edge; the part outside is not tappable. LINE's own tab-switching example has an area at
  ``x=1251, width=1250`` on a 2500 px menu, so rejecting overhang would reject LINE's example.
- Area actions are checked by :func:`.limits.validate_action` with the ``richmenu`` context, so
  its choices apply (``camera``, ``cameraRoll`` and ``location`` are rejected: LINE's action
  reference allows them in quick replies only; ``richMenuAliasId`` must match the alias pattern).
- A batch needs at least one operation.
"""

import re

from .limits import u16len
from .limits import validate_action as shared_validate_action

MIN_WIDTH, MAX_WIDTH, MIN_HEIGHT, MIN_RATIO = 800, 2500, 250, 1.45
MAX_AREAS = 20
USER_ID_RE = re.compile(r"^U[0-9a-f]{32}$")
RICH_MENU_ID_RE = re.compile(r"^richmenu-[0-9a-f]{32}$")
ALIAS_ID_RE = re.compile(r"^[a-z0-9_-]{1,32}$")
RESUME_KEY_RE = re.compile(r"^[0-9a-zA-Z_-]{1,100}$")
MAX_BULK_USERS = 500
MAX_BATCH_OPERATIONS = 1000

MUST_BE_SPECIFIED = "must be specified"


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _text(obj, key, prop, errors, max_len, required=False, min_len=0):
    """Check an optional or required string field; returns the value when it is a string."""
    value = obj.get(key)
    if value is None:
        if required:
            errors.append((prop, MUST_BE_SPECIFIED))
        return None
    if not isinstance(value, str):
        errors.append((prop, "must be a string"))
        return None
    if not min_len <= u16len(value) <= max_len:  # UTF-16 units, as everywhere in .limits
        errors.append((prop, f"size must be between {min_len} and {max_len}"))
    return value


# Rich menu object -------------------------------------------------------------------------------
def validate_rich_menu(body):
    """Every problem of a rich menu object (createRichMenu / validateRichMenuObject)."""
    errors = []
    size = _validate_size(body.get("size"), errors)
    selected = body.get("selected")
    if selected is None:
        errors.append(("selected", MUST_BE_SPECIFIED))
    elif not isinstance(selected, bool):
        errors.append(("selected", "must be a boolean (true or false)"))
    _text(body, "name", "name", errors, 300, required=True, min_len=1)
    _text(body, "chatBarText", "chatBarText", errors, 14, required=True, min_len=1)
    areas = body.get("areas")
    if areas is None:
        errors.append(("areas", MUST_BE_SPECIFIED))
    elif not isinstance(areas, list):
        errors.append(("areas", "must be an array of area objects"))
    elif len(areas) > MAX_AREAS:
        errors.append(("areas", f"size must be between 0 and {MAX_AREAS}"))
    else:
        for index, area in enumerate(areas):
            _validate_area(area, f"areas[{index}]", size, errors)
    return errors


def _validate_size(size, errors):
    """Check ``size``; returns ``(width, height)`` when both are usable integers, else None."""
    if size is None:
        errors.append(("size", MUST_BE_SPECIFIED))
        return None
    if not isinstance(size, dict):
        errors.append(("size", "must be an object with width and height"))
        return None
    width, height = size.get("width"), size.get("height")
    for key, value in (("width", width), ("height", height)):
        if value is None:
            errors.append((f"size.{key}", MUST_BE_SPECIFIED))
        elif not _is_int(value):
            errors.append((f"size.{key}", "must be an integer"))
    if not (_is_int(width) and _is_int(height)):
        return None
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        errors.append(("size.width", f"must be between {MIN_WIDTH} and {MAX_WIDTH}"))
    if height < MIN_HEIGHT:
        errors.append(("size.height", f"must be greater than or equal to {MIN_HEIGHT}"))
    if height > 0 and width / height < MIN_RATIO:
        errors.append(("size", f"the aspect ratio (width / height) must be at least {MIN_RATIO}; "
                               f"{width}x{height} is {width / height:.3f}"))
    return width, height


def _validate_area(area, prop, size, errors):
    if not isinstance(area, dict):
        errors.append((prop, "must be an area object with bounds and action"))
        return
    bounds = area.get("bounds")
    if bounds is None:
        errors.append((f"{prop}.bounds", MUST_BE_SPECIFIED))
    elif not isinstance(bounds, dict):
        errors.append((f"{prop}.bounds", "must be an object with x, y, width and height"))
    else:
        _validate_bounds(bounds, f"{prop}.bounds", size, errors)
    action = area.get("action")
    if action is None:
        errors.append((f"{prop}.action", MUST_BE_SPECIFIED))
    else:
        errors.extend(validate_action(action, f"{prop}.action"))


def _validate_bounds(bounds, prop, size, errors):
    usable = {}
    for key, low in (("x", 0), ("y", 0), ("width", 1), ("height", 1)):
        value = bounds.get(key)
        if value is None:
            errors.append((f"{prop}.{key}", MUST_BE_SPECIFIED))
        elif not _is_int(value):
            errors.append((f"{prop}.{key}", "must be an integer"))
        elif value < low:
            errors.append((f"{prop}.{key}", f"must be greater than or equal to {low}"))
        else:
            usable[key] = value
    if size is None:
        return
    for key, limit, side in (("x", size[0], "width"), ("y", size[1], "height")):
        if key in usable and usable[key] >= limit:
            errors.append((f"{prop}.{key}", f"must be less than the rich menu {side} ({limit}): "
                                            "the area starts outside the image"))


# Actions ----------------------------------------------------------------------------------------
def validate_action(action, prop):
    """Problems of one action object placed in a rich-menu area (the shared action rules of
    :mod:`.limits`, in the ``richmenu`` context: label <= 20, richmenuswitch allowed)."""
    return shared_validate_action(action, prop, "richmenu")


# Bulk user lists and batch operations ----------------------------------------------------------
def validate_user_ids(body):
    """``userIds`` of a bulk link/unlink: 1..500 user ids of LINE's shape."""
    user_ids = body.get("userIds")
    if user_ids is None:
        return [("userIds", MUST_BE_SPECIFIED)]
    if not isinstance(user_ids, list):
        return [("userIds", "must be an array of user IDs")]
    if not 1 <= len(user_ids) <= MAX_BULK_USERS:
        return [("userIds", f"size must be between 1 and {MAX_BULK_USERS}")]
    return [(f"userIds[{i}]", "invalid userId (a user ID is U followed by 32 hex digits)")
            for i, uid in enumerate(user_ids)
            if not (isinstance(uid, str) and USER_ID_RE.match(uid))]


def check_rich_menu_id(value, prop, errors):
    """A rich menu id in a request body: required, ``richmenu-`` + 32 hex digits."""
    if value is None:
        errors.append((prop, MUST_BE_SPECIFIED))
        return False
    if not (isinstance(value, str) and RICH_MENU_ID_RE.match(value)):
        errors.append((prop, "invalid richMenuId"))
        return False
    return True


def validate_batch_syntax(body):
    """Shape of a batch request (existence of the menus is checked by the caller)."""
    errors = []
    operations = body.get("operations")
    if operations is None:
        errors.append(("operations", MUST_BE_SPECIFIED))
    elif not isinstance(operations, list):
        errors.append(("operations", "must be an array of operation objects"))
    elif not 1 <= len(operations) <= MAX_BATCH_OPERATIONS:
        errors.append(("operations", f"size must be between 1 and {MAX_BATCH_OPERATIONS}"))
    else:
        _validate_operations(operations, errors)
    key = body.get("resumeRequestKey")
    if key is not None and not (isinstance(key, str) and RESUME_KEY_RE.match(key)):
        errors.append(("resumeRequestKey", "must match [0-9a-zA-Z\\-_]{1,100}"))
    return errors


def _validate_operations(operations, errors):
    types, seen_from = set(), set()
    for index, op in enumerate(operations):
        prop = f"operations[{index}]"
        if not isinstance(op, dict):
            errors.append((prop, "must be an operation object"))
            continue
        kind = op.get("type")
        if kind is None:
            errors.append((f"{prop}.type", MUST_BE_SPECIFIED))
            continue
        if kind not in ("link", "unlink", "unlinkAll"):
            errors.append((f"{prop}.type", "must be one of link, unlink, unlinkAll"))
            continue
        types.add(kind)
        if kind in ("link", "unlink") and check_rich_menu_id(op.get("from"), f"{prop}.from",
                                                              errors):
            if op["from"] in seen_from:
                errors.append(("operations[].from",
                               f"from richmenu ({op['from']}) is duplicated"))
            seen_from.add(op["from"])
        if kind == "link":
            check_rich_menu_id(op.get("to"), f"{prop}.to", errors)
    if "unlinkAll" in types and len(types) > 1:
        errors.append(("operations[].type", "'unlinkAll' type can't be combined with other type"))
