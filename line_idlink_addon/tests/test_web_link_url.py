"""Issue 8 point 7: once a link URL (/line/link?linkToken=...) was used, or when its LINE
account is linked to someone else, it names nobody: the same page as an unknown link."""

import re
from urllib.parse import quote

from odoo.tests import HttpCase, tagged

from .common import LineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestWebLinkUrl(LineCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()

    def setUp(self):
        super().setUp()
        self.emu = self.start_line_emulator(real_clock=True)


    def open_link(self, login, token):
        self.authenticate(login, login)
        return self.url_open(f"/line/link?linkToken={quote(token, safe='')}")

    @staticmethod
    def main(page):
        return re.sub(r"\s+", " ", re.search(r"<main.*?</main>", page.text, re.S).group(0))

    def identity(self, user):
        return self.env["line.identity"].search([("line_user_id", "=", user.user_id)])

    def test_a_used_link_url_names_nobody(self):
        aiko, token = self.befriend_and_ask("Aiko LINE")
        page = self.open_link("line_portal_a", token)
        self.assertIn("Aiko LINE", page.text)
        confirm = self.url_open("/line/link/confirm", allow_redirects=False, data={
            "csrf_token": self.csrf_from(page.text), "linkToken": token})
        self.assertIsNone(aiko.account_link(token, self.nonce_from(
            confirm.headers["Location"])).error)
        self.deliver()
        self.assertEqual(self.identity(aiko).partner_id, self.user_a.partner_id)
        self.assertTrue(self.identity(aiko).linked)
        # within the link token's 10 minutes, Bunta opens the same URL
        unknown = self.open_link("line_portal_b", "never-issued")
        page = self.open_link("line_portal_b", token)
        self.assertNotIn("Aiko", page.text)
        self.assertNotIn('name="linkToken"', page.text, "no form to link")
        self.assertEqual(self.main(page), self.main(unknown), "the page of an unknown link")
        # and it names nobody even after Aiko unlinked again
        self.identity(aiko).action_unlink_line()
        self.env.flush_all()
        self.assertNotIn("Aiko", self.open_link("line_portal_b", token).text)

    def test_a_link_url_of_someone_elses_line_account_names_nobody(self):
        aiko, token = self.befriend_and_ask("Aiko LINE")
        # the LINE account gets linked to Aiko's account another way (LINE Login)
        self.channel._line_linker().link_from_login(self.user_a.partner_id.id,
                                                    {"sub": aiko.user_id})
        self.env.flush_all()
        unknown = self.open_link("line_portal_b", "never-issued")
        page = self.open_link("line_portal_b", token)
        self.assertNotIn("Aiko", page.text)
        self.assertEqual(self.main(page), self.main(unknown))
        # its owner still sees her own LINE account
        self.assertIn("Aiko LINE", self.open_link("line_portal_a", token).text)
