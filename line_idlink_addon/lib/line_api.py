"""The one place where the addon talks to LINE's Messaging API (tests point ``api_base`` at the
emulator; Odoo's test framework does not block urllib3, so nothing else may be called).

Built from the core's :class:`~line_idlink.sender.Sender` (retry keys, backoff, rate limits)
and :class:`~line_idlink.richmenu_publisher.RichMenuClient`; this module only adds the few read
calls the addon needs and one error type, :class:`LineCallFailed`, whose ``transient`` flag tells
the event queue whether waiting and trying again can help.
"""

from line_idlink.sender import Sender
from line_idlink.retry import RETRY_ALWAYS, LineApiError, RetriesExhausted
from line_idlink.richmenu_publisher import RichMenuClient


RICH_MENU_POLL_SECONDS = 40.0
RICH_MENU_BATCH_TIMEOUT = 1800.0


class LineCallFailed(Exception):
    def __init__(self, message, transient=False):
        super().__init__(message)
        self.transient = transient


def _raise(outcome, endpoint):
    if outcome.failure is None:
        return outcome.response.data
    error = outcome.error()
    # the core's errors already name their endpoint ("getBotInfo: HTTP 500: ..."): say it once
    text = str(error) if str(error).startswith(f"{endpoint}:") else f"{endpoint}: {error}"
    raise LineCallFailed(text, transient=isinstance(error, RetriesExhausted))


class LineApi:
    """Messaging API calls for one ``line.channel`` record (read its secrets with sudo)."""

    def __init__(self, api_base, access_token, max_attempts=3, **timing):
        """``timing``: ``sleep``/``clock`` (and ``limiter``) passed to the core's Sender: tests
        inject the emulator's frozen clock so batch polling and backoff never really wait."""
        if not access_token:
            raise LineCallFailed("the channel has no access token")
        self.sender = Sender((api_base.rstrip("/"), access_token), max_attempts=max_attempts,
                             **timing)
        # getRichMenuBatchProgress is limited to 100 calls an hour: polls start after 1 s and back
        # off to every 40 s at most
        self.richmenus = RichMenuClient(sender=self.sender, poll_interval=RICH_MENU_POLL_SECONDS,
                                        batch_timeout=RICH_MENU_BATCH_TIMEOUT)
        self.caller = self.sender.caller

    def close(self):
        self.sender.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read(self, endpoint, method, *args):
        # reads and link-token issuance have no side effect a retry could repeat
        outcome = self.caller.call(endpoint, lambda **kw: method(*args, **kw),
                                   retry_on=RETRY_ALWAYS)
        return _raise(outcome, endpoint)

    def issue_link_token(self, user_id):
        api = self.caller.api
        return self._read("issueLinkToken", api.issue_link_token_with_http_info,
                          user_id).link_token

    def profile(self, user_id):
        data = self._read("getProfile", self.caller.api.get_profile_with_http_info, user_id)
        return {"display_name": data.display_name, "picture_url": data.picture_url,
                "language": getattr(data, "language", None)}

    def bot_info(self):
        return self._read("getBotInfo", self.caller.api.get_bot_info_with_http_info)

    def quota(self):
        return self._read("getMessageQuota", self.caller.api.get_message_quota_with_http_info)

    def quota_consumption(self):
        return self._read("getMessageQuotaConsumption",
                          self.caller.api.get_message_quota_consumption_with_http_info)

    def reply(self, reply_token, messages):
        result = self.sender.reply(reply_token, messages)
        if not result.ok:
            raise LineCallFailed(f"replyMessage: {result.error}")
        return result

    def push(self, to, messages, retry_key=None, key_store=None):
        """Push with a retry key; ``key_store`` persists the key before the first attempt."""
        return self.sender.push(to, messages, retry_key=retry_key, key_store=key_store)

    def link_rich_menu(self, user_id, rich_menu_id):
        try:
            if rich_menu_id:
                self.richmenus.link_user(user_id, rich_menu_id)
            else:
                self.richmenus.unlink_user(user_id)
        except LineApiError as exc:
            raise LineCallFailed(f"rich menu: {exc}", transient=isinstance(exc, RetriesExhausted))

    def delete_rich_menu_alias(self, alias_id):
        """Delete an alias; False when it was already gone (the core client has no such call)."""
        outcome = self.caller.call(
            "deleteRichMenuAlias", lambda **kw: self.caller.api.delete_rich_menu_alias_with_http_info(
                alias_id, **kw))
        if outcome.failure is not None and outcome.failure.status == 404:
            return False
        _raise(outcome, "deleteRichMenuAlias")
        return True
