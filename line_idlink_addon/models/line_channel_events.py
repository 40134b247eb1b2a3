"""What the addon does with each webhook event: model methods of ``line.channel`` that bridges
extend the Odoo way (``_inherit = "line.channel"`` and ``super()``).

The event cron (``line.webhook.event._cron_process``) creates one ``EventRun`` per channel and
per call (``lib/event_run.py``: the LINE API client, the account linker, the calls to LINE made
after the event's commit, ``run.reply``) and calls, for each event, the method
:meth:`LineChannel._line_event_methods` gives for its type with ``(run, event)``; ``event`` is
the core's ``StoredEvent``.

Dispatch:

* ``postback``: the data's ``action=`` (rich-menu presets, buttons of the builders) goes to
  :meth:`LineChannel._line_handle_action` with the other fields as ``params`` (LINE's
  ``postback.params`` under ``"line_params"``);
* ``message`` (text, from a user's 1:1 chat): a text equal to a keyword of an action
  (:meth:`LineChannel._line_match_keyword`: defaults in code, overridden per channel by
  ``line.chat.keyword``) goes to the same :meth:`LineChannel._line_handle_action`, params ``{}``;
* what no addon handles (``_line_handle_action`` returned None, a message without keyword) gets
  :meth:`LineChannel._line_answer_unhandled`: the channel's ``unhandled_reply``, or silence when
  it is empty.

Every method runs as superuser and changes only the database; what it says to LINE goes through
``run.reply`` (after the commit: reply, else a queued push) and ``run.after_commit``. Answers
about customer data must re-apply the portal's rules for ``identity.partner_id`` themselves.
"""

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from line_idlink import message_builders, postbacks, texts
from line_idlink.linking import LinkStatus

from .line_chat_keyword import normalize_keyword

PORTAL_PATH = "/my/line"  # the portal page of the customer's LINE accounts
TILES = "line_idlink_addon/static/img/richmenu_tile_%s.png"


class LineChannel(models.Model):
    _inherit = "line.channel"

    chat_keyword_ids = fields.One2many(
        "line.chat.keyword", "channel_id", string="Chat Keywords",
        help="A customer who sends one of these words gets what the rich-menu button of the same "
             "action gives. An action without a line here keeps its default keywords; an empty "
             "line turns them off.")
    unhandled_reply = fields.Text(
        "Answer to Other Messages", translate=True,
        default=lambda self: self._line_default_unhandled_reply(),
        help="Sent to a customer whose message or button no feature answers. Empty: nothing is "
             "answered.")

    @api.constrains("unhandled_reply")
    def _check_unhandled_reply(self):
        for channel in self:
            if channel.unhandled_reply and texts.u16len(channel.unhandled_reply) > \
                    texts.TEXT_MAX:
                raise ValidationError(_("The answer to other messages is longer than LINE's "
                                        "%(limit)s characters.", limit=texts.TEXT_MAX))

    @api.model_create_multi
    def create(self, vals_list):
        channels = super().create(vals_list)
        # the default answer in every installed language, not only the creator's
        for channel, vals in zip(channels, vals_list):
            if "unhandled_reply" not in vals and \
                    "default_unhandled_reply" not in self.env.context:
                channel._line_translate_default_unhandled_reply()
        return channels

    def _line_translate_default_unhandled_reply(self):
        langs = [code for code, _name in self.env["res.lang"].get_installed()]
        self.sudo().update_field_translations("unhandled_reply", {
            lang: self.with_context(lang=lang)._line_default_unhandled_reply() for lang in langs})

    @api.model
    def _line_default_unhandled_reply(self):
        """A short help text listing the first keyword of each action (in the context's
        language)."""
        listed = "、".join(f"「{words[0]}」" for words in self._line_default_keywords().values()
                          if words)
        return _("Sorry, I cannot answer this message. Send %(keywords)s, or use the menu below.",
                 keywords=listed)

    # ---- dispatch -------------------------------------------------------------------------------
    def _line_event_methods(self):
        """``{webhook event type: bound method(run, event)}``; a type missing here is finished
        as "unhandled". A bridge adds a type with ``super()`` and a dict update."""
        self.ensure_one()
        return {"follow": self._line_on_follow, "unfollow": self._line_on_unfollow,
                "postback": self._line_on_postback, "message": self._line_on_message,
                "accountLink": self._line_on_account_link}

    def _line_event_identity(self, event):
        """The sender's ``line.identity`` (sudo), created on first contact; None without a
        user id."""
        if not event.user_id:
            return None
        identity = self.env["line.identity"]._line_get_or_create(self, event.user_id)
        identity.last_event_at = fields.Datetime.now()
        return identity

    def _line_on_follow(self, run, event):
        identity = self._line_event_identity(event)
        if identity is None:
            return None
        identity.follow_state = "followed"
        identity._line_update_profile(run.api)
        lang = identity._line_lang()
        run.apply_rich_menu(identity)
        if identity.linked:
            run.reply(event, [message_builders.link_done(lang, identity.partner_id.name or None)],
                      identity)
        else:
            run.reply(event, [message_builders.link_first(lang)], identity)
        return identity.id

    def _line_on_unfollow(self, run, event):
        identity = self._line_event_identity(event)
        if identity is not None:
            identity.follow_state = "blocked"  # the link stays: unfollowing is not unlinking
        return identity and identity.id

    def _line_on_postback(self, run, event):
        identity = self._line_event_identity(event)
        if identity is None:
            return None
        postback = event.data.get("postback") or {}
        params = postbacks.parse_postback(postback.get("data"))
        action = params.pop("action", None)
        if isinstance(postback.get("params"), dict):
            params["line_params"] = postback["params"]
        outcome = self._line_handle_action(run, event, identity, action, params) if action \
            else None
        if outcome is None:
            return self._line_answer_unhandled(run, event, identity)
        return outcome

    def _line_on_message(self, run, event):
        """A message from a user's 1:1 chat: a text equal to a keyword triggers its action;
        anything else gets the default answer. Group and room messages are left alone (the
        bot is not being asked)."""
        if (event.data.get("source") or {}).get("type") != "user":
            return None
        identity = self._line_event_identity(event)
        if identity is None:
            return None
        message = event.data.get("message") or {}
        if message.get("type") == "text":
            action = self._line_match_keyword(message.get("text"), identity)
            if action:
                outcome = self._line_handle_action(run, event, identity, action, {})
                if outcome is not None:
                    return outcome
        return self._line_answer_unhandled(run, event, identity)

    def _line_on_account_link(self, run, event):
        outcome = run.linker.complete_link(event)
        identity = self._line_event_identity(event)
        if outcome.status == LinkStatus.LINKED:
            identity.invalidate_recordset()
            partner = identity.partner_id
            identity.message_post(body=_("Linked to %(partner)s through the LINE account-link"
                                         " dialog.", partner=partner.display_name))
            partner.message_post(body=_("LINE account %(name)s linked.",
                                        name=identity.display_name))
            run.apply_rich_menu(identity)
        if outcome.ok:
            lang = identity._line_lang()
            run.reply(event, [message_builders.link_done(lang, identity.partner_id.name or None)],
                      identity)
        else:
            self._log_link_failure(outcome.line_user_id, outcome.reason)
        return outcome.status.value

    # ---- actions --------------------------------------------------------------------------------
    def _line_handle_action(self, run, event, identity, action, params):
        """One user action: a postback's ``action=`` (``params``: the postback's other fields,
        plus LINE's ``postback.params`` under ``"line_params"``) or a chat keyword's action
        (``params`` = ``{}``). Returns an outcome string when handled, None when not (the
        caller then answers with :meth:`_line_answer_unhandled`).

        A bridge handles its own actions and calls ``super()`` for the others::

            def _line_handle_action(self, run, event, identity, action, params):
                if action == "points":
                    if not identity.linked:
                        return self._line_invite_to_link(run, event, identity)
                    run.reply(event, [flex_builders.points(...)], identity)
                    return "points"
                return super()._line_handle_action(run, event, identity, action, params)

        The base answers ``link``, ``unlink`` (the question), ``unlink_confirm``,
        ``unlink_cancel`` (its "no") and ``richmenu_switch`` (LINE's tab switch: nothing to say).
        """
        lang = identity._line_lang()
        if action == "link":
            if identity.linked:
                run.reply(event, [message_builders.link_done(lang)], identity)
                return "already_linked"
            token = run.api.issue_link_token(identity.line_user_id)
            run.linker.remember_link_token(identity.line_user_id, token)
            run.reply(event, [message_builders.link_account(self._line_base_url(), token, lang)],
                      identity)
            return "link_token"
        if action == "unlink":
            if not identity.linked:
                return self._line_invite_to_link(run, event, identity)
            run.reply(event, [message_builders.unlink_question(lang)], identity)
            return "unlink_question"
        if action == "unlink_confirm":
            if identity._line_unlink(after_commit=run.after_commit):
                run.reply(event, [message_builders.unlink_done(lang)], identity)
            else:
                run.reply(event, [message_builders.link_first(lang)], identity)
            return "unlinked"
        if action == "unlink_cancel":
            if not identity.linked:
                return self._line_invite_to_link(run, event, identity)
            run.reply(event, [message_builders.unlink_kept(lang)], identity)
            return "unlink_kept"
        if action == "richmenu_switch":
            return "richmenu_switch"  # LINE already switched the tab
        return None

    def _line_invite_to_link(self, run, event, identity, reason=None):
        """Answer "please link first" with a link button (for actions that need a linked
        customer); returns ``"not_linked"``."""
        run.reply(event, [message_builders.link_first(identity._line_lang(), reason)], identity)
        return "not_linked"

    def _line_answer_unhandled(self, run, event, identity):
        """What no addon handles: the channel's ``unhandled_reply`` in the customer's language
        (best effort: a reply, else a queued push), nothing when it is empty."""
        text = (self.with_context(lang=self._line_chat_lang(identity)).unhandled_reply or "")
        if not text.strip():
            return "unhandled"
        run.reply(event, [message_builders.text(text.strip())], identity)
        return "unhandled_answered"

    def _line_chat_lang(self, identity):
        """The Odoo language (an installed one) of a chat answer: the linked customer's, else
        the LINE user's (ja or en), else the environment's."""
        installed = [code for code, _name in self.env["res.lang"].get_installed()]
        wanted = [identity.partner_id.lang] if identity.linked and identity.partner_id.lang \
            else []
        wanted.append(identity._line_lang())
        for code in wanted:
            if code in installed:
                return code
            for lang in installed:
                if lang.split("_")[0] == code.split("_")[0]:
                    return lang
        return self.env.lang or "en_US"

    # ---- keywords -------------------------------------------------------------------------------
    @api.model
    def _line_default_keywords(self):
        """``{action: [keywords]}`` a text message must equal (trimmed, case-insensitive) to
        trigger the action; translatable with ``_()``, overridden per channel by
        ``line.chat.keyword``. Bridges add theirs::

            keywords = super()._line_default_keywords()
            keywords["points"] = [_("ポイント")]
            return keywords
        """
        return {"link": [_("連携"), _("連携する")], "unlink": [_("連携解除")]}

    def _line_keywords(self, identity):
        """``{action: [normalized keywords]}`` of this channel in the customer's language."""
        self.ensure_one()
        channel = self.with_context(lang=self._line_chat_lang(identity))
        keywords = {action: [normalize_keyword(word) for word in words]
                    for action, words in channel._line_default_keywords().items()}
        for record in channel.chat_keyword_ids:
            keywords[record.action] = record._line_keyword_list()
        return keywords

    def _line_match_keyword(self, text, identity):
        """The action whose keyword ``text`` is, or None."""
        key = normalize_keyword(text)
        if not key:
            return None
        for action, words in self._line_keywords(identity).items():
            if key in words:
                return action
        return None

    # ---- the ready-made linked rich menu ----------------------------------------------------------
    def _line_linked_menu_buttons(self):
        """The buttons of the ready-made linked rich menu ("Create default menus"), in
        ``sequence`` order: dicts ``{"preset": <postback preset>, "label", "sequence", "tile"}``
        or, for a link, ``{"uri": <absolute URL>, "label", "sequence", "tile"}``. ``tile`` is
        the addon path of the button's picture (PNG, any size: it is scaled into its cell).
        A bridge appends its own::

            return super()._line_linked_menu_buttons() + [{
                "preset": "points", "label": _("ポイント"), "sequence": 30,
                "tile": "line_idlink_loyalty/static/img/richmenu_tile_points.png"}]
        """
        self.ensure_one()
        return [
            {"preset": "unlink", "label": _("連携解除"), "sequence": 10,
             "tile": TILES % "unlink"},
            {"uri": self._line_base_url().rstrip("/") + PORTAL_PATH, "label": _("連携設定"),
             "sequence": 90, "tile": TILES % "settings"},
        ]
