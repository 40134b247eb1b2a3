"""Request bodies of the sending endpoints: LINE's 2 MB limit, the checks they share (messages,
notificationDisabled, customAggregationUnits) and the shapes of LINE's ids."""

import re

from ...errors import LineError
from ...limits import validate_messages

MAX_BODY_BYTES = 2 * 1024 * 1024
MULTICAST_MAX = 500
UNIT_NAME = re.compile(r"^[a-zA-Z0-9_]{1,30}$")
USER_ID = re.compile(r"^U[0-9a-f]{32}$")
CHAT_ID = re.compile(r"^[UCR][0-9a-f]{32}$")


def read_body(call):
    """The JSON body, after LINE's 2 MB limit (413)."""
    if len(call.request.get_data(cache=True)) > MAX_BODY_BYTES:
        raise LineError(413, "The request body exceeds 2 MB")
    return call.json()


def common_errors(body, units=False):
    """messages, notificationDisabled and (push/multicast) customAggregationUnits."""
    found = validate_messages(body.get("messages"))
    if not isinstance(body.get("notificationDisabled", False), bool):
        found.append(("notificationDisabled", "must be a boolean"))
    if units and body.get("customAggregationUnits") is not None:
        names = body["customAggregationUnits"]
        if not isinstance(names, list):
            found.append(("customAggregationUnits", "must be an array"))
        else:
            if len(names) > 1:
                found.append(("customAggregationUnits", "Size must be between 0 and 1"))
            for i, name in enumerate(names):
                if not isinstance(name, str) or not UNIT_NAME.match(name):
                    found.append((f"customAggregationUnits[{i}]",
                                  "must match ^[a-zA-Z0-9_]{1,30}$"))
    return found


def all_user_ids(values):
    """True when every value is a string shaped like a userId (the common case, checked at C
    speed); the caller then lists the culprits only when it is False."""
    try:
        return all(map(USER_ID.match, values))
    except TypeError:  # a value that is not a string
        return False


def unit_of(body):
    """The aggregation unit a push or multicast names, or None."""
    names = body.get("customAggregationUnits") or []
    return names[0] if names else None
