import datetime
import html
import re
from urllib.parse import quote, urlsplit

import odoo.http
from odoo import fields
from odoo.exceptions import AccessDenied
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from line_idlink.postbacks import POSTBACK_LINK

from .common import LineCommon


class LineLoginMixin(LineCommon):
    """Set-up and helpers of the LINE Login tests (tests/test_web_*.py reuse them): a channel,
    two portal customers, the emulator on a real clock, a visitor's browser session."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()

    def setUp(self):
        super().setUp()
        # LINE's clock is the real one: Odoo checks ID tokens on its own clock, as in production
        self.emu = self.start_line_emulator(real_clock=True)

    def start(self, mode):
        response = self.url_open(f"/line/login/start?channel={self.channel.id}&mode={mode}",
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        location = response.headers["Location"]
        self.assertTrue(location.startswith(self.channel.auth_base + "/oauth2/v2.1/authorize?"),
                        location)
        self.assertIn("bot_prompt=normal", location)
        self.assertIn("code_challenge_method=S256", location)
        return location

    def login_button_href(self, page):
        """The "Log in with LINE" button of a login/signup page, as the browser would follow it."""
        button = re.search(r'<a\b[^>]*\bo_line_login\b[^>]*>', page.text)
        self.assertTrue(button, "the page shows Log in with LINE")
        href = html.unescape(re.search(r'href="([^"]*)"', button.group(0)).group(1))
        self.assertTrue(href.startswith("/line/login/start?"), href)
        return href

    def log_in_with_line(self, sim_user, start_url):
        """Visitor: open start_url, log in at LINE as sim_user; the callback's redirect target."""
        self.authenticate(None, None)
        start = self.url_open(start_url, allow_redirects=False)
        self.assertEqual(start.status_code, 303)
        response = self.callback(self.emu.login.authorize(sim_user, start.headers["Location"]))
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.adopt_session(response)
        self.assertTrue(self.session.uid, "logged in")
        target = urlsplit(response.headers["Location"])
        self.assertEqual(target.netloc, "", "stays on this site")
        return target

    def callback(self, location):
        """Open LINE's redirect back to Odoo (as the browser would), without following."""
        parts = urlsplit(location)
        self.assertEqual(parts.path, "/line/login/callback")
        return self.url_open(f"{parts.path}?{parts.query}", allow_redirects=False)

    def adopt_session(self, response):
        """Keep the session the server rotated at login, as a browser would: the test opener
        holds HttpCase's domain-less session cookie next to the server's, and would send both."""
        sid = response.cookies.get("session_id")
        self.assertTrue(sid, "the login rotated the session")
        jar = self.opener.cookies
        for cookie in [c for c in jar if c.name == "session_id"]:
            jar.clear(cookie.domain, cookie.path, cookie.name)
        jar.set("session_id", sid)
        self.session = odoo.http.root.session_store.get(sid)
        return response

    def identity(self, user):
        return self.env["line.identity"].search([("line_user_id", "=", user.user_id)])

    def link_with_login(self, login, sim_user):
        self.authenticate(login, login)
        location = self.emu.login.authorize(sim_user, self.start("link"))
        response = self.callback(location)
        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertTrue(response.headers["Location"].endswith("/my/line?linked=1"))
        return self.identity(sim_user)


@tagged("post_install", "-at_install", "line_idlink")
class TestLineLogin(LineLoginMixin, HttpCase):
    """LINE Login against the emulator: link from /my/line, log in from /web/login, revoke."""

    def test_link_with_line_login(self):
        aiko = self.emu.add_user("Aiko LINE")
        self.authenticate("line_portal_a", "line_portal_a")
        page = self.url_open("/my/line")
        self.assertIn("Link with LINE", page.text)
        identity = self.link_with_login("line_portal_a", aiko)
        self.assertTrue(identity.linked)
        self.assertEqual(identity.partner_id, self.user_a.partner_id)
        self.assertEqual(identity.link_method, "line_login")
        self.assertEqual(identity.name, "Aiko LINE", "display name from the ID token")
        token = identity.sudo().login_access_token
        self.assertTrue(token and identity.sudo().login_refresh_token)
        self.assertIsNotNone(self.emu.login.token_record(token), "a live LINE Login token")
        self.assertIn("Your LINE account is linked", self.url_open("/my/line?linked=1").text)

    def test_line_user_of_someone_else_is_refused(self):
        aiko = self.emu.add_user("Aiko LINE")
        self.link_with_login("line_portal_a", aiko)
        self.authenticate("line_portal_b", "line_portal_b")
        with mute_logger("odoo.http"):
            response = self.callback(self.emu.login.authorize(aiko, self.start("link")))
        self.assertEqual(response.status_code, 409)
        self.assertIn("already linked to another customer", response.text)
        self.assertEqual(self.identity(aiko).partner_id, self.user_a.partner_id)

    def test_state_mismatch_is_refused(self):
        aiko = self.emu.add_user("Aiko LINE")
        self.authenticate("line_portal_a", "line_portal_a")
        location = self.emu.login.authorize(aiko, self.start("link"))
        forged = location.replace("state=", "state=forged")
        response = self.callback(forged)
        self.assertEqual(response.status_code, 400)
        error = re.search(r'o_line_link_error[^>]*>(.*?)</p>', response.text, re.S).group(1)
        self.assertEqual(html.unescape(error).strip(), "This LINE Login has expired or was "
                         "started in another browser. Please try again.")
        self.assertFalse(self.identity(aiko).filtered("linked"), "nothing linked")
        # a forged callback does not use up the login this browser started
        response = self.callback(location)
        self.assertEqual(response.status_code, 303, response.text[:300])
        self.assertTrue(self.identity(aiko).linked)
        # ... which then is used up: replaying it is refused
        self.assertEqual(self.callback(location).status_code, 400)

    def test_unknown_line_user_is_not_bound_by_email_then_linked_after_login(self):
        aiko = self.emu.add_user("Aiko LINE")
        # a customer whose e-mail is the LINE account's: must NOT be taken as its owner
        self.user_b.partner_id.email = f"{aiko.user_id}@line.example"
        self.authenticate(None, None)
        self.assertIn("Log in with LINE", self.url_open("/web/login").text)
        response = self.callback(self.emu.login.authorize(aiko, self.start("login")))
        self.assertEqual(response.status_code, 200)
        self.assertIn("not linked to an account here yet", response.text)
        self.assertFalse(self.identity(aiko).filtered("linked"))
        self.assertFalse(self.session.uid, "still a visitor")
        # the visitor logs in with a password; the pending LINE account is linked right after
        login_page = self.url_open("/web/login?redirect=/line/login/pending")
        response = self.adopt_session(self.url_open("/web/login", data={
            "login": "line_portal_a", "password": "line_portal_a",
            "redirect": "/line/login/pending", "csrf_token": self.csrf_from(login_page.text)},
            allow_redirects=False))
        self.assertEqual(urlsplit(response.headers["Location"]).path, "/line/login/pending")
        page = self.url_open("/line/login/pending")
        self.assertIn("Aiko LINE", page.text, "the LINE account to link is named")
        self.assertFalse(self.identity(aiko).filtered("linked"), "nothing linked before confirming")
        response = self.url_open("/line/login/pending/confirm",
                                 data={"csrf_token": self.csrf_from(page.text)})
        self.assertTrue(response.url.endswith("/my/line?linked=1"), response.url)
        identity = self.identity(aiko)
        self.assertTrue(identity.linked)
        self.assertEqual(identity.partner_id, self.user_a.partner_id, "the account logged in")
        self.assertEqual(identity.link_method, "line_login")

    def test_known_line_user_logs_in(self):
        aiko = self.emu.add_user("Aiko LINE")
        self.link_with_login("line_portal_a", aiko)
        self.authenticate(None, None)
        response = self.callback(self.emu.login.authorize(aiko, self.start("login")))
        self.assertEqual(response.status_code, 303)
        self.adopt_session(response)
        self.assertEqual(self.session.uid, self.user_a.id)
        page = self.url_open("/my/line")
        self.assertEqual(urlsplit(page.url).path, "/my/line", "logged in: no login redirect")
        self.assertIn("Aiko Customer", page.text)
        self.assertIn("Aiko LINE", page.text)

    def test_internal_user_keeps_password_login(self):
        aiko = self.emu.add_user("Aiko LINE")
        internal = self.env["res.users"].create({
            "name": "Ichiro Staff", "login": "line_internal", "password": "line_internal",
            "groups_id": [(6, 0, [self.env.ref("base.group_user").id])]})
        self.link_with_login("line_internal", aiko)
        self.authenticate(None, None)
        response = self.callback(self.emu.login.authorize(aiko, self.start("login")))
        self.assertEqual(response.status_code, 200, "not logged in: asked to log in")
        self.assertIn("not linked to an account here yet", response.text)
        self.assertFalse(self.session.uid)
        # an administrator ticks "Allow Log in with LINE" on the user form (Settings > Users)
        admin = self.env.ref("base.user_admin")
        with Form(internal.with_user(admin), view="base.view_users_form") as form:
            self.assertFalse(form.line_login_allowed)
            form.line_login_allowed = True
        self.env.flush_all()
        self.authenticate(None, None)
        response = self.callback(self.emu.login.authorize(aiko, self.start("login")))
        self.assertEqual(response.status_code, 303, "allowed by the flag on the user form")
        self.adopt_session(response)
        self.assertEqual(self.session.uid, internal.id)

    def test_login_flag_is_on_the_user_form_for_administrators_only(self):
        def form_arch(user):
            form_view = self.env.ref("base.view_users_form").id  # Settings > Users > a user
            views = self.env["res.users"].with_user(user).get_views([(form_view, "form")])
            return views["views"]["form"]["arch"]

        self.assertIn('name="line_login_allowed"', form_arch(self.env.ref("base.user_admin")))
        # "Access Rights" managers edit users too, but must not open the LINE door
        manager = new_test_user(self.env, login="line_user_manager",
                                groups="base.group_user,base.group_erp_manager")
        self.assertNotIn("line_login_allowed", form_arch(manager))

    def authenticate_with_ticket(self, user, ticket):
        return self.env["res.users"].authenticate(self.env.cr.dbname, {
            "type": "line_login", "login": user.login, "line_ticket": ticket},
            {"interactive": True})

    @mute_logger("odoo.addons.base.models.res_users")
    def test_login_ticket_is_single_use(self):
        ticket = self.user_a._line_issue_login_ticket()
        with self.assertRaises(AccessDenied, msg="a ticket only opens its own user"):
            self.authenticate_with_ticket(self.user_b, ticket)
        auth = self.authenticate_with_ticket(self.user_a, ticket)
        self.assertEqual(auth["uid"], self.user_a.id)
        with self.assertRaises(AccessDenied, msg="replayed ticket"):
            self.authenticate_with_ticket(self.user_a, ticket)
        with self.assertRaises(AccessDenied, msg="a raw LINE userId or empty ticket"):
            self.authenticate_with_ticket(self.user_a, "")

    @mute_logger("odoo.addons.base.models.res_users")
    def test_login_ticket_expires_after_60_seconds(self):
        """On the product's own clock (nothing patched): a ticket is issued for 60 s, refused
        once its expiry has passed, accepted just before."""
        before = fields.Datetime.now().replace(microsecond=0)
        late = self.user_a._line_issue_login_ticket()
        expires = self.user_a.sudo().line_login_ticket_expires
        self.assertGreaterEqual(expires, before + datetime.timedelta(seconds=60))
        self.assertLessEqual(expires, fields.Datetime.now() + datetime.timedelta(seconds=60))
        self.set_ticket_expiry(self.user_a, fields.Datetime.now() - datetime.timedelta(seconds=1))
        with self.assertRaises(AccessDenied, msg="61 s old"):
            self.authenticate_with_ticket(self.user_a, late)
        prompt = self.user_a._line_issue_login_ticket()
        self.set_ticket_expiry(self.user_a, fields.Datetime.now() + datetime.timedelta(seconds=1))
        auth = self.authenticate_with_ticket(self.user_a, prompt)
        self.assertEqual(auth["uid"], self.user_a.id, "59 s old: still valid")

    def set_ticket_expiry(self, user, when):
        """Age the stored ticket (test data, as if it had been issued earlier)."""
        self.env.cr.execute("UPDATE res_users SET line_login_ticket_expires = %s WHERE id = %s",
                            (when, user.id))
        user.invalidate_recordset(["line_login_ticket_expires"])

    def test_unlink_revokes_login_tokens(self):
        aiko = self.emu.add_user("Aiko LINE")
        identity = self.link_with_login("line_portal_a", aiko)
        token = identity.sudo().login_access_token
        page = self.url_open("/my/line")
        response = self.url_open(f"/my/line/unlink/{identity.id}",
                                 data={"csrf_token": self.csrf_from(page.text)})
        self.assertEqual(response.status_code, 200)
        identity.invalidate_recordset()
        self.assertFalse(identity.linked)
        self.assertIsNone(self.emu.login.token_record(token), "LINE no longer accepts it")
        self.assertFalse(identity.sudo().login_access_token)
        notes = identity.message_ids.filtered("body")
        self.assertEqual(notes[:2].mapped("body"), [
            "<p>Unlinked from Aiko Customer by Aiko Customer.</p>",
            "<p>LINE Login authorization revoked (deauthorized on LINE).</p>"], "chatter notes")

    def test_log_in_with_line_returns_to_the_account_link_page(self):
        aiko = self.emu.add_user("Aiko LINE")
        self.link_with_login("line_portal_a", aiko)
        # a second LINE account of Aiko's asks the bot to link: the button opens /line/link
        phone = self.emu.add_user("Aiko Work Phone")
        phone.follow()
        self.deliver()
        phone.postback(POSTBACK_LINK)
        self.deliver()
        token = self.link_token_from(phone.inbox)
        self.assertTrue(token)
        link_url = f"/line/link?linkToken={quote(token, safe='')}"
        self.authenticate(None, None)
        login_page = self.url_open(link_url)
        self.assertEqual(urlsplit(login_page.url).path, "/web/login", "a visitor must log in")
        href = self.login_button_href(login_page)
        self.assertIn("redirect=" + quote(link_url, safe=""), href, "the button keeps the target")
        target = self.log_in_with_line(aiko, href)
        self.assertEqual(f"{target.path}?{target.query}", link_url, "back where she was going")
        self.assertEqual(self.session.uid, self.user_a.id)
        page = self.url_open(link_url)
        self.assertEqual(urlsplit(page.url).path, "/line/link", "logged in: no login detour")
        self.assertIn("Link your LINE account", page.text)
        self.assertIn("Aiko Work Phone", page.text)

    def test_log_in_with_line_from_signup_keeps_the_target(self):
        self.env["ir.config_parameter"].set_param("auth_signup.invitation_scope", "b2c")
        self.env.flush_all()
        self.authenticate(None, None)
        page = self.url_open("/web/signup?redirect=" + quote("/my/line", safe=""))
        self.assertIn("redirect=%2Fmy%2Fline", self.login_button_href(page))
        plain = self.login_button_href(self.url_open("/web/login"))
        self.assertNotIn("redirect=", plain, "no target: none invented")

    def test_log_in_with_line_never_redirects_off_site(self):
        aiko = self.emu.add_user("Aiko LINE")
        self.link_with_login("line_portal_a", aiko)
        start = f"/line/login/start?channel={self.channel.id}&mode=login&redirect="
        for evil in ("https://evil.example", "//evil.example", "/\\evil.example",
                     "/\tevil.example", "javascript:alert(1)"):
            with self.subTest(redirect=evil):
                target = self.log_in_with_line(aiko, start + quote(evil, safe=""))
                self.assertEqual((target.path, target.query), ("/my", ""), "fallback: /my")
        target = self.log_in_with_line(aiko, start + quote("/my/line?x=1", safe=""))
        self.assertEqual(f"{target.path}?{target.query}", "/my/line?x=1", "same-site path kept")

    def speaks_japanese(self, user):
        self.env["res.lang"]._activate_lang("ja_JP")
        self.env["ir.module.module"]._load_module_terms(["line_idlink_addon"], ["ja_JP"],
                                                        overwrite=True)
        user.lang = "ja_JP"
        self.env.flush_all()

    def test_my_line_page_in_japanese(self):
        """A Japanese customer reads /my/line in Japanese, unlink notice included."""
        self.speaks_japanese(self.user_a)
        self.authenticate("line_portal_a", "line_portal_a")
        page = self.url_open("/my/line")
        self.assertEqual(page.status_code, 200)
        notice = re.search(r'o_line_unlink_notice[^>]*>(.*?)</p>', page.text, re.S)
        self.assertTrue(notice, "the unlink notice is on the page")
        self.assertIn("LINEアカウントの連携はいつでも解除できます", notice.group(1))
        self.assertIn("「マイアカウント > LINE」ページ", notice.group(1))
        self.assertNotIn("You can unlink", page.text)
        self.assertIn("お客様のアカウントはLINEと連携されていません", page.text)
        self.assertIn("LINEで連携", page.text)

    def test_account_link_refusal_in_japanese(self):
        """/line/link and its refusal speak the customer's language (not the core's English)."""
        aiko = self.emu.add_user("Aiko LINE")
        aiko.follow()
        self.deliver()
        aiko.postback(POSTBACK_LINK)
        self.deliver()
        token = self.link_token_from(aiko.inbox)
        self.assertTrue(token)
        self.speaks_japanese(self.user_b)
        self.authenticate("line_portal_b", "line_portal_b")
        page = self.url_open(f"/line/link?linkToken={quote(token, safe='')}")
        self.assertIn("LINEアカウントの連携", page.text)
        self.assertIn("LINEアカウントの連携はいつでも解除できます", page.text)
        # a LINE account whose profile name is unknown: a translated placeholder, no crash
        self.identity(aiko).name = False
        self.env.flush_all()
        nameless = self.url_open(f"/line/link?linkToken={quote(token, safe='')}")
        self.assertEqual(nameless.status_code, 200)
        self.assertIn("お客様のLINEアカウント", nameless.text)
        # meanwhile the LINE account is linked to Aiko's account (LINE Login in her browser)
        outcome = self.channel._line_linker().link_from_login(self.user_a.partner_id.id,
                                                              {"sub": aiko.user_id})
        self.assertEqual(outcome.status.value, "linked")
        self.env.flush_all()
        with mute_logger("odoo.http"):
            response = self.url_open("/line/link/confirm", data={
                "csrf_token": self.csrf_from(page.text), "linkToken": token},
                allow_redirects=False)
        self.assertEqual(response.status_code, 409)
        self.assertIn("このLINEアカウントはすでに別のお客様と連携されています。", response.text)
        self.assertNotIn("unlink it there first", response.text)
        self.assertEqual(self.identity(aiko).partner_id, self.user_a.partner_id, "unchanged")
