"""LINE Login: "Link with LINE" on /my/line and "Log in with LINE" on /web/login and signup.

Flow: ``/line/login/start`` stores state, nonce, the PKCE verifier and Odoo's ``redirect``
target (a same-site path, else ``/my``) in the Odoo session and redirects to LINE
(``bot_prompt=normal``); ``/line/login/callback`` checks them through
``LoginClient.exchange_code`` (server-side code exchange, ID token verified) and then:

- *link* (a logged-in user): ``AccountLinker.link_from_login`` links the partner to ``sub``,
  refused if that LINE user is linked to someone else, then goes back to the ``redirect``
  given to the start (a same-site path, e.g. the shop's order confirmation), else ``/my/line``;
- *login* (a visitor): a LINE user linked to a partner whose user may log in with LINE
  (``res.users._line_may_login``) is logged in with a one-time ticket (credential type
  ``line_login``, see ``models/res_users.py``) and sent to the stored ``redirect`` (so a
  customer who came from ``/line/link?linkToken=...`` lands back there); any other LINE user
  gets a page "sign up or log in, then we link": ``sub`` waits in the session (10 minutes);
  the login and sign-up pages say so, with a button that cancels it (POST
  ``/line/login/pending/cancel``); after the login ``/line/login/pending`` asks the account
  that logged in to confirm, naming the LINE account (display name and picture), and only its
  POST (``/line/login/pending/confirm``, CSRF-checked) links, then shows ``/my/line`` (the
  ``redirect`` is not carried through that detour). On a shared browser the next person to log
  in therefore sees whose LINE account would be linked and can refuse. A "log in with LINE" of
  a linked user drops a pending one. Nobody is ever bound by e-mail address.

The callback checks ``state`` before anything else: a callback this browser did not start
(a crafted link) gets a fixed refusal and leaves the pending login request usable. Refusals
are fixed, translated sentences: LINE's (or an attacker's) ``error_description`` is logged
only as its ``error`` code, never shown.

"Log in with LINE" uses the LINE Login channel of the request's company (the website's
company when the website module serves the page, else the environment's company), see
``line.channel._line_login_channel``; ``/line/login/start`` refuses another company's channel.
Redirect targets from the visitor go through the core's one rule,
:func:`line_idlink.redirects.safe_redirect`.
"""

import hmac
import logging
import time
from urllib.parse import quote

from odoo import _, http
from odoo.http import request

from odoo.addons.auth_signup.controllers.main import AuthSignupHome

from line_idlink.linking import LinkStatus
from line_idlink.login import LoginDenied, LoginError
from line_idlink.redirects import is_same_site, safe_redirect

_logger = logging.getLogger(__name__)

SESSION_REQUEST = "line_login_request"
SESSION_PENDING = "line_login_pending"
PENDING_TTL = 600


def _local(url, default="/my"):
    """``url`` if it is a path on this site, else ``default``: the core's one rule for a
    same-site redirect (an open redirect would send the freshly logged-in visitor elsewhere)."""
    return safe_redirect(url, default)


def _same(a, b):
    return isinstance(a, str) and isinstance(b, str) and hmac.compare_digest(a.encode(), b.encode())


def _pending_login():
    """The LINE login waiting in this session to be linked, or None (an expired one is dropped)."""
    pending = request.session.get(SESSION_PENDING)
    if pending and pending.get("expires", 0) < time.time():
        request.session.pop(SESSION_PENDING, None)
        return None
    return pending or None


class LineLoginController(http.Controller):

    def _error(self, message, status=400):
        return request.render("line_idlink_addon.link_error", {"error": message}, status=status)

    def _channel(self, channel_id):
        try:
            channel = request.env["line.channel"].sudo().browse(int(channel_id)).exists()
        except (TypeError, ValueError):
            return None
        return channel if channel and channel._line_login_ready() else None

    def _company_channel(self, channel_id=None):
        """The LINE Login channel of the request's company; ``channel_id``, when given, must be
        it (another company's channel is refused like an unknown one)."""
        channel = request.env["line.channel"]._line_login_channel()
        if not channel or (channel_id not in (None, "") and str(channel.id) != str(channel_id)):
            return None
        return channel

    @http.route("/line/login/start", type="http", auth="public", methods=["GET"], website=True,
                sitemap=False)
    def line_login_start(self, channel=None, mode="login", redirect=None, **kwargs):
        line_channel = self._company_channel(channel)
        if not line_channel:
            return self._error(_("LINE Login is not available."), status=404)
        public = request.env.user._is_public()
        if mode == "link" and public:
            return request.redirect("/web/login?redirect=" + quote("/my/line", safe=""))
        auth = line_channel._line_login_client().authorization_request(
            bot_prompt="normal", ui_locales=(request.env.lang or "ja").replace("_", "-"))
        request.session[SESSION_REQUEST] = dict(
            auth.to_session(), channel_id=line_channel.id, mode="login" if public else "link",
            uid=None if public else request.env.uid, redirect=safe_redirect(redirect, None))
        return request.redirect(auth.url, local=False)

    @http.route("/line/login/callback", type="http", auth="public", methods=["GET"],
                website=True, sitemap=False)
    def line_login_callback(self, **params):
        pending = request.session.get(SESSION_REQUEST)
        if not pending or not _same(params.get("state"), pending.get("state")):
            # not the callback of the login this browser started (a crafted or stale link):
            # refused before reading anything else, and the real one stays usable
            return self._error(_("This LINE Login has expired or was started in another browser."
                                 " Please try again."))
        request.session.pop(SESSION_REQUEST, None)
        channel = self._channel(pending.get("channel_id"))
        if not channel:
            return self._error(_("LINE Login is not available."), status=404)
        try:
            result = channel._line_login_client().exchange_code(params, pending)
        except LoginDenied as exc:
            _logger.info("LINE Login refused for channel %s: %s", channel.id, exc.error)
            return self._error(_("LINE Login was cancelled or refused. Please try again."))
        except LoginError as exc:
            _logger.info("LINE Login failed for channel %s: %s", channel.id, exc.error)
            return self._error(_("LINE Login failed. Please try again."))
        if not result.id_claims:
            return self._error(_("LINE did not return the account identity (openid)."))
        if pending.get("mode") == "link":
            if request.env.user._is_public() or request.env.uid != pending.get("uid"):
                return self._error(_("You were logged out during LINE Login. Please log in and"
                                     " try again."))
            return self._link(channel, request.env.user.partner_id, result,
                              redirect=pending.get("redirect"))
        return self._login(channel, result, pending.get("redirect"))

    # ---- helpers -------------------------------------------------------------------------------
    def _link(self, channel, partner, result, claims=None, redirect=None):
        """Link ``partner`` to the LINE user of ``claims`` (default: the ID token's), then go to
        ``redirect`` when it is a same-site path (the page that asked for the link), else to
        ``/my/line``."""
        claims = claims or result.id_claims
        outcome = channel._line_linker().link_from_login(partner.id, claims)
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
                                         partner=partner.display_name))
            partner.sudo().message_post(body=_(
                "LINE account %(name)s linked with LINE Login.", name=identity.display_name))
            identity._line_rich_menu_refresh()  # the linked menu, applied by the rich-menu cron
        return request.redirect(safe_redirect(redirect, "/my/line?linked=1"))

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
        self._drop_pending()  # an older LINE login waiting here may be someone else's
        ticket = user._line_issue_login_ticket()
        request.env.cr.commit()  # authenticate() checks the ticket in its own cursor
        request.session.authenticate(request.db, {
            "type": "line_login", "login": user.sudo().login, "line_ticket": ticket})
        return request.redirect(_local(redirect))

    @http.route("/line/login/pending", type="http", auth="user", methods=["GET"], website=True,
                sitemap=False)
    def line_login_pending(self, **kwargs):
        """After logging in: "link the LINE account X to your account?" (nothing linked yet)."""
        pending = _pending_login()
        channel = pending and self._channel(pending.get("channel_id"))
        if not channel:
            request.session.pop(SESSION_PENDING, None)
            return request.redirect("/my/line")
        return request.render("line_idlink_addon.login_pending_confirm", {
            "line_name": pending.get("name") or _("your LINE account"),
            "picture_url": pending.get("picture"),
            "channel_name": channel.name,
            "partner": request.env.user.partner_id,
        })

    @http.route("/line/login/pending/confirm", type="http", auth="user", methods=["POST"],
                website=True, sitemap=False)
    def line_login_pending_confirm(self, **kwargs):
        pending = _pending_login()
        request.session.pop(SESSION_PENDING, None)
        channel = pending and self._channel(pending.get("channel_id"))
        if not channel:
            return self._error(_("This LINE Login has expired or was started in another browser."
                                 " Please try again."))
        tokens = _SessionTokens(pending.get("tokens") or {})
        claims = {"sub": pending["sub"], "name": pending.get("name"),
                  "picture": pending.get("picture")}
        return self._link(channel, request.env.user.partner_id, _SessionResult(tokens),
                          claims=claims)

    @http.route("/line/login/pending/cancel", type="http", auth="public", methods=["POST"],
                website=True, sitemap=False)
    def line_login_pending_cancel(self, redirect=None, **kwargs):
        """Forget the LINE account waiting in this browser (its LINE Login token is revoked)."""
        self._drop_pending()
        default = "/web/login" if request.env.user._is_public() else "/my/line"
        return request.redirect(_local(redirect, default))

    def _drop_pending(self):
        pending = request.session.pop(SESSION_PENDING, None)
        token = ((pending or {}).get("tokens") or {}).get("access_token")
        channel = pending and self._channel(pending.get("channel_id"))
        if token and channel:
            try:
                channel._line_login_client().revoke(token)
            except LoginError as exc:  # best effort: the token expires on its own
                _logger.info("revoking a pending LINE Login token failed: %s", exc.error)


def _same_site_redirect_param(kw):
    """Drop a ``redirect`` parameter that is not a same-site path (the core's one rule), so
    Odoo's own login and sign-up redirect only within the site."""
    for params in (kw, request.params):
        if params.get("redirect") and not is_same_site(params["redirect"]):
            params.pop("redirect")


class LineAuthSignupHome(AuthSignupHome):
    """The login and sign-up pages say when a LINE account waits to be linked (an expired one
    is dropped first, so the page never announces a link that would not happen), and their
    ``redirect`` follows the same same-site rule as the rest of the addon."""

    @http.route()
    def web_login(self, *args, **kw):
        _pending_login()
        _same_site_redirect_param(kw)
        return super().web_login(*args, **kw)

    @http.route()
    def web_auth_signup(self, *args, **kw):
        _pending_login()
        _same_site_redirect_param(kw)
        return super().web_auth_signup(*args, **kw)


class _SessionTokens:
    def __init__(self, data):
        self.access_token = data.get("access_token")
        self.refresh_token = data.get("refresh_token")
        self.expires_in = int(data.get("expires_in") or 0)


class _SessionResult:
    def __init__(self, tokens):
        self.tokens = tokens
