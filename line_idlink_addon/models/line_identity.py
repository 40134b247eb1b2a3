import datetime
import logging

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from line_idlink import message_builders
from line_idlink.login import LoginError
from line_idlink.retry import LineApiError
from line_idlink.storage import LINK_METHODS

from ..lib.line_api import LineCallFailed

_logger = logging.getLogger(__name__)

# Who a LINE account belongs to and whether the link is active: "Log in with LINE" trusts these.
LINK_FIELDS = frozenset({"partner_id", "line_user_id", "channel_id", "linked", "link_method",
                         "linked_since", "unlinked_at"})
_LINK_PROTOCOL_KEY = "line_idlink_link_protocol"
# The permission itself: an object, not a value. JSON-RPC and HTTP clients can only put JSON
# (strings, numbers, lists, dicts) in a context, so no client can ever send this one.
_LINK_PROTOCOL = object()


class LineIdentity(models.Model):
    """A LINE user of one channel (one row per channel and userId) and its link to a partner.

    ``linked`` is the active link; unlinking keeps ``partner_id`` as history (with
    ``unlinked_at``), so the partner's LINE tab still shows the former link.

    **Who may write the link.** The fields of ``LINK_FIELDS`` (``partner_id``, ``line_user_id``,
    ``channel_id``, ``linked``, ``link_method``, ``linked_since``, ``unlinked_at``) decide whom
    "Log in with LINE" logs in, so only the link protocol writes them:

    - linking, unlinking and creating the identity of a LINE user (``_line_get_or_create``:
      webhook events and LINE Login) are single SQL statements of ``lib.odoo_storage`` (the
      core's account-link event, LINE Login link, unlink, one upsert): they never go through
      ``write``;
    - moving links on a partner merge (``models/base_partner_merge.py``) goes through
      :meth:`_line_link_protocol`, a private method (Odoo refuses to call ``_`` methods over
      RPC) that puts a sentinel *object* in the context.

    ``create`` and ``write`` refuse any of these fields (also through ``default_*`` context keys
    and one2many commands of ``res.partner.line_identity_ids``) unless that very object is in
    the context. A client cannot forge it: a JSON-RPC or form context holds only JSON values,
    and a string under the same key is not the object. ``sudo()`` alone does not open the
    fields either, so a superuser code path that writes values taken from a request still
    cannot relink anyone. Everything else (display name, follow state, rich menu state) keeps
    the ordinary access rights; LINE: User has no write access at all.
    """

    _name = "line.identity"
    _description = "LINE User"
    _inherit = ["mail.thread"]
    _order = "last_event_at desc, id desc"
    _check_company_auto = True

    name = fields.Char("LINE Display Name", tracking=True)
    channel_id = fields.Many2one("line.channel", required=True, ondelete="cascade", index=True)
    # the channel's company, not stored: rows inserted with SQL (lib/odoo_storage) carry it
    company_id = fields.Many2one(related="channel_id.company_id")
    line_user_id = fields.Char("LINE User ID", required=True, readonly=True)
    partner_id = fields.Many2one("res.partner", "Customer", ondelete="set null", index=True,
                                 readonly=True, tracking=True)
    picture_url = fields.Char("Picture URL")
    language = fields.Char()
    follow_state = fields.Selection(
        [("followed", "Friend"), ("blocked", "Blocked"), ("unknown", "Unknown")],
        default="unknown", required=True, tracking=True,
        help="Friend: follows the official account. Blocked: blocked it (the link is kept).")
    linked = fields.Boolean(readonly=True, tracking=True, default=False)
    linked_since = fields.Datetime(readonly=True)
    unlinked_at = fields.Datetime("Unlinked On", readonly=True)
    link_method = fields.Selection(
        [(LINK_METHODS[0], "Messaging API account link"), (LINK_METHODS[1], "LINE Login")],
        readonly=True)
    last_event_at = fields.Datetime("Last Event", readonly=True)
    # LINE Login tokens of a link made with LINE Login: system-only, revoked on unlink
    login_access_token = fields.Char(groups="base.group_system", copy=False)
    login_refresh_token = fields.Char(groups="base.group_system", copy=False)
    login_token_expires_at = fields.Datetime("Login Token Expires", groups="base.group_system",
                                             copy=False)
    # rich menus (lib/rich_menu_sync.py writes these with set-based SQL)
    rich_menu_id = fields.Many2one("line.rich.menu", "Rich Menu", readonly=True, index=True,
                                   ondelete="set null", check_company=True,
                                   help="The rich menu LINE shows this user, as last applied.")
    rich_menu_rule_id = fields.Many2one("line.rich.menu.rule", "Rich Menu Rule", readonly=True,
                                        ondelete="set null", check_company=True,
                                        help="Why this menu: the rule that chose it (empty: a "
                                             "preview or no rule).")
    rich_menu_state = fields.Selection(
        [("ok", "Up to date"), ("pending", "Pending"), ("error", "Error")], "Rich Menu Status",
        default="pending", readonly=True, index=True)
    rich_menu_error = fields.Char("Rich Menu Error", readonly=True)
    rich_menu_applied_id = fields.Char("Per-user Rich Menu ID", readonly=True, copy=False,
                                       help="The LINE rich menu id linked to this user (empty: "
                                            "LINE's default menu).")
    rich_menu_attempts = fields.Integer(readonly=True, copy=False)
    rich_menu_retry_at = fields.Datetime("Rich Menu Retry", readonly=True, copy=False)

    _sql_constraints = [
        ("line_user_channel_uniq", "unique(channel_id, line_user_id)",
         "A LINE user appears once per channel."),
    ]

    def init(self):
        # the core's storage contract: one ACTIVE link per (channel, LINE userId), enforced by
        # the database (the full unique constraint above already implies it; this index states
        # the rule explicitly and keeps it if the constraint is ever relaxed)
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS line_identity_one_active_link
                ON line_identity (channel_id, line_user_id) WHERE linked""")

    @api.depends("name", "line_user_id")
    def _compute_display_name(self):
        for identity in self:
            identity.display_name = identity.name or identity.line_user_id

    # ---- THE LINK FIELDS: WRITTEN BY THE LINK PROTOCOL ONLY -------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        defaults = {key[len("default_"):] for key in self.env.context
                    if key.startswith("default_")}
        self._line_check_link_fields(defaults.union(*(vals.keys() for vals in vals_list)))
        return super().create(vals_list)

    def write(self, vals):
        self._line_check_link_fields(vals)
        return super().write(vals)

    def _line_check_link_fields(self, names):
        touched = LINK_FIELDS.intersection(names)
        if touched and self.env.context.get(_LINK_PROTOCOL_KEY) is not _LINK_PROTOCOL:
            labels = sorted(self._fields[name]._description_string(self.env) for name in touched)
            raise AccessError(_(
                "The link of a LINE account (%(fields)s) cannot be changed by hand: only linking"
                " from LINE or the customer portal, unlinking and merging contacts change it.",
                fields=", ".join(labels)))

    def _line_link_protocol(self):
        """These records (as superuser), allowed to write ``LINK_FIELDS``: for the link protocol's
        own writes only. Never return the result to other code: use it for one create or write
        and go on with the original records (see the class docstring)."""
        context = {key: value for key, value in self.env.context.items()
                   if not (key.startswith("default_") and key[len("default_"):] in LINK_FIELDS)}
        context[_LINK_PROTOCOL_KEY] = _LINK_PROTOCOL
        return self.sudo().with_context(context)

    # ---- HELPERS ------------------------------------------------------------------------------
    @api.model
    def _line_get_or_create(self, channel, line_user_id):
        """The identity of a LINE user in a channel (sudo), created if missing with one upsert:
        the follow event and a LINE Login callback creating it at the same moment never make a
        duplicate; the one that loses the race gets a serialization failure and is retried (the
        event queue's policy; Odoo retries HTTP requests)."""
        identity_id = channel.sudo()._line_storage().upsert_identity(line_user_id)
        return self.sudo().browse(identity_id)

    def _line_lang(self):
        """Language of the messages sent to this user (the core's builders know ja and en)."""
        self.ensure_one()
        return "en" if (self.language or "").startswith("en") else "ja"

    def _line_rich_menu_refresh(self, apply_now=False):
        """The identities' rule may have changed (link, unlink, follow, partner change): mark
        them pending and wake the rich-menu cron, or apply at once (``apply_now``: one per-user
        call, used while processing the event so the menu changes in the same cron run). A
        failure is recorded on the identity and retried by the cron."""
        identities = self.sudo().filtered(lambda i: i.rich_menu_state != "pending")
        if identities:
            identities.write({"rich_menu_state": "pending"})
        if apply_now:
            try:
                for channel, records in self.sudo().grouped("channel_id").items():
                    channel._line_reconcile_rich_menus(records, batch_min_users=None)
                return
            except (LineCallFailed, LineApiError) as exc:  # e.g. no access token: cron retries
                _logger.info("LINE rich menu not applied now: %s", exc)
        self.env.ref("line_idlink_addon.ir_cron_line_rich_menus").sudo()._trigger()

    # ---- rich-menu crons (the rows they process are identities) ------------------------------
    @api.model
    def _cron_apply_rich_menus(self):
        """The rich-menu cron: republish the queued menus the rate limit now allows, then apply
        the menus of pending identities and retry failed ones whose backoff elapsed, channel by
        channel (``line.channel._line_reconcile_rich_menus``)."""
        self.env["line.rich.menu"]._cron_republish_pending()
        now = fields.Datetime.now()
        self.flush_model()
        self.env.cr.execute("""
            SELECT channel_id, array_agg(id) FROM line_identity
             WHERE follow_state IS DISTINCT FROM 'blocked'
               AND (rich_menu_state = 'pending'
                    OR (rich_menu_state = 'error' AND rich_menu_retry_at <= %s))
             GROUP BY channel_id""", [now])
        pending = dict(self.env.cr.fetchall())
        done = 0
        channels = self.env["line.channel"].sudo()
        for channel in channels.search([("rich_menu_rule_ids", "!=", False)]):
            # empty scope: only LINE's default menu is brought in line with the default rule
            done += channel._line_run_and_commit(pending.pop(channel.id, []))
        for channel_id, ids in pending.items():  # rules removed: identities go back to none
            done += channels.browse(channel_id)._line_run_and_commit(ids)
        return done

    @api.model
    def _cron_reconcile_rich_menus(self):
        """Nightly: every identity of every channel that has rules, whatever its state, and
        whatever LINE shows it now (a menu changed on LINE's side is put back)."""
        done = 0
        channels = self.env["line.channel"].sudo().search([("rich_menu_rule_ids", "!=", False)])
        for channel in channels:
            done += channel._line_run_and_commit(None, force=True)
        return done

    def _line_rich_menu_record(self, menu, rule, per_user_id):
        """Note a menu applied outside the rules (the admin's preview)."""
        self.sudo().write({"rich_menu_id": menu.id, "rich_menu_rule_id": rule and rule.id,
                           "rich_menu_applied_id": per_user_id or False,
                           "rich_menu_state": "ok", "rich_menu_error": False,
                           "rich_menu_attempts": 0, "rich_menu_retry_at": False})

    def action_apply_rich_menu(self):
        """Back office (LINE administrators): recompute and apply now."""
        self.check_access("write")
        self._line_rich_menu_refresh(apply_now=True)
        return True

    # ---- ACTIONS ------------------------------------------------------------------------------
    def action_unlink_line(self):
        """Unlink (back office or portal): allowed whenever the caller may read the identity."""
        self.check_access("read")
        for identity in self.sudo():
            identity._line_unlink(by=self.env.user)
        return True

    def _line_unlink(self, by=None, notify_chat=False, reply_token=None, after_commit=None):
        """End the link: the database first (through the core's linker), then LINE: the rich
        menu goes back to the unlinked one (marked pending at once, so the rich-menu cron applies
        it whatever happens) and, with ``reply_token``, the chat is answered.

        ``after_commit``: a list the event cron runs after committing the unlink; the calls to
        LINE are appended to it instead of being made now, so a later failure can never leave
        LINE showing "unlinked" while Odoo still says "linked". Returns False if nothing was
        linked."""
        self.ensure_one()
        partner = self.partner_id
        ended = self.channel_id._line_linker().unlink(line_user_id=self.line_user_id)
        if not ended:
            return False
        author = by.name if by else _("the LINE user")
        self._line_revoke_login_tokens()
        self.message_post(body=_("Unlinked from %(partner)s by %(author)s.",
                                 partner=partner.display_name, author=author))
        if partner:
            partner.message_post(body=_("LINE account %(name)s unlinked by %(author)s.",
                                        name=self.display_name, author=author))
        self.invalidate_recordset(["linked", "partner_id"])
        self._line_rich_menu_refresh()  # pending: back to the default menu
        calls = [lambda: self._line_rich_menu_refresh(apply_now=True)]
        if reply_token:
            calls.append(lambda: self._line_reply_unlinked(reply_token))
        if after_commit is not None:
            after_commit.extend(calls)
        else:
            for call in calls:
                call()
        return True

    def _line_reply_unlinked(self, reply_token):
        try:
            with self.channel_id._line_api() as api:
                api.reply(reply_token, [message_builders.unlink_done(self._line_lang())])
        except LineCallFailed as exc:
            self.message_post(body=_("LINE not updated after unlinking: %(error)s",
                                     error=str(exc)))

    def _line_store_login_tokens(self, tokens):
        self.ensure_one()
        self.sudo().write({"login_access_token": tokens.access_token,
                           "login_refresh_token": tokens.refresh_token,
                           "login_token_expires_at": fields.Datetime.now() + datetime.timedelta(
                               seconds=tokens.expires_in)})

    def _line_revoke_login_tokens(self):
        """Deauthorize the app and revoke the stored LINE Login tokens (LINE requires it when a
        user unlinks); the outcome is noted in the chatter. Tokens are forgotten only when LINE
        accepted, so a failure can be retried by unlinking again after relinking."""
        self.ensure_one()
        identity = self.sudo()
        access = identity.login_access_token
        if not access:
            return
        channel = identity.channel_id.sudo()
        try:
            client = channel._line_login_client()
            client.deauthorize(access, channel.access_token)
            client.revoke(access)
        except (LoginError, UserError) as exc:
            identity.message_post(body=_("LINE Login tokens not revoked: %(error)s",
                                         error=str(exc)))
            return
        identity.write({"login_access_token": False, "login_refresh_token": False,
                        "login_token_expires_at": False})
        identity.message_post(body=_("LINE Login authorization revoked (deauthorized on LINE)."))

    def action_refresh_profile(self):
        """Back office (LINE users): copy the display name, picture and language from LINE."""
        if not self.env.user.has_group("line_idlink_addon.group_line_user"):
            raise AccessError(_("Only LINE users of the back office can refresh LINE profiles."))
        self.check_access("read")
        for identity in self.sudo():
            try:
                with identity.channel_id._line_api() as api:
                    identity._line_update_profile(api)
            except LineCallFailed as exc:
                raise UserError(_("LINE did not answer: %(error)s", error=str(exc))) from exc
        return True

    def _line_update_profile(self, api):
        self.ensure_one()
        profile = api.profile(self.line_user_id)
        self.write({"name": profile["display_name"], "picture_url": profile["picture_url"],
                    "language": profile["language"] or self.language})
