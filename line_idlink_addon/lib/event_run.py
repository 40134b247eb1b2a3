"""One run of the event cron on one channel: what the ``line.channel`` event methods
(``models/line_channel_events.py``) get as ``run``.

The event cron (``line.webhook.event._cron_process``) creates one :class:`EventRun` per channel
and per call, dispatches each ``StoredEvent`` to the method ``line.channel._line_event_methods()``
gives for its type (bridges extend them with ``_inherit`` and ``super()``), and commits each
event. The run holds what those methods share: the LINE API client (opened lazily, once per run),
the core's ``AccountLinker`` (protocol decisions: nonces, link/unlink rules), and the calls to
LINE of the event being processed (``after_commit``).

Order of the work, so that LINE and Odoo never disagree after a failure (a call to LINE is not
undone by a database rollback):

1. the event method changes only the database (link, unlink, follow state, chatter; rich menus
   are marked pending, which the rich-menu cron applies whatever happens next) and lists the
   calls to LINE it wants in ``after_commit`` (:meth:`EventRun.reply`,
   :meth:`EventRun.apply_rich_menu`, or any callable); reads from LINE (profile, link token)
   have no effect a retry could repeat;
2. the event cron commits that work together with the event's state (``done``);
3. then the listed calls run, each on its own: the rich menu applied now (best effort, the
   rich-menu cron retries it), then the reply. A reply that fails (its token expired after 60 s,
   or was used) is sent as a push through the durable outgoing queue (``line.message``), so a
   confirmation is never lost and never sent twice.
"""

import logging

from line_idlink.retry import LineApiError

from .line_api import LineCallFailed

_logger = logging.getLogger(__name__)


class EventRun:
    """The per-run state of the event methods of one channel (see the module doc).

    ``run.api``: the channel's LINE API client (lazy); ``run.linker``: the core's
    ``AccountLinker``; ``run.after_commit``: callables run after the event's commit;
    ``run.reply(event, messages, identity)``; ``run.apply_rich_menu(identity)``.
    """

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

    # ---- what event methods ask for ---------------------------------------------------------------
    def reply(self, event, messages, identity=None):
        """Answer ``event`` with ``messages`` (LINE message dicts) after the commit: by reply
        while its token lives, else by a push queued in ``line.message``. An event without a
        reply token (standby mode: another module has the chat) is not answered."""
        token = event.reply_token
        if not token:  # standby mode (another module answers) or LINE sent none: say nothing
            return
        user_id = identity.line_user_id if identity else event.user_id
        self.after_commit.append(lambda: self._send_reply(token, user_id, messages,
                                                          event.event_id, identity))

    def _send_reply(self, token, user_id, messages, event_id, identity=None):
        try:
            result = self.api.sender.reply(token, messages)
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
                self.channel, user_id, messages,
                origin=identity.with_env(self.env) if identity else None)

    def apply_rich_menu(self, identity):
        """Mark the identity's menu pending now (committed with the event; the rich-menu cron
        applies it whatever happens) and apply it right after the commit."""
        identity._line_rich_menu_refresh()
        self.after_commit.append(lambda: self._apply_now(identity))

    def _apply_now(self, identity):
        identity = identity.with_env(self.env).exists()
        if identity and identity.rich_menu_state == "pending":  # else applied since
            identity._line_rich_menu_refresh(apply_now=True)  # a failure: the cron retries
