"""The reference app: settings, the wiring of the core's pieces, and what link/unlink do around
the core's decisions (rich menu, Login tokens, messages, audit).

    server = serve_reference("shop.db", LineSettings.from_emulator(emulator_server),
                             clock=emu.clock.now)
    server.url                       # http://127.0.0.1:PORT, the public URL LINE links point at
    server.app.linker.customer_for(user_id)
    server.stop()

Webhooks are processed in the request that stores them, right after storing (``process_inline``,
the default): when LINE (or the emulator in ``sync`` delivery) gets the 200, the bot has already
answered, which keeps demos and tests deterministic. The events are stored first all the same, so
a crash mid-way leaves them in the queue; with ``process_inline=False`` the route only stores and
:meth:`ReferenceApp.process_pending` (a worker, a cron, a test) processes.
"""

import logging
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request

from line_idlink import message_builders
from line_emulator.server import QuietHandler
from line_idlink.linking import AccountLinker, LinkStatus
from line_idlink.login import LoginClient, LoginError
from line_idlink.sender import Sender
from line_idlink.retry import RETRY_IF_NOT_PROCESSED, LineApiError
from line_idlink.richmenu_publisher import RichMenuClient
from line_idlink.storage import SQLiteStorage
from line_idlink.webhook import WebhookReceiver
from . import accounts, bot, portal
from .db import ShopDB
from .menus import ensure_rich_menus
from .web import Session

log = logging.getLogger("line_idlink_dev.reference")


@dataclass(frozen=True)
class LineSettings:
    """One Messaging API channel and its LINE Login channel (same provider). ``api_base`` and
    ``auth_base`` are https://api.line.me and https://access.line.me in production, the emulator's
    base URL in demos and tests."""

    api_base: str
    auth_base: str
    channel_id: str
    channel_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    login_channel_id: str
    login_channel_secret: str = field(repr=False)

    @classmethod
    def from_emulator(cls, info):
        """From an ``EmulatorServer`` or the JSON of ``GET /__emulator__/info``."""
        if hasattr(info, "info"):
            info = info.info()
        return cls(info["base_url"], info["base_url"], info["channel_id"], info["channel_secret"],
                   info["access_token"], info["login_channel_id"], info["login_channel_secret"])


class ReferenceApp:
    """The shop as a WSGI application. ``clock`` (seconds since the epoch) must agree with LINE's:
    ID tokens and link tokens are checked against it (pass ``emu.clock.now`` with an in-process
    emulator). ``backoff``: the Sender's :class:`~line_idlink.retry.Backoff`."""

    def __init__(self, db_path, line_settings, public_url, clock=time.time, process_inline=True,
                 backoff=None):
        self.settings = s = line_settings
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self.process_inline = process_inline
        self.db = ShopDB(db_path)
        self.db.seed_demo()
        self.storage = SQLiteStorage(db_path)
        self.linker = AccountLinker(self.storage, s.channel_id, clock=clock, auth_base=s.auth_base)
        self.receiver = WebhookReceiver(s.channel_secret, self.storage, s.channel_id, clock=clock)
        self.sender = Sender((s.api_base, s.access_token), backoff=backoff)
        self.richmenus = RichMenuClient(sender=self.sender)
        self.login = LoginClient(s.login_channel_id, s.login_channel_secret,
                                 f"{self.public_url}/line/callback", api_base=s.api_base,
                                 auth_base=s.auth_base, clock=clock,
                                 session=_http_session(s.api_base))
        self.menu_ids = {}
        bot.register(self)
        self.url_map = Map([
            Rule("/", endpoint=portal.home),
            Rule("/login", endpoint=accounts.login, methods=["GET", "POST"]),
            Rule("/signup", endpoint=accounts.signup, methods=["GET", "POST"]),
            Rule("/logout", endpoint=accounts.logout, methods=["GET", "POST"]),
            Rule("/my/line", endpoint=portal.my_line),
            Rule("/my/line/unlink", endpoint=portal.unlink, methods=["POST"]),
            Rule("/line/link", endpoint=portal.link, methods=["GET", "POST"]),
            Rule("/line/login", endpoint=portal.line_login),
            Rule("/line/callback", endpoint=portal.callback),
            Rule("/line/webhook", endpoint=bot.webhook, methods=["POST"]),
        ])

    def start(self):
        """What needs LINE at start-up: publish the rich menus (once) and set the default."""
        self.menu_ids = ensure_rich_menus(self)
        return self

    def close(self):
        self.sender.close()
        self.storage.close()
        self.db.close()

    # WSGI ---------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            view, args = self.url_map.bind_to_environ(environ).match()
        except HTTPException as exc:
            return exc(environ, start_response)
        if view is bot.webhook:  # LINE has no cookies: no session, no CSRF
            return view(self, request)(environ, start_response)
        session = Session(self.db, request)
        response = view(self, request, session, **args)
        return session.commit(response)(environ, start_response)

    def process_pending(self):
        return self.receiver.process_pending()

    # Look-ups -----------------------------------------------------------------------------
    def now(self):
        return self.clock()

    def customer_for(self, line_user_id):
        """The customer row the LINE user is linked to, or None."""
        customer_id = self.linker.customer_for(line_user_id)
        return self.db.customer(int(customer_id)) if customer_id else None

    def active_links(self):
        return [link for link in self.storage.all_links()
                if link.active and link.channel_id == self.linker.channel_id]

    def display_name(self, line_user_id, fresh=False):
        """The LINE display name: from the Messaging API profile when ``fresh`` (or unknown),
        else as last seen; None when LINE does not tell (not a friend)."""
        profile = self.db.profile(line_user_id)
        if profile and profile["display_name"] and not fresh:
            return profile["display_name"]
        outcome = self.sender.caller.call(
            "getProfile", lambda **kw: self.sender.caller.api.get_profile_with_http_info(
                line_user_id, **kw))
        if outcome.failure is None:
            name = outcome.response.data.display_name
            self.db.save_profile(line_user_id, display_name=name)
            return name
        return profile["display_name"] if profile else None

    def audit(self, event, line_user_id=None, customer_id=None, detail=None):
        log.info("%s line_user=%s customer=%s %s", event, line_user_id, customer_id, detail or "")
        self.db.audit(self.clock(), event, line_user_id, customer_id, detail)

    # Messages -----------------------------------------------------------------------------
    def reply(self, reply_token, *payloads):
        if not reply_token:  # standby mode, or an event LINE sent without one
            return None
        result = self.sender.reply(reply_token, list(payloads))
        if not result.ok:
            log.warning("reply failed: %s", result.error)
        return result

    def push(self, line_user_id, *payloads):
        profile = self.db.profile(line_user_id)
        if profile and profile["blocked"]:
            return None  # LINE would not deliver it, and it would count against the quota
        result = self.sender.push(line_user_id, list(payloads))
        if not result.ok:
            log.warning("push failed: %s", result.error)
        return result

    def issue_link_token(self, line_user_id):
        """A link token from LINE for this user, remembered so /line/link can name them."""
        outcome = self.sender.caller.call(
            "issueLinkToken", lambda **kw: self.sender.caller.api.issue_link_token_with_http_info(
                line_user_id, **kw), retry_on=RETRY_IF_NOT_PROCESSED)
        token = outcome.raise_for_failure().data.link_token
        self.linker.remember_link_token(line_user_id, token)
        self.audit("link_token_issued", line_user_id)
        return token

    # Link and unlink ----------------------------------------------------------------------
    def linked(self, outcome, reply_token=None):
        """After the core linked (or found linked) a pair: linked menu, confirmation, audit."""
        line_user_id = outcome.line_user_id
        customer = self.db.customer(int(outcome.customer_id))
        self.audit(f"link_{outcome.status.value}", line_user_id, outcome.customer_id,
                   outcome.link.method if outcome.link else None)
        self.switch_menu(line_user_id, self.menu_ids.get("linked"))
        confirmation = message_builders.link_done(customer_name=customer["name"])
        if reply_token:
            self.reply(reply_token, confirmation)
        elif outcome.status is LinkStatus.LINKED:  # no news to push when nothing changed
            self.push(line_user_id, confirmation)

    def link_via_login(self, customer_id, id_claims, access_token):
        """Link a logged-in customer to a verified LINE Login ``sub``; keep the Login token of the
        link (revoked on unlink). A refused link revokes the token: nothing holds it."""
        outcome = self.linker.link_from_login(customer_id, id_claims)
        line_user_id = outcome.line_user_id
        if not outcome.ok:
            self.audit("link_refused", line_user_id, customer_id, outcome.reason)
            self.revoke_login_token(access_token)
            return outcome
        if id_claims.get("name"):
            self.db.save_profile(line_user_id, display_name=id_claims["name"])
        self.remember_login_token(line_user_id, access_token)
        self.linked(outcome)
        return outcome

    def remember_login_token(self, line_user_id, access_token):
        """Keep the link's newest Login token; the one it replaces is revoked."""
        older = self.db.swap_login_token(line_user_id, access_token)
        if older and older != access_token:
            self.revoke_login_token(older)

    def unlink(self, line_user_id=None, customer_id=None, via="portal"):
        """End the links (always allowed); default menu back, Login token revoked and the consent
        deauthorized. Returns the links that ended."""
        ended = self.linker.unlink(line_user_id=line_user_id, customer_id=customer_id)
        for link in ended:
            self.switch_menu(link.line_user_id, None)
            token = self.db.swap_login_token(link.line_user_id, None)
            if token:
                self._deauthorize(link.line_user_id, token)
            self.audit("unlinked", link.line_user_id, link.customer_id, f"via {via}")
        return ended

    def switch_menu(self, line_user_id, rich_menu_id):
        # A failed switch must not undo the link: it is logged, and the next start's
        # ensure_rich_menus or a reconcile puts it right.
        try:
            if rich_menu_id:
                self.richmenus.link_user(line_user_id, rich_menu_id)
            else:
                self.richmenus.unlink_user(line_user_id)
        except LineApiError as exc:
            self.audit("menu_switch_failed", line_user_id, detail=str(exc))

    def _deauthorize(self, line_user_id, token):
        # Deauthorize ends the user's consent to the Login channel; revoke is kept as well for
        # the token itself (200 when it is already revoked). Unlinking never fails on these.
        try:
            self.login.deauthorize(token, self.settings.access_token)
        except LoginError as exc:
            log.warning("deauthorize failed: %s", exc)
        self.revoke_login_token(token)
        self.audit("login_token_revoked", line_user_id)

    def revoke_login_token(self, token):
        if not token:
            return
        try:
            self.login.revoke(token)
        except LoginError as exc:
            log.warning("revoking a LINE Login token failed: %s", exc)

    # Web sign-in hook ---------------------------------------------------------------------
    def after_login(self, session):
        """Called by /login and /signup: finishes a "log in with LINE" of an unknown LINE user,
        who chose to log in (or sign up) to link. Never by e-mail: only a LINE user whose ID
        token this browser just presented is linked, to the account it just proved."""
        pending = session.pop("pending_line", None)
        if not pending or pending["expires"] <= self.clock():
            return
        outcome = self.link_via_login(session.customer_id, {"sub": pending["sub"]},
                                      pending["token"])
        if outcome.ok:
            name = self.display_name(outcome.line_user_id) or "LINE"
            session["flash"] = ["notice", f"LINEアカウント「{name}」と連携しました。"]
        else:
            session["flash"] = ["error", "このLINEアカウントは別のアカウントと連携済みのため、"
                                         "連携できませんでした。"]


def _http_session(api_base):
    """A requests session; no proxy from the environment for a LINE on this machine."""
    session = requests.Session()
    if urlsplit(api_base).hostname in ("127.0.0.1", "localhost", "::1"):
        session.trust_env = False
    return session


class ReferenceServer:
    """The app served on ``host:port`` in a thread (port 0 picks a free one)."""

    def __init__(self, db_path, line_settings, host="127.0.0.1", port=0, public_url=None,
                 **app_options):
        self.app = None
        self._server = make_server(host, port, self._wsgi, threaded=True,
                                   request_handler=QuietHandler)
        self.url = (public_url or f"http://{host}:{self._server.server_port}").rstrip("/")
        self.app = ReferenceApp(db_path, line_settings, self.url, **app_options)
        self._thread = None

    def _wsgi(self, environ, start_response):
        return self.app(environ, start_response)

    def start(self):
        try:
            self.app.start()
        except BaseException:
            self._server.server_close()
            self.app.close()
            raise
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, name="reference-app",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()
        self.app.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def serve_reference(db_path, line_settings, **options):
    """Start the reference app in a background thread; returns the :class:`ReferenceServer`."""
    return ReferenceServer(db_path, line_settings, **options).start()
