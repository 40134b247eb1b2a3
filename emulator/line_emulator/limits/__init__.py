"""LINE's limits on message objects and action objects, checked the way the Messaging API does.

Every check returns a list of ``(property, message)`` pairs, LINE's error ``details``; an empty
list means valid. Handlers turn a non-empty list into ``errors.invalid(...)`` (400, "The request
body has N error(s)"). The rich-menu endpoints use :func:`validate_action` with ``"richmenu"``.

Sources: https://developers.line.biz/en/reference/messaging-api/#message-objects , #action-objects and
#rich-menu-object; the OpenAPI ``Message``/``Action`` schemas (https://github.com/line/line-openapi).

Undocumented behaviour chosen here
----------------------------------
- Every length is counted in UTF-16 code units (LINE's servers are Java: ``String.length()``),
  not only the text message's 5,000.
- "30 KB" / "50 KB" for Flex are 30 x 1024 / 50 x 1024 bytes of compact UTF-8 JSON.
- ``camera``, ``cameraRoll`` and ``location`` actions are accepted in quick replies only (LINE's
  action reference says so); ``richmenuswitch`` in rich menus only; ``clipboard`` everywhere.
- A ``uri`` must be ASCII without spaces (LINE asks for percent-encoding) with scheme http,
  https, line or tel. Image/icon URLs must be https.
- An action ``label`` is required in templates and quick replies (and on Flex buttons),
  optional elsewhere; when present it must not be empty.
- ``sender.name`` is only length-checked; LINE's list of forbidden words is not published.
"""

from .actions import validate_action
from .checker import u16len
from .messages import validate_message, validate_messages

__all__ = ["u16len", "validate_action", "validate_message", "validate_messages"]
