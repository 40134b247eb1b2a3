"""LINE Login: "Link with LINE" on /my/line and "Log in with LINE" on /web/login and signup.

Flow: ``/line/login/start`` stores state, nonce, the PKCE verifier and Odoo's ``redirect``
target (a same-site path, else ``/my``) in the Odoo session and redirects to LINE
(``bot_prompt=normal``); ``/line/login/callback`` checks them through
``LoginClient.exchange_code`` (server-side code exchange, ID token verified) and then:

- *link* (a logged-in user): ``AccountLinker.link_from_login`` links the partner to ``sub``,
  refused if that LINE user is linked to someone else;
- *login* (a visitor): a LINE user linked to a partner whose user may log in with LINE
  (``res.users._line_may_login``) is logged in with a one-time ticket (credential type
  ``line_login``, see ``models/res_users.py``) and sent to the stored ``redirect`` (so a
  customer who came from ``/line/link?linkToken=...`` lands back there); any other LINE user
  gets a page "sign up or log in, then we link": ``sub`` waits in the session (10 minutes) and
  ``/line/login/pending`` links it right after the login, then shows ``/my/line`` (the
  ``redirect`` is not carried through that detour). Nobody is ever bound by e-mail address.
"""

import logging
import time
from urllib.parse import quote, urlsplit

from odoo import _, http
from odoo.http import request

from line_idlink.linking import LinkStatus
from line_idlink.login import LoginError

_logger = logging.getLogger(__name__)

SESSION_REQUEST = "line_login_request"
SESSION_PENDING = "line_login_pending"
PENDING_TTL = 600
MAX_REDIRECT_LENGTH = 2048


def _local(url, default="/my"):
    """``url`` if it is a relative path on this site, else ``default``.

    An open redirect would send the freshly logged-in visitor to another site, so refuse
    anything a browser could read as another host: ``//host``, ``/\\host`` (browsers treat ``\\``
    as ``/``), schemes, control characters (stripped by browsers) and absurd lengths."""
    if not isinstance(url, str) or not url.startswith("/") or len(url) > MAX_REDIRECT_LENGTH:
        return default
    if url.startswith("//") or "\\" in url or any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return default
    parts = urlsplit(url)
    return default if parts.scheme or parts.netloc else url


class LineLoginController(http.Controller):

    def _error(self, message, status=400):
        return request.render("line_idlink_addon.link_error", {"error": message}, status=status)

    def _channel(self, channel_id):
        try:
            channel = request.env["line.channel"].sudo().browse(int(channel_id)).exists()
        except (TypeError, ValueError):
            return None
        return channel if channel and channel._line_login_ready() else None

    @http.route("/line/login/start", type="http", auth="public", methods=["GET"], website=True,
                sitemap=False)
    def line_login_start(self, channel=None, mode="login", redirect=None, **kwargs):
        line_channel = self._channel(channel)
        if not line_channel:
            return self._error(_("LINE Login is not available."), status=404)
        public = request.env.user._is_public()
        if mode == "link" and public:
            return request.redirect("/web/login?redirect=" + quote("/my/line", safe=""))
        auth = line_channel._line_login_client().authorization_request(
            bot_prompt="normal", ui_locales=(request.env.lang or "ja").replace("_", "-"))
        request.session[SESSION_REQUEST] = dict(
            auth.to_session(), channel_id=line_channel.id, mode="login" if public else "link",
            uid=None if public else request.env.uid, redirect=_local(redirect))
        return request.redirect(auth.url, local=False)

    @http.route("/line/login/callback", type="http", auth="public", methods=["GET"],
                website=True, sitemap=False)
    def line_login_callback(self, **params):
        pending = request.session.pop(SESSION_REQUEST, None)
        if not pending:
            return self._error(_("This LINE Login has expired or was started in another browser."
                                 " Please try again."))
        channel = self._channel(pending.get("channel_id"))
        if not channel:
            return self._error(_("LINE Login is not available."), status=404)
        try:
            result = channel._line_login_client().exchange_code(params, pending)
        except LoginError as exc:
            _logger.info("LINE Login refused for channel %s: %s", channel.id, exc.error)
            return self._error(_("LINE Login failed: %(reason)s", reason=exc.description))
        if not result.id_claims:
            return self._error(_("LINE did not return the account identity (openid)."))
        if pending.get("mode") == "link":
            if request.env.user._is_public() or request.env.uid != pending.get("uid"):
                return self._error(_("You were logged out during LINE Login. Please log in and"
                                     " try again."))
            return self._link(channel, request.env.user, result)
        return self._login(channel, result, pending.get("redirect"))

    # ---- helpers -------------------------------------------------------------------------------
    def _link(self, channel, user, result, claims=None):
        claims = claims or result.id_claims
        outcome = channel._line_linker().link_from_login(user.partner_id.id, claims)
        if outcome.status == LinkStatus.LINE_USER_TAKEN:
            channel._log_link_failure(claims.get("sub"), outcome.reason)
            return self._error(_("This LINE account is already linked to another customer."),
                               status=409)
        identity = request.env["line.identity"]._line_get_or_create(channel, claims["sub"])
        values = {"name": claims.get("name") or identity.name,
                  "picture_url": claims.get("picture") or identity.picture_url}
        identity.sudo().write(values)
        if result is not None:
            identity._line_store_login_tokens(result.tokens)
        if outcome.status == LinkStatus.LINKED:
            identity.message_post(body=_("Linked to %(partner)s with LINE Login.",
                                         partner=user.partner_id.display_name))
            user.partner_id.sudo().message_post(body=_(
                "LINE account %(name)s linked with LINE Login.", name=identity.display_name))
            identity._line_rich_menu_refresh()  # the linked menu, applied by the rich-menu cron
        return request.redirect("/my/line?linked=1")

    def _login(self, channel, result, redirect):
        sub = result.id_claims["sub"]
        identity = request.env["line.identity"].sudo().search(
            [("channel_id", "=", channel.id), ("line_user_id", "=", sub), ("linked", "=", True)],
            limit=1)
        users = identity.partner_id.with_context(active_test=True).user_ids if identity else []
        user = next((u for u in users if u._line_may_login()), None)
        if user is None:
            # unknown here (or linked to someone who must use the password): link after login
            request.session[SESSION_PENDING] = {
                "channel_id": channel.id, "sub": sub, "name": result.id_claims.get("name"),
                "picture": result.id_claims.get("picture"), "expires": time.time() + PENDING_TTL,
                "tokens": {"access_token": result.tokens.access_token,
                           "refresh_token": result.tokens.refresh_token,
                           "expires_in": result.tokens.expires_in}}
            return request.render("line_idlink_addon.login_unknown", {
                "line_name": result.id_claims.get("name") or _("your LINE account"),
                "next": quote("/line/login/pending", safe="")})
        identity._line_store_login_tokens(result.tokens)
        ticket = user._line_issue_login_ticket()
        request.env.cr.commit()  # authenticate() checks the ticket in its own cursor
        request.session.authenticate(request.db, {
            "type": "line_login", "login": user.sudo().login, "line_ticket": ticket})
        return request.redirect(_local(redirect))

    @http.route("/line/login/pending", type="http", auth="user", methods=["GET"], website=True,
                sitemap=False)
    def line_login_pending(self, **kwargs):
        pending = request.session.pop(SESSION_PENDING, None)
        if not pending or pending.get("expires", 0) < time.time():
            return request.redirect("/my/line")
        channel = self._channel(pending.get("channel_id"))
        if not channel:
            return self._error(_("LINE Login is not available."), status=404)
        tokens = _SessionTokens(pending.get("tokens") or {})
        return self._link(channel, request.env.user, _SessionResult(tokens), claims={
            "sub": pending["sub"], "name": pending.get("name"), "picture": pending.get("picture")})


class _SessionTokens:
    def __init__(self, data):
        self.access_token = data.get("access_token")
        self.refresh_token = data.get("refresh_token")
        self.expires_in = int(data.get("expires_in") or 0)


class _SessionResult:
    def __init__(self, tokens):
        self.tokens = tokens
