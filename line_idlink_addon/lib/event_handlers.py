"""What the addon does with each webhook event type, run by the event cron through the core's
``WebhookReceiver.process`` (one handler per type, each gets a ``StoredEvent``).

Every handler works as superuser on one channel; the LINE API client is opened lazily once per
cron run. Protocol decisions (nonces, link/unlink rules) are the core's ``AccountLinker``.
"""

import logging

from odoo import _, fields

from line_idlink import messages
from line_idlink.linking import LinkStatus

_logger = logging.getLogger(__name__)


class ChannelEventHandlers:
    def __init__(self, channel):
        self.channel = channel.sudo()
        self.env = self.channel.env
        self._api = None
        self.linker = self.channel._line_linker()

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

    # ---- helpers ------------------------------------------------------------------------------
    def _identity(self, event):
        user_id = event.user_id
        if not user_id:
            return None
        identity = self.env["line.identity"]._line_get_or_create(self.channel, user_id)
        identity.last_event_at = fields.Datetime.now()
        return identity

    def _reply(self, event, message_list):
        if event.reply_token:
            self.api.reply(event.reply_token, message_list)

    # ---- handlers -----------------------------------------------------------------------------
    def on_follow(self, event):
        identity = self._identity(event)
        if identity is None:
            return None
        identity.follow_state = "followed"
        identity._line_update_profile(self.api)
        lang = identity._line_lang()
        identity._line_rich_menu_refresh(apply_now=True)
        if identity.linked:
            self._reply(event, [messages.link_done(lang, identity.partner_id.name or None)])
        else:
            self._reply(event, [messages.link_first(lang)])
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
        data = messages.parse_postback((event.data.get("postback") or {}).get("data"))
        action = data.get("action")
        lang = identity._line_lang()
        if action == "link":
            if identity.linked:
                self._reply(event, [messages.link_done(lang)])
                return "already_linked"
            token = self.api.issue_link_token(identity.line_user_id)
            self.linker.remember_link_token(identity.line_user_id, token)
            self._reply(event, [messages.link_account(self.channel._line_base_url(), token,
                                                      lang)])
            return "link_token"
        if action == "unlink":
            self._reply(event, [messages.unlink_question(lang) if identity.linked
                                else messages.link_first(lang)])
            return "unlink_question"
        if action == "unlink_confirm":
            if not identity._line_unlink(reply_token=event.reply_token):
                self._reply(event, [messages.link_first(lang)])
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
            identity._line_rich_menu_refresh(apply_now=True)
        if outcome.ok:
            lang = identity._line_lang()
            self._reply(event, [messages.link_done(lang, identity.partner_id.name or None)])
        else:
            self.channel._log_link_failure(outcome.line_user_id, outcome.reason)
        return outcome.status.value
