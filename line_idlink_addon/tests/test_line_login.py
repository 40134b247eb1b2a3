from urllib.parse import urlsplit

import odoo.http
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import LineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestLineLogin(LineCommon, HttpCase):
    """LINE Login against the emulator: link from /my/line, log in from /web/login, revoke."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()

    def setUp(self):
        super().setUp()
        self.emu = self.start_line_emulator()
        # ID tokens carry the emulator's (frozen) time: check them on its clock
        self.patch(type(self.env["line.channel"]), "_line_clock",
                   lambda channel: self.emu.clock.now)

    def start(self, mode):
        response = self.url_open(f"/line/login/start?channel={self.channel.id}&mode={mode}",
                                 allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        location = response.headers["Location"]
        self.assertTrue(location.startswith(self.channel.auth_base + "/oauth2/v2.1/authorize?"))
        self.assertIn("bot_prompt=normal", location)
        self.assertIn("code_challenge_method=S256", location)
        return location

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
        self.assertIn("state", response.text)
        self.assertFalse(self.identity(aiko).filtered("linked"), "nothing linked")
        # the login request was used up: replaying the genuine callback is refused too
        self.assertEqual(self.callback(location).status_code, 400)
        self.assertFalse(self.identity(aiko).filtered("linked"))

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
        response = self.url_open("/line/login/pending")
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
        self.assertFalse(self.session.uid)
        internal.sudo().line_login_allowed = True
        self.authenticate(None, None)
        response = self.callback(self.emu.login.authorize(aiko, self.start("login")))
        self.assertEqual(response.status_code, 303, "allowed by the boolean on the user")

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
        self.assertTrue(any("revoked" in m.body for m in identity.message_ids), "chatter note")
