"""What the addon does with each webhook event type, run by the event cron through the core's
``WebhookReceiver.process_pending`` (one handler per type, each gets a ``StoredEvent``).

Every handler works as superuser on one channel; the LINE API client is opened lazily once per
cron run. Protocol decisions (nonces, link/unlink rules) are the core's ``AccountLinker``.

Order of the work, so that LINE and Odoo never disagree after a failure (a call to LINE is not
undone by a database rollback):

1. the handler changes only the database (link, unlink, follow state, chatter; rich menus are
   marked pending, which the rich-menu cron applies whatever happens next) and lists the calls
   to LINE it wants in ``after_commit``; reads from LINE (profile, link token) have no effect a
   retry could repeat;
2. the event cron commits that work together with the event's state (``done``);
3. then the listed calls run, each on its own: the rich menu applied now (best effort, the
   rich-menu cron retries it), then the reply. A reply that fails (its token expired after 60 s,
   or was used) is sent as a push through the durable outgoing queue (``line.message``), so a
   confirmation is never lost and never sent twice.
"""

import logging

from odoo import _, fields

from line_idlink import message_builders, postbacks
from line_idlink.linking import LinkStatus
from line_idlink.retry import LineApiError

from .line_api import LineCallFailed

_logger = logging.getLogger(__name__)


class ChannelEventHandlers:
    def __init__(self, channel):
        self.channel = channel.sudo()
        self.env = self.channel.env
        self._api = None
        self.linker = self.channel._line_linker()
        self.after_commit = []  # calls to LINE of the event being processed (see module doc)

    @property
    def api(self):
        if self._api is None:
            self._api = self.channel._line_api()
        return self._api

    def close(self):
        if self._api is not None:
            self._api.close()

    def mapping(self):
        return {"follow": self.on_follow, "unfollow": self.on_unfollow,
                "postback": self.on_postback, "accountLink": self.on_account_link}

    # ---- after the commit -----------------------------------------------------------------------
    def discard(self):
        """The event's work was rolled back: its calls to LINE must not happen."""
        self.after_commit = []

    def run_after_commit(self, commit):
        """Run the calls the committed event asked for, each best effort; ``commit`` saves what
        each one recorded (a rich-menu state, a queued push) before the next."""
        calls, self.after_commit = self.after_commit, []
        for index, call in enumerate(calls):
            try:
                call()
                commit()
            except Exception:  # noqa: BLE001 - the event is done; nothing here may undo it
                if self.env.cr.closed:
                    # the server is stopping and closed the database connections under this
                    # cron: nothing more can be recorded (a rich menu left pending is applied by
                    # the rich-menu cron after the restart)
                    _logger.warning("LINE channel %s: the server stopped during the calls after"
                                    " an event; %d of them were not made", self.channel.id,
                                    len(calls) - index)
                    return
                _logger.exception("LINE channel %s: a call after an event failed", self.channel.id)
                self.env.cr.rollback()

    # ---- helpers ------------------------------------------------------------------------------
    def _identity(self, event):
        user_id = event.user_id
        if not user_id:
            return None
        identity = self.env["line.identity"]._line_get_or_create(self.channel, user_id)
        identity.last_event_at = fields.Datetime.now()
        return identity

    def _reply(self, event, message_list, identity=None):
        """Answer after the commit: by reply while the token lives, else by a queued push."""
        token = event.reply_token
        if not token:  # standby mode (another module answers) or LINE sent none: say nothing
            return
        user_id = identity.line_user_id if identity else event.user_id
        self.after_commit.append(lambda: self._send_reply(token, user_id, message_list,
                                                          event.event_id, identity))

    def _send_reply(self, token, user_id, message_list, event_id, identity=None):
        try:
            result = self.api.sender.reply(token, message_list)
        except (LineApiError, LineCallFailed) as exc:  # e.g. the channel has no access token
            error = exc
        else:
            if result.ok:
                return
            error = result.error
        if getattr(error, "maybe_sent", False):
            # a 5xx or a timeout after LINE may have delivered it: a push could say it twice
            _logger.warning("LINE reply for event %s may have been delivered (%s): not pushed",
                            event_id, error)
            return
        _logger.info("LINE reply for event %s failed (%s): sent as a push", event_id, error)
        if user_id:
            self.env["line.message"]._line_enqueue(
                self.channel, user_id, message_list,
                origin=identity.with_env(self.env) if identity else None)

    def _apply_rich_menu(self, identity):
        """Mark the identity's menu pending now (committed with the event; the rich-menu cron
        applies it whatever happens) and apply it right after the commit."""
        identity._line_rich_menu_refresh()
        self.after_commit.append(lambda: self._apply_now(identity))

    def _apply_now(self, identity):
        identity = identity.with_env(self.env).exists()
        if identity and identity.rich_menu_state == "pending":  # else applied since
            identity._line_rich_menu_refresh(apply_now=True)  # a failure: the cron retries

    # ---- handlers -----------------------------------------------------------------------------
    def on_follow(self, event):
        identity = self._identity(event)
        if identity is None:
            return None
        identity.follow_state = "followed"
        identity._line_update_profile(self.api)
        lang = identity._line_lang()
        self._apply_rich_menu(identity)
        if identity.linked:
            done = message_builders.link_done(lang, identity.partner_id.name or None)
            self._reply(event, [done], identity)
        else:
            self._reply(event, [message_builders.link_first(lang)], identity)
        return identity.id

    def on_unfollow(self, event):
        identity = self._identity(event)
        if identity is not None:
            identity.follow_state = "blocked"  # the link stays: unfollowing is not unlinking
        return identity and identity.id

    def on_postback(self, event):
        identity = self._identity(event)
        if identity is None:
            return None
        data = postbacks.parse_postback((event.data.get("postback") or {}).get("data"))
        action = data.get("action")
        lang = identity._line_lang()
        if action == "link":
            if identity.linked:
                self._reply(event, [message_builders.link_done(lang)], identity)
                return "already_linked"
            token = self.api.issue_link_token(identity.line_user_id)
            self.linker.remember_link_token(identity.line_user_id, token)
            self._reply(event, [message_builders.link_account(self.channel._line_base_url(), token,
                                                              lang)], identity)
            return "link_token"
        if action == "unlink":
            self._reply(event, [message_builders.unlink_question(lang) if identity.linked
                                else message_builders.link_first(lang)], identity)
            return "unlink_question"
        if action == "unlink_confirm":
            if identity._line_unlink(after_commit=self.after_commit):
                self._reply(event, [message_builders.unlink_done(lang)], identity)
            else:
                self._reply(event, [message_builders.link_first(lang)], identity)
            return "unlinked"
        return None

    def on_account_link(self, event):
        outcome = self.linker.complete_link(event)
        identity = self._identity(event)
        if outcome.status == LinkStatus.LINKED:
            identity.invalidate_recordset()
            partner = identity.partner_id
            identity.message_post(body=_("Linked to %(partner)s through the LINE account-link"
                                         " dialog.", partner=partner.display_name))
            partner.message_post(body=_("LINE account %(name)s linked.",
                                        name=identity.display_name))
            self._apply_rich_menu(identity)
        if outcome.ok:
            lang = identity._line_lang()
            done = message_builders.link_done(lang, identity.partner_id.name or None)
            self._reply(event, [done], identity)
        else:
            self.channel._log_link_failure(outcome.line_user_id, outcome.reason)
        return outcome.status.value
