"""Issue 8 point 4: on a shared browser, an unknown LINE user's pending login is never linked
to whoever logs in next without that person confirming on a page naming the LINE account;
the login and sign-up pages say it is waiting, with a way to cancel it."""

import re
from urllib.parse import urlsplit

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .test_line_login import LineLoginMixin

PICTURE = "https://profile.line-scdn.net/aiko.png"


@tagged("post_install", "-at_install", "line_idlink")
class TestWebPendingLogin(LineLoginMixin, HttpCase):

    def unknown_line_login(self, name="Aiko LINE"):
        """A visitor logs in with LINE as a LINE user linked to nobody: the login waits."""
        aiko = self.emu.add_user(name, picture_url=PICTURE)
        self.authenticate(None, None)
        response = self.callback(self.emu.login.authorize(aiko, self.start("login")))
        self.assertEqual(response.status_code, 200)
        self.assertIn("not linked to an account here yet", response.text)
        return aiko

    def password_login(self, login, redirect="/line/login/pending"):
        page = self.url_open(f"/web/login?redirect={redirect}")
        response = self.adopt_session(self.url_open("/web/login", data={
            "login": login, "password": login, "redirect": redirect,
            "csrf_token": self.csrf_from(page.text)}, allow_redirects=False))
        self.assertEqual(urlsplit(response.headers["Location"]).path, redirect)
        return page

    def live_tokens(self, sim_user):
        login = self.emu.login
        return [t for t, r in list(login.access_tokens.items())
                if r.user_id == sim_user.user_id and login.token_record(t)]

    def notice(self, page):
        found = re.search(r'o_line_pending_notice.*?</form>', page.text, re.S)
        return found.group(0) if found else None

    def test_next_login_is_asked_to_confirm_naming_the_line_account(self):
        aiko = self.unknown_line_login()
        # Bunta uses the same browser next and logs in with his password
        login_page = self.password_login("line_portal_b")
        notice = self.notice(login_page)
        self.assertTrue(notice, "the login page says a LINE account waits to be linked")
        self.assertIn("Aiko LINE", notice)
        self.assertIn('action="/line/login/pending/cancel"', notice)
        page = self.url_open("/line/login/pending")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Link this LINE account?", page.text)
        self.assertIn("Aiko LINE", page.text, "names the LINE account")
        self.assertIn(PICTURE, page.text, "shows its picture")
        self.assertIn("Bunta Customer", page.text, "and the account it would be linked to")
        self.assertFalse(self.identity(aiko).filtered("linked"), "nothing linked by the GET")
        with mute_logger("odoo.http"):
            forged = self.url_open("/line/login/pending/confirm", data={"csrf_token": "x"})
        self.assertEqual(forged.status_code, 400, "CSRF-checked")
        self.assertFalse(self.identity(aiko).filtered("linked"))
        # Bunta confirms (it is his LINE account after all): now it is linked
        response = self.url_open("/line/login/pending/confirm",
                                 data={"csrf_token": self.csrf_from(page.text)})
        self.assertTrue(response.url.endswith("/my/line?linked=1"), response.url)
        identity = self.identity(aiko)
        self.assertTrue(identity.linked)
        self.assertEqual(identity.partner_id, self.user_b.partner_id)
        self.assertEqual(urlsplit(self.url_open("/line/login/pending").url).path, "/my/line",
                         "used up")

    def test_refusing_on_the_confirmation_page_links_nothing(self):
        aiko = self.unknown_line_login()
        self.assertTrue(self.live_tokens(aiko))
        self.password_login("line_portal_b")
        page = self.url_open("/line/login/pending")
        response = self.url_open("/line/login/pending/cancel",
                                 data={"csrf_token": self.csrf_from(page.text)})
        self.assertEqual(urlsplit(response.url).path, "/my/line")
        self.assertFalse(self.identity(aiko).filtered("linked"))
        self.assertFalse(self.live_tokens(aiko), "its LINE Login token is revoked")
        self.assertEqual(urlsplit(self.url_open("/line/login/pending").url).path, "/my/line")
        self.assertFalse(self.identity(aiko).filtered("linked"))

    def test_cancel_from_the_login_page_clears_the_pending_login(self):
        aiko = self.unknown_line_login()
        page = self.url_open("/web/login")
        self.assertIn("Aiko LINE", self.notice(page))
        response = self.url_open("/line/login/pending/cancel",
                                 data={"csrf_token": self.csrf_from(self.notice(page))})
        self.assertEqual(urlsplit(response.url).path, "/web/login")
        self.assertIsNone(self.notice(response), "the notice is gone")
        self.assertFalse(self.live_tokens(aiko))
        # whoever logs in now is not asked about any LINE account
        self.password_login("line_portal_b")
        self.assertEqual(urlsplit(self.url_open("/line/login/pending").url).path, "/my/line")
        self.assertFalse(self.identity(aiko).filtered("linked"))

    def test_signup_page_says_a_line_account_waits(self):
        self.env["ir.config_parameter"].set_param("auth_signup.invitation_scope", "b2c")
        self.env.flush_all()
        self.unknown_line_login()
        page = self.url_open("/web/signup")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Aiko LINE", self.notice(page))
        self.assertIn("A LINE account is waiting to be linked", page.text)

    def test_no_notice_without_a_pending_login(self):
        self.authenticate(None, None)
        self.assertIsNone(self.notice(self.url_open("/web/login")))

    def test_log_in_with_line_of_a_linked_user_drops_a_pending_one(self):
        aiko = self.emu.add_user("Aiko LINE")
        self.link_with_login("line_portal_a", aiko)
        stranger = self.unknown_line_login("Someone Else")
        self.assertTrue(self.notice(self.url_open("/web/login")))
        response = self.callback(self.emu.login.authorize(aiko, self.start("login")))
        self.adopt_session(response)
        self.assertEqual(self.session.uid, self.user_a.id)
        self.assertEqual(urlsplit(self.url_open("/line/login/pending").url).path, "/my/line")
        self.assertFalse(self.identity(stranger).filtered("linked"))

    def test_confirmation_page_in_japanese(self):
        self.use_japanese(self.user_b)
        self.unknown_line_login()
        self.password_login("line_portal_b")
        # this browser was used in English before: the Japanese pages are under /ja/
        page = self.url_open("/ja/line/login/pending")
        self.assertEqual(page.status_code, 200)
        self.assertIn("このLINEアカウントと連携しますか？", page.text)
        self.assertIn("こちらのお客様のアカウント:", page.text)
        self.assertIn("このLINEアカウントと連携する", page.text)
        self.assertIn("Aiko LINE", page.text)
        self.assertNotIn("Link this LINE account?", page.text)
