"""Rich menus: objects, images, the default menu, per-user links, bulk and batch jobs, aliases,
and what a simulated user sees and taps. HTTP handlers live in :mod:`.richmenu_routes`.

Python API used by the users/webhooks work::

    menu, source = emu.richmenus.displayed(user_record)  # "user"|"alias"|"default"|None
    result = emu.richmenus.tap(user_record, x, y)  # {"action", "params", "richMenuId", "area"}

Display priority (https://developers.line.biz/en/docs/messaging-api/rich-menus-overview/): per-user link > API default menu > nothing. Only friends see a menu.

Asynchronous work (bulk link/unlink, batch operations) is due at ``accepted + bulk_delay`` /
``accepted + batch_delay`` (both 0 by default) and is applied by ``run_pending`` (so
``emu.advance(0)`` applies it). Until then a batch's progress is ``ongoing``. With a ticking
clock every rich-menu request and every ``displayed``/``tap`` also applies jobs whose due time is
strictly in the past, so the CLI needs no driver for them.

Undocumented behaviour chosen here:
- A successful ``richmenuswitch`` tap links the alias's menu to the user as a per-user menu (LINE
  builds tab switching on per-user menus: its docs say clearing the default does not change what
  a user who switched sees, and unlinking or deleting does). So ``getRichMenuIdOfUser`` returns the
  switched menu; ``displayed`` reports the source ``"alias"`` until an API call (link, unlink,
  bulk, batch, deletion) changes that user's link. Setting or clearing the default does not reset
  a switch. A failed switch leaves the display unchanged and its params carry only ``status``
  (LINE omits ``newRichMenuAliasId`` on failure). ``FAILED`` is never produced.
- Deleting a rich menu unlinks it at once from every user linked to it (LINE: when the user next
  opens the chat; the emulator has no chat screen) and clears it as the default. Aliases pointing
  at it are kept: switching to them yields ``RICHMENU_NOTFOUND``, the status LINE documents for
  exactly that case, and ``getRichMenuAlias`` still returns the dangling id.
- Users who are not friends (never followed, or blocked) see no menu and cannot tap; their
  per-user link is kept (LINE does not document what a block does to it).
- Overlapping areas: the first area in the menu's ``areas`` order that contains the point wins.
- A batch operates on every user linked to ``from`` (friend or not), on the links as they were
  when the batch is applied; operations do not cascade (A->B, B->C moves A's users to B only).
  A ``link`` whose ``to`` menu was deleted before the batch ran fails for its users (phase
  ``failed``); re-sending with the same ``resumeRequestKey`` within 14 days skips the users the
  earlier request under that key already processed.
- Bulk link/unlink apply to friends only and silently skip other or unknown users (as LINE's
  single link does), and skip a menu deleted before the job ran.
"""

import collections
import copy
from datetime import datetime, timezone

from .errors import LineError

MAX_RICH_MENUS = 1000
MAX_ALIASES = 1000
PROGRESS_TTL = 14 * 24 * 3600  # batch progress and resumeRequestKey: 14 days (336 hours)


def iso_ms(seconds):
    """ISO 8601 UTC with milliseconds, as LINE writes acceptedTime/completedTime."""
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class RichMenuState:
    def __init__(self, emu):
        self.emu = emu
        self.menus = {}  # richMenuId -> rich menu response object (creation order)
        self.images = {}  # richMenuId -> (bytes, content type)
        self.default_id = None
        self.aliases = {}  # richMenuAliasId -> richMenuId (creation order)
        self.switched = {}  # userId -> alias id, while the user's link comes from a switch tap
        self.jobs = []  # pending bulk/batch jobs, in acceptance order
        self.batches = {}  # requestId -> progress record
        self.resume_keys = {}  # resumeRequestKey -> {"expires", "done": set of userIds}
        self.clicks = collections.Counter()  # (richMenuId, area index) -> taps
        self.bulk_delay = 0.0  # seconds between a 202 bulk link/unlink and its effect
        self.batch_delay = 0.0  # seconds a batch stays "ongoing"

    # Lookups ------------------------------------------------------------------------------------
    def menu(self, rich_menu_id):
        return self.menus.get(rich_menu_id)

    def has_image(self, rich_menu_id):
        return rich_menu_id in self.images

    def image(self, rich_menu_id):
        """``(bytes, content type)`` of a menu's image, or None."""
        return self.images.get(rich_menu_id)

    def linked_users(self, rich_menu_id):
        return [u for u in self.emu.users.values() if u.rich_menu_id == rich_menu_id]

    # Menus and images (callers have validated) ---------------------------------------------------
    def create(self, body):
        rich_menu_id = self.emu.ids.rich_menu_id()
        self.menus[rich_menu_id] = {
            "richMenuId": rich_menu_id,
            "size": {"width": body["size"]["width"], "height": body["size"]["height"]},
            "selected": body["selected"],
            "name": body["name"],
            "chatBarText": body["chatBarText"],
            "areas": copy.deepcopy(body["areas"]),
        }
        return rich_menu_id

    def delete(self, rich_menu_id):
        del self.menus[rich_menu_id]
        self.images.pop(rich_menu_id, None)
        if self.default_id == rich_menu_id:
            self.default_id = None
        for user in self.linked_users(rich_menu_id):
            self._set_link(user, None)

    def set_image(self, rich_menu_id, data, content_type):
        self.images[rich_menu_id] = (bytes(data), content_type)

    # Per-user links ---------------------------------------------------------------------------
    def _set_link(self, user, rich_menu_id):
        """Every API change of a user's link goes through here: it ends a tab switch."""
        user.rich_menu_id = rich_menu_id
        self.switched.pop(user.user_id, None)

    def link(self, user, rich_menu_id):
        """Link if the user is a friend; LINE answers 200 and links nothing otherwise."""
        if user is not None and user.is_friend:
            self._set_link(user, rich_menu_id)

    def unlink(self, user):
        if user is not None and user.is_friend:
            self._set_link(user, None)

    # Asynchronous jobs --------------------------------------------------------------------------
    def queue_bulk(self, kind, user_ids, rich_menu_id=None):
        """Queue a bulk ``"link"`` or ``"unlink"`` (answered 202 by the caller)."""
        self.jobs.append({"kind": kind, "due": self.emu.clock.now() + self.bulk_delay,
                          "richMenuId": rich_menu_id, "userIds": list(user_ids)})

    def accept_batch(self, request_id, operations, resume_key=None):
        now = self.emu.clock.now()
        record = {"phase": "ongoing", "accepted": now, "completed": None}
        self.batches[request_id] = record
        self.jobs.append({"kind": "batch", "due": now + self.batch_delay, "record": record,
                          "operations": copy.deepcopy(operations), "resumeKey": resume_key})
        return record

    def batch_progress(self, request_id):
        """LINE's progress body, or None when unknown or older than 14 days."""
        record = self.batches.get(request_id)
        if record is None or self.emu.clock.now() >= record["accepted"] + PROGRESS_TTL:
            return None
        body = {"phase": record["phase"], "acceptedTime": iso_ms(record["accepted"])}
        if record["completed"] is not None:
            body["completedTime"] = iso_ms(record["completed"])
        return body

    def run_pending(self):
        """Apply every job due now or earlier (called by ``emu.advance``/``emu.run_pending``)."""
        self._apply_due(lambda due, now: due <= now)

    def catch_up(self):
        """Apply jobs due strictly before now: keeps a ticking clock's state current on reads,
        while a frozen clock still shows ``ongoing`` until the test advances it."""
        self._apply_due(lambda due, now: due < now)
        return self

    def _apply_due(self, is_due):
        with self.emu.locked():
            now = self.emu.clock.now()
            due = [job for job in self.jobs if is_due(job["due"], now)]
            if not due:
                return
            applied = {id(job) for job in due}
            self.jobs = [job for job in self.jobs if id(job) not in applied]
            for job in due:
                if job["kind"] == "batch":
                    self._apply_batch(job, now)
                else:
                    self._apply_bulk(job)

    def _apply_bulk(self, job):
        if job["kind"] == "link" and job["richMenuId"] not in self.menus:
            return  # deleted before the job ran
        for user_id in job["userIds"]:
            user = self.emu.users.get(user_id)
            if job["kind"] == "link":
                self.link(user, job["richMenuId"])
            else:
                self.unlink(user)

    def _apply_batch(self, job, now):
        key = job["resumeKey"]
        done = set()
        if key is not None:
            entry = self.resume_keys.get(key)
            if entry is None or entry["expires"] <= now:
                entry = self.resume_keys[key] = {"expires": job["record"]["accepted"]
                                                 + PROGRESS_TTL, "done": set()}
            done = entry["done"]
        # Operations run in parallel on the links as they are now: compute every target first.
        plan = []
        for op in job["operations"]:
            if op["type"] == "unlinkAll":
                users = [u for u in self.emu.users.values() if u.rich_menu_id is not None]
            else:
                users = self.linked_users(op["from"])
            plan.extend((user, op) for user in users if user.user_id not in done)
        failed = False
        for user, op in plan:
            if op["type"] == "link":
                if op["to"] not in self.menus or op["to"] not in self.images:
                    failed = True
                    continue
                self._set_link(user, op["to"])
            else:
                self._set_link(user, None)
            done.add(user.user_id)
        job["record"].update(phase="failed" if failed else "succeeded", completed=now)

    # What a user sees and taps --------------------------------------------------------------------
    def displayed(self, user):
        """``(menu, source)``: a copy of the rich menu the user sees and why.

        ``source`` is ``"user"`` (linked by the API), ``"alias"`` (the user switched tabs with a
        richmenuswitch action), ``"default"`` (the API default menu) or None (no menu).
        """
        with self.emu.locked():
            self.catch_up()
            if not user.is_friend:
                return None, None
            if user.rich_menu_id in self.menus:
                source = "alias" if user.user_id in self.switched else "user"
                return copy.deepcopy(self.menus[user.rich_menu_id]), source
            if self.default_id in self.menus:
                return copy.deepcopy(self.menus[self.default_id]), "default"
            return None, None

    def tap(self, user, x, y):
        """Tap the point ``(x, y)`` (image pixels) of the menu the user sees.

        Returns ``{"action": <area action>, "params": <switch params or None>, "richMenuId",
        "area": <area index>}``; a richmenuswitch tap switches the user's menu and its params
        are ``{"newRichMenuAliasId", "status"}`` (LINE's postback params). Raises a 400
        :class:`LineError` when the user sees no menu or no area contains the point.
        """
        with self.emu.locked():
            menu, source = self.displayed(user)
            who = f"{user.display_name} ({user.user_id})"
            if menu is None:
                if not user.is_friend:
                    why = (f"only friends of the bot see a rich menu and this user's friendship "
                           f"is {user.friendship!r}")
                else:
                    why = "no rich menu is linked to this user and no default rich menu is set"
                raise LineError(400, f"{who} sees no rich menu to tap: {why}")
            width, height = menu["size"]["width"], menu["size"]["height"]
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (x, y)) or \
                    not (0 <= x < width and 0 <= y < height):
                raise LineError(400, f"The point ({x}, {y}) is outside rich menu "
                                     f"{menu['richMenuId']} ({width}x{height} px)")
            index = _area_at(menu["areas"], x, y)
            if index is None:
                areas = "; ".join(_describe_bounds(a["bounds"]) for a in menu["areas"]) or "none"
                raise LineError(400, f"No area of rich menu {menu['richMenuId']} "
                                     f"({menu['name']!r}, shown by {source}) contains the point "
                                     f"({x}, {y}). Its areas: {areas}")
            self.clicks[(menu["richMenuId"], index)] += 1
            action = menu["areas"][index]["action"]
            params = None
            if action.get("type") == "richmenuswitch":
                params = self._switch(user, action["richMenuAliasId"])
            return {"action": action, "params": params, "richMenuId": menu["richMenuId"],
                    "area": index}

    def _switch(self, user, alias_id):
        target = self.aliases.get(alias_id)
        if target is None:
            return {"status": "RICHMENU_ALIAS_ID_NOTFOUND"}
        if target not in self.menus:
            return {"status": "RICHMENU_NOTFOUND"}
        user.rich_menu_id = target
        self.switched[user.user_id] = alias_id
        return {"newRichMenuAliasId": alias_id, "status": "SUCCESS"}


def _area_at(areas, x, y):
    for index, area in enumerate(areas):
        b = area["bounds"]
        if b["x"] <= x < b["x"] + b["width"] and b["y"] <= y < b["y"] + b["height"]:
            return index
    return None


def _describe_bounds(b):
    return f"x {b['x']}..{b['x'] + b['width'] - 1}, y {b['y']}..{b['y'] + b['height'] - 1}"


# Importing the handlers registers their routes (EmulatorApp imports this module).
from . import richmenu_routes  # noqa: E402,F401
