"""Bring the rich menus LINE shows a channel's users in line with the channel's rules.

:class:`RichMenuSync` resolves each identity's rule (``line.rich.menu.rule``), asks the core's
:func:`~line_idlink.richmenu_publisher.reconcile` for the fewest calls (one batch ``A -> B`` when
at least 1,000 users all move together, bulk calls of 500 otherwise, a per-user call for a
single user), runs them chunk by chunk through the channel's rate-limited client and records the
outcome per identity with a few set-based SQL updates (it is meant for 100k identities: no
per-record ORM loop).

What is stored per identity (``line.identity``): ``rich_menu_applied_id`` is the per-user LINE
menu id we last set (NULL = none, so LINE shows its default menu), ``rich_menu_id`` the Odoo menu
the user sees, ``rich_menu_rule_id`` the rule that chose it, ``rich_menu_state`` ok / pending /
error with ``rich_menu_error``, ``rich_menu_attempts`` and ``rich_menu_retry_at`` (backoff).

Undocumented behaviour chosen here:

- The default rule's menu is LINE's default menu (``setDefaultRichMenu``); identities resolved to
  it get no per-user link. The default rule is the fallback whatever its sequence.
- Blocked users are not switched (LINE ignores per-user links of non-friends): they stay
  ``pending`` and are switched when they follow again. Their current link still counts when a
  batch is planned (a batch moves every user of a menu, friend or not).
- A batch that fails or is refused (e.g. its 3-per-hour limit) falls back to bulk calls for its
  users; when the client-side limiter has no batch slot left, no batch is planned at all.
- Bulk calls answer 202 and are applied by LINE later; they count as done when accepted.
- ``force`` (the nightly reconcile) does not trust the stored per-user menu: LINE's side may have
  drifted (another tool, a support agent, a lost bulk call), so every identity in scope is linked
  (or unlinked) again with bulk calls, and LINE's default menu is set again. Bulk calls are
  idempotent: 100,000 identities cost 200 calls.
"""

import logging

from odoo import _, fields

from line_idlink.retry import LineApiError
from line_idlink.richmenu_publisher import BULK_MAX, DEFAULT_BATCH_MIN_USERS, reconcile

from .line_api import LineCallFailed

_logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # then only the nightly reconcile tries again
RETRY_BASE_SECONDS, RETRY_CAP_SECONDS = 60, 6 * 3600
_UNKNOWN = object()  # force: the per-user menu LINE shows is not known, so it never matches
STATE_COLUMNS = ("rich_menu_id", "rich_menu_rule_id", "rich_menu_applied_id", "rich_menu_state",
                 "rich_menu_error", "rich_menu_attempts", "rich_menu_retry_at")


def retry_delay(attempts):
    return min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))


class RichMenuSync:
    def __init__(self, channel):
        self.channel = channel.sudo()
        self.env = self.channel.env
        self.cr = self.env.cr
        self._rules = None

    # ---- rules ---------------------------------------------------------------------------------
    def rules(self):
        """Active rules whose menu is published, in priority order; ``(ordered, default)``."""
        if self._rules is not None:
            return self._rules
        rules = self.env["line.rich.menu.rule"].sudo().search(
            [("channel_id", "=", self.channel.id), ("rich_menu_id.state", "=", "published")],
            order="sequence, id")
        default = rules.filtered(lambda r: r.role == "default")[:1]
        self._rules = (rules.filtered(lambda r: r.role != "default"), default)
        return self._rules

    def resolve(self, rows):
        """``{identity id: (menu, rule)}`` for rows ``(id, linked, partner_id)``."""
        ordered, default = self.rules()
        linked_partners = {row[2] for row in rows if row[1] and row[2]}
        matches = {}
        for rule in ordered.filtered(lambda r: r.role == "segment"):
            if not linked_partners:
                matches[rule.id] = set()
                continue
            partners = self.env["res.partner"].sudo().with_context(active_test=False).search(
                rule._line_domain() + [("id", "in", list(linked_partners))])
            matches[rule.id] = set(partners.ids)
        fallback = (default.rich_menu_id, default) if default else (None, None)
        result = {}
        for identity_id, linked, partner_id in rows:
            chosen = fallback
            if linked:
                for rule in ordered:
                    if rule.role == "linked" or partner_id in matches.get(rule.id, ()):
                        chosen = (rule.rich_menu_id, rule)
                        break
            result[identity_id] = chosen
        return result

    # ---- the run -------------------------------------------------------------------------------
    def run(self, identity_ids=None, batch_min_users=DEFAULT_BATCH_MIN_USERS, force=False):
        env = self.env
        env["line.identity"].flush_model()
        self.cr.execute("""SELECT id, line_user_id, linked, partner_id, follow_state,
                                  rich_menu_applied_id
                             FROM line_identity WHERE channel_id = %s""", [self.channel.id])
        rows = self.cr.fetchall()
        scope_ids = None if identity_ids is None else set(identity_ids)
        scope = [r for r in rows if scope_ids is None or r[0] in scope_ids]
        report = {"calls": [], "switched": 0, "unchanged": 0, "failed": 0, "waiting": 0,
                  "identities": len(scope)}
        if not scope:
            self.sync_default()
            return report
        chosen = self.resolve([(r[0], bool(r[2]), r[3]) for r in scope])
        _, default = self.rules()
        default_line_id = default.rich_menu_id.line_rich_menu_id if default else None

        current = {r[1]: r[5] or None for r in rows}
        if force:
            current.update((r[1], _UNKNOWN) for r in scope)
            batch_min_users = None
        target, by_user = {}, {}
        waiting = []
        for row in scope:
            menu, rule = chosen[row[0]]
            if row[4] == "blocked":
                waiting.append(row[0])
                continue
            target[row[1]] = menu.line_rich_menu_id if menu else None
            by_user[row[1]] = (row[0], menu, rule)

        plan = reconcile(current, target, default_line_id, batch_min_users)
        failures = {}
        default_synced = not force and \
            (self.channel.rich_menu_default_line_id or None) == default_line_id
        if not plan.empty or not default_synced:
            with self.channel._line_api() as api:
                client = api.richmenus
                if not default_synced:
                    self._sync_default(client, default_line_id)
                if plan.batch_operations and client.caller.limiter.delay_for("richMenuBatch"):
                    # no batch slot left this hour: bulk calls instead of waiting
                    plan = reconcile(current, target, default_line_id, None)
                self._apply(client, plan, report, failures)
        self._record(by_user, plan, failures, report)
        if waiting:
            self._write(waiting, {"rich_menu_state": "pending"})
            report["waiting"] = len(waiting)
        env["line.identity"].invalidate_model(list(STATE_COLUMNS))
        return report

    def sync_default(self):
        """Make LINE's default menu the default rule's published menu (a call only on change)."""
        _, default = self.rules()
        default_line_id = default.rich_menu_id.line_rich_menu_id if default else None
        if (self.channel.rich_menu_default_line_id or None) == default_line_id:
            return
        with self.channel._line_api() as api:
            self._sync_default(api.richmenus, default_line_id)

    def _sync_default(self, client, default_line_id):
        """LINE's default menu = the default rule's menu (cleared when there is none)."""
        try:
            if default_line_id:
                client.set_default(default_line_id)
            else:
                client.clear_default()
        except LineApiError as exc:
            self.channel.message_post(body=_("The default rich menu was not set on LINE: "
                                             "%(error)s", error=str(exc)))
            return
        self.channel.rich_menu_default_line_id = default_line_id

    def _apply(self, client, plan, report, failures):
        """Run the plan chunk by chunk, noting failed users (``failures``: userId -> error)."""
        for operation in plan.batch_operations:
            users = plan.batch_users.get(operation["from"], [])
            try:
                request_id = client.batch([operation])
                report["calls"].append(("richMenuBatch", len(users), request_id))
            except LineApiError as exc:
                _logger.warning("LINE rich-menu batch failed, falling back to bulk: %s", exc)
                destination = operation.get("to")
                if destination:
                    plan.link.setdefault(destination, []).extend(users)
                else:
                    plan.unlink.extend(users)
        for chunk in _chunks(plan.unlink):
            self._call(report, failures, chunk, "unlinkRichMenuIdFromUser",
                       lambda c=chunk: client.unlink_user(c[0]) if len(c) == 1
                       else client.bulk_unlink(c))
        for rich_menu_id, user_ids in plan.link.items():
            for chunk in _chunks(user_ids):
                self._call(report, failures, chunk, "linkRichMenuIdToUser",
                           lambda c=chunk, m=rich_menu_id: client.link_user(c[0], m)
                           if len(c) == 1 else client.bulk_link(m, c))

    @staticmethod
    def _call(report, failures, chunk, single_endpoint, fn):
        try:
            calls = fn()
        except (LineApiError, LineCallFailed) as exc:
            error = str(exc)
            for user_id in chunk:
                failures[user_id] = error
            return
        report["calls"] += calls if isinstance(calls, list) else [(single_endpoint, 1, None)]

    def _record(self, by_user, plan, failures, report):
        now = fields.Datetime.now()
        groups = {}  # column values -> identity ids
        default_menu = self.rules()[1].rich_menu_id
        failed = {}
        for user_id, (identity_id, menu, rule) in by_user.items():
            if user_id in failures:
                failed[identity_id] = failures[user_id]
                continue
            per_user = menu.line_rich_menu_id if menu and menu != default_menu else None
            key = (menu.id if menu else None, rule.id if rule else None, per_user)
            groups.setdefault(key, []).append(identity_id)
        for (menu_id, rule_id, per_user), ids in groups.items():
            self._write(ids, {"rich_menu_id": menu_id, "rich_menu_rule_id": rule_id,
                              "rich_menu_applied_id": per_user, "rich_menu_state": "ok",
                              "rich_menu_error": None, "rich_menu_attempts": 0,
                              "rich_menu_retry_at": None})
        report["unchanged"] = len(plan.unchanged)
        report["switched"] = len(by_user) - len(plan.unchanged) - len(failed)
        report["failed"] = len(failed)
        if failed:
            self._record_failures(failed, now)

    def _record_failures(self, failed, now):
        by_error = {}
        for identity_id, error in failed.items():
            by_error.setdefault(error, []).append(identity_id)
        for error, ids in by_error.items():
            self.cr.execute("""
                UPDATE line_identity
                   SET rich_menu_state = 'error', rich_menu_error = %s,
                       rich_menu_attempts = COALESCE(rich_menu_attempts, 0) + 1,
                       write_date = %s
                 WHERE id = ANY(%s)""", [error, now, ids])
        # backoff: 1 min, 2, 4 ... capped at 6 h; after MAX_ATTEMPTS only the nightly run retries
        self.cr.execute("""
            UPDATE line_identity
               SET rich_menu_retry_at = CASE WHEN rich_menu_attempts >= %s THEN NULL
                   ELSE %s + make_interval(secs => LEAST(%s, %s * power(2, rich_menu_attempts - 1)))
                   END
             WHERE id = ANY(%s)
         RETURNING rich_menu_retry_at""",
                        [MAX_ATTEMPTS, now, RETRY_CAP_SECONDS, RETRY_BASE_SECONDS, list(failed)])
        retries = [row[0] for row in self.cr.fetchall() if row[0]]
        if retries:
            self.env.ref("line_idlink_addon.ir_cron_line_rich_menus")._trigger(min(retries))
        self.channel.message_post(body=_(
            "Rich menus not switched for %(count)s LINE user(s): %(error)s",
            count=len(failed), error=next(iter(failed.values()))))

    def _write(self, ids, values):
        columns = ", ".join(f"{name} = %s" for name in values)
        self.cr.execute(f"UPDATE line_identity SET {columns}, write_date = %s WHERE id = ANY(%s)",
                        [*values.values(), fields.Datetime.now(), list(ids)])


def _chunks(user_ids):
    user_ids = list(dict.fromkeys(user_ids))
    return [user_ids[i:i + BULK_MAX] for i in range(0, len(user_ids), BULK_MAX)]
