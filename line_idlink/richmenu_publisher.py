"""Rich-menu API calls and switching many users with as few calls as possible.

:class:`RichMenuClient` publishes menus (create + image + alias), sets the default menu, links
menus per user, in bulk (500 users per call, asynchronous 202) and by batch (``link from A to B``
for every user of A, 3 per hour, with progress polling through an injectable sleep/clock).

:func:`reconcile` compares who has which per-user menu now with who should have which, and plans
the fewest calls; :meth:`RichMenuClient.apply` runs the plan.

Retry policy (see :mod:`line_idlink.retry`): idempotent calls (link, unlink, bulk, default, alias
update, delete, reads) are retried on 429/5xx/timeouts; calls that would act twice (create a menu,
upload its image) only when LINE surely did not process them. A batch always carries a
``resumeRequestKey``, which makes its retries safe: LINE resumes only the users not yet done.

Undocumented behaviour chosen here:

- In a reconcile, a target equal to the default menu (or None) means "no per-user link", so a user
  explicitly linked to the default menu is unlinked and follows the default from then on.
- A batch ``link``/``unlink`` from menu A moves EVERY user LINE has on A, including users the
  caller did not list. It is planned only when ``current`` shows every user of A moving to the
  same place and there are at least ``batch_min_users`` (1,000) of them: with a partial
  ``current`` pass ``batch_min_users=None`` to never batch.
- Bulk calls answer 202 before LINE applies them; ``apply`` does not wait for or verify them.
- Deleting a menu that is already gone (404) counts as done.
"""

import dataclasses
import time
import uuid

from linebot.v3.messaging import (CreateRichMenuAliasRequest, RichMenuBatchRequest,
                                  RichMenuBulkLinkRequest, RichMenuBulkUnlinkRequest,
                                  RichMenuRequest, UpdateRichMenuAliasRequest)

from .retry import (DEFAULT_TIMEOUT, RETRY_ALWAYS, RETRY_IF_NOT_PROCESSED, ApiCaller,
                    LineApiError, RequestRejected)
from .richmenu_spec import check_alias_id, check_image

BULK_MAX = 500
BATCH_MAX_OPERATIONS = 1000
DEFAULT_BATCH_MIN_USERS = 1000


class BatchFailed(LineApiError):
    """A rich-menu batch ended in phase ``failed``, or was still ``ongoing`` when we stopped
    waiting (``phase`` says which). Re-send it with the same ``resume_key`` to finish it."""

    def __init__(self, message, phase=None, resume_key=None, **kwargs):
        super().__init__(message, **kwargs)
        self.phase = phase
        self.resume_key = resume_key


# Planning ----------------------------------------------------------------------------------------
@dataclasses.dataclass
class RichMenuPlan:
    """The calls that bring per-user menus from ``current`` to ``target``."""

    batch_operations: list = dataclasses.field(default_factory=list)  # LINE operation objects
    unlink: list = dataclasses.field(default_factory=list)            # userIds to bulk-unlink
    link: dict = dataclasses.field(default_factory=dict)              # menuId -> userIds
    unchanged: list = dataclasses.field(default_factory=list)         # userIds already right
    batch_users: dict = dataclasses.field(default_factory=dict)       # from menuId -> userIds

    @property
    def calls(self):
        """How many write calls :meth:`RichMenuClient.apply` will make (polls not counted)."""
        def chunks(n):
            return -(-n // BULK_MAX)
        batches = -(-len(self.batch_operations) // BATCH_MAX_OPERATIONS)
        return batches + chunks(len(self.unlink)) + sum(chunks(len(v)) for v in self.link.values())

    @property
    def empty(self):
        return self.calls == 0


def reconcile(current, target, default_menu_id=None, batch_min_users=DEFAULT_BATCH_MIN_USERS):
    """Plan the switch. ``current``: userId -> per-user menu id or None (no per-user link);
    ``target``: userId -> wanted menu id, None or ``default_menu_id`` meaning "follow the default".
    Users missing from ``current`` are taken as having no per-user link; users missing from
    ``target`` are left alone."""
    plan = RichMenuPlan()
    moves = {}  # userId -> wanted per-user menu (None = unlink)
    for user_id, wanted in target.items():
        wanted = None if wanted is None or wanted == default_menu_id else wanted
        if current.get(user_id) == wanted:
            plan.unchanged.append(user_id)
        else:
            moves[user_id] = wanted

    if batch_min_users is not None:
        by_menu = {}
        for user_id, menu in current.items():
            if menu is not None:
                by_menu.setdefault(menu, []).append(user_id)
        for menu, users in by_menu.items():
            destinations = {moves.get(u, menu) for u in users}  # a user not moving stays on menu
            if len(users) < batch_min_users or len(destinations) != 1:
                continue
            (destination,) = destinations
            if destination == menu:
                continue
            if len(plan.batch_operations) >= BATCH_MAX_OPERATIONS:
                break
            operation = {"type": "unlink", "from": menu} if destination is None else \
                {"type": "link", "from": menu, "to": destination}
            plan.batch_operations.append(operation)
            plan.batch_users[menu] = users
            for user_id in users:
                del moves[user_id]

    for user_id, wanted in moves.items():
        if wanted is None:
            plan.unlink.append(user_id)
        else:
            plan.link.setdefault(wanted, []).append(user_id)
    return plan


@dataclasses.dataclass
class ApplyReport:
    batch_request_id: str | None = None
    calls: list = dataclasses.field(default_factory=list)  # [(operationId, users, request id)]


# The client --------------------------------------------------------------------------------------
class RichMenuClient:
    """Rich-menu calls for one channel. Pass ``sender=`` to share a Sender's SDK client, limiter,
    backoff and sleep/clock, or ``configuration``/``limiter`` (and the same knobs as Sender)."""

    def __init__(self, configuration=None, limiter=None, sender=None, max_attempts=6,
                 backoff=None, timeout=DEFAULT_TIMEOUT, sleep=time.sleep, clock=time.monotonic,
                 poll_interval=10.0, batch_timeout=3600.0, first_poll=1.0):
        if sender is not None:
            self.caller = sender.caller
        elif configuration is not None:
            self.caller = ApiCaller(configuration, limiter=limiter, max_attempts=max_attempts,
                                    backoff=backoff, timeout=timeout, sleep=sleep, clock=clock)
        else:
            raise TypeError("RichMenuClient needs a configuration or a sender")
        self.poll_interval = poll_interval
        self.first_poll = first_poll
        self.batch_timeout = batch_timeout

    @property
    def api(self):
        return self.caller.api

    def _call(self, endpoint, fn, retry_on=RETRY_ALWAYS):
        outcome = self.caller.call(endpoint, fn, retry_on=retry_on)
        return outcome, outcome.raise_for_failure(RequestRejected)

    # Menus -------------------------------------------------------------------------------------
    def publish(self, spec, image, alias_id=None):
        """Create the menu, upload its image, point ``alias_id`` at it; returns the richMenuId.

        Everything is validated first (RichMenuInvalid, nothing sent). If the upload fails the
        new menu is deleted, so no image-less menu is left behind.
        """

        spec.check()
        content_type = check_image(image, spec.width_height)
        if alias_id is not None:
            check_alias_id(alias_id)
        rich_menu_id = self.create(spec)
        try:
            self.upload_image(rich_menu_id, image, content_type)
        except Exception:
            self.delete(rich_menu_id)
            raise
        if alias_id is not None:
            self.set_alias(alias_id, rich_menu_id)
        return rich_menu_id

    def create(self, spec):
        spec.check()
        request = RichMenuRequest.from_dict(spec.to_dict())
        _, response = self._call(
            "createRichMenu", lambda **kw: self.api.create_rich_menu_with_http_info(request, **kw),
            retry_on=RETRY_IF_NOT_PROCESSED)
        return response.data.rich_menu_id

    def upload_image(self, rich_menu_id, image, content_type):
        blob = self.caller.blob
        # bytes, never str (the SDK would open a str as a file), and an explicit Content-Type.
        self._call("setRichMenuImage", lambda **kw: blob.set_rich_menu_image_with_http_info(
            rich_menu_id, body=bytes(image), _headers={"Content-Type": content_type}, **kw),
            retry_on=RETRY_IF_NOT_PROCESSED)

    def set_alias(self, alias_id, rich_menu_id):
        """Create the alias, or move it to ``rich_menu_id`` when it exists."""
        outcome = self.caller.call(
            "getRichMenuAlias", lambda **kw: self.api.get_rich_menu_alias_with_http_info(
                alias_id, **kw))
        if outcome.failure is not None and outcome.failure.status == 404:
            request = CreateRichMenuAliasRequest(rich_menu_alias_id=alias_id,
                                                 rich_menu_id=rich_menu_id)
            self._call("createRichMenuAlias",
                       lambda **kw: self.api.create_rich_menu_alias_with_http_info(request, **kw))
            return "created"
        outcome.raise_for_failure(RequestRejected)
        request = UpdateRichMenuAliasRequest(rich_menu_id=rich_menu_id)
        self._call("updateRichMenuAlias",
                   lambda **kw: self.api.update_rich_menu_alias_with_http_info(alias_id, request,
                                                                              **kw))
        return "updated"

    def delete(self, rich_menu_id):
        """Delete a menu; False when it was already gone."""
        outcome = self.caller.call(
            "deleteRichMenu", lambda **kw: self.api.delete_rich_menu_with_http_info(
                rich_menu_id, **kw))
        if outcome.failure is not None and outcome.failure.status == 404:
            return False
        outcome.raise_for_failure(RequestRejected)
        return True

    def set_default(self, rich_menu_id):
        self._call("setDefaultRichMenu", lambda **kw: self.api.set_default_rich_menu_with_http_info(
            rich_menu_id, **kw))

    def clear_default(self):
        self._call("cancelDefaultRichMenu",
                   lambda **kw: self.api.cancel_default_rich_menu_with_http_info(**kw))

    # Per-user, bulk, batch ----------------------------------------------------------------------
    def link_user(self, user_id, rich_menu_id):
        self._call("linkRichMenuIdToUser",
                   lambda **kw: self.api.link_rich_menu_id_to_user_with_http_info(
                       user_id, rich_menu_id, **kw))

    def unlink_user(self, user_id):
        self._call("unlinkRichMenuIdFromUser",
                   lambda **kw: self.api.unlink_rich_menu_id_from_user_with_http_info(
                       user_id, **kw))

    def user_menu(self, user_id):
        """The user's per-user menu id, or None when they have none."""
        outcome = self.caller.call(
            "getRichMenuIdOfUser", lambda **kw: self.api.get_rich_menu_id_of_user_with_http_info(
                user_id, **kw))
        if outcome.failure is not None and outcome.failure.status == 404:
            return None
        return outcome.raise_for_failure(RequestRejected).data.rich_menu_id

    def bulk_link(self, rich_menu_id, user_ids):
        """Link ``rich_menu_id`` to any number of users, 500 per call; returns the calls made."""
        calls = []
        for chunk in _chunks(user_ids):
            request = RichMenuBulkLinkRequest(rich_menu_id=rich_menu_id, user_ids=chunk)
            outcome, _ = self._call(
                "linkRichMenuIdToUsers",
                lambda **kw: self.api.link_rich_menu_id_to_users_with_http_info(request, **kw))
            calls.append(("linkRichMenuIdToUsers", len(chunk), outcome.request_id))
        return calls

    def bulk_unlink(self, user_ids):
        calls = []
        for chunk in _chunks(user_ids):
            request = RichMenuBulkUnlinkRequest(user_ids=chunk)
            outcome, _ = self._call(
                "unlinkRichMenuIdFromUsers",
                lambda **kw: self.api.unlink_rich_menu_id_from_users_with_http_info(request, **kw))
            calls.append(("unlinkRichMenuIdFromUsers", len(chunk), outcome.request_id))
        return calls

    def batch(self, operations, resume_key=None, wait=True):
        """Send a batch (``operations`` are LINE's objects); returns its request id. With ``wait``
        it polls progress until ``succeeded`` and raises :class:`BatchFailed` otherwise."""
        if not 1 <= len(operations) <= BATCH_MAX_OPERATIONS:
            raise ValueError(f"a batch has 1 to {BATCH_MAX_OPERATIONS} operations")
        resume_key = resume_key or uuid.uuid4().hex
        request = RichMenuBatchRequest.from_dict({"operations": list(operations),
                                                  "resumeRequestKey": resume_key})
        outcome, _ = self._call(
            "richMenuBatch", lambda **kw: self.api.rich_menu_batch_with_http_info(request, **kw))
        request_id = outcome.request_id
        if wait:
            self.wait_batch(request_id, resume_key)
        return request_id

    def batch_move(self, from_id, to_id, resume_key=None, wait=True):
        """Every user linked to ``from_id`` moves to ``to_id`` (one batch call)."""
        return self.batch([{"type": "link", "from": from_id, "to": to_id}], resume_key, wait)

    def wait_batch(self, request_id, resume_key=None):
        """Poll the batch's progress (through the injected sleep) until it is done; returns the
        last progress object.

        Batches usually finish within seconds, so the first poll comes after ``first_poll``
        seconds and the wait doubles up to ``poll_interval``: a few calls of the 100-per-hour
        progress budget instead of a fixed long wait.
        """
        started = self.caller.clock()
        wait = min(self.first_poll, self.poll_interval)
        while True:
            self.caller.sleep(wait)
            wait = min(wait * 2, self.poll_interval)
            _, response = self._call(
                "getRichMenuBatchProgress",
                lambda **kw: self.api.get_rich_menu_batch_progress_with_http_info(request_id, **kw))
            progress = response.data
            if progress.phase == "succeeded":
                return progress
            if progress.phase == "failed":
                raise BatchFailed("the rich-menu batch failed", phase="failed",
                                  resume_key=resume_key, request_id=request_id,
                                  endpoint="richMenuBatch")
            if self.caller.clock() - started >= self.batch_timeout:
                raise BatchFailed(f"the rich-menu batch is still {progress.phase} after "
                                  f"{self.batch_timeout:.0f} s", phase=progress.phase,
                                  resume_key=resume_key, request_id=request_id,
                                  endpoint="richMenuBatch")

    # Reconcile --------------------------------------------------------------------------------
    def apply(self, plan):
        """Run a :class:`RichMenuPlan`: the batch first (and wait for it, so no bulk link to a
        menu can be swept along by it), then bulk unlinks, then bulk links."""
        report = ApplyReport()
        for start in range(0, len(plan.batch_operations), BATCH_MAX_OPERATIONS):
            operations = plan.batch_operations[start:start + BATCH_MAX_OPERATIONS]
            report.batch_request_id = self.batch(operations)
            report.calls.append(("richMenuBatch", sum(len(plan.batch_users.get(op["from"], []))
                                                      for op in operations),
                                 report.batch_request_id))
        report.calls += self.bulk_unlink(plan.unlink)
        for rich_menu_id, user_ids in plan.link.items():
            report.calls += self.bulk_link(rich_menu_id, user_ids)
        return report

    def reconcile(self, current, target, default_menu_id=None,
                  batch_min_users=DEFAULT_BATCH_MIN_USERS):
        return reconcile(current, target, default_menu_id, batch_min_users)


def _chunks(user_ids):
    user_ids = list(dict.fromkeys(user_ids))
    return [user_ids[i:i + BULK_MAX] for i in range(0, len(user_ids), BULK_MAX)]
