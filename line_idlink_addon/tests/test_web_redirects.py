"""Issue 8 point 6: one rule for same-site redirect targets (the core's
line_idlink.redirects.safe_redirect), used by every redirect the addon takes from a visitor."""

from urllib.parse import quote, urlsplit

from odoo.tests import HttpCase, tagged

from line_idlink.redirects import is_same_site

from .test_line_login import LineLoginMixin

EVIL = ("/\\evil.example/x", "//evil.example", "\\\\evil.example", "https://evil.example",
        "javascript:alert(1)", "/%5Cevil.example", "/%2F/evil.example", "/%255Cevil.example",
        "/\tevil.example", "/\t/evil.example", "/\n/evil.example", "http:/evil.example",
        " /my", "evil.example")


@tagged("post_install", "-at_install", "line_idlink")
class TestWebRedirects(LineLoginMixin, HttpCase):

    def test_log_in_with_line_never_leaves_the_site(self):
        aiko = self.emu.add_user("Aiko LINE")
        self.link_with_login("line_portal_a", aiko)
        start = f"/line/login/start?channel={self.channel.id}&mode=login&redirect="
        for evil in EVIL:
            with self.subTest(redirect=evil):
                target = self.log_in_with_line(aiko, start + quote(evil, safe=""))
                self.assertEqual((target.netloc, target.path, target.query), ("", "/my", ""))
        target = self.log_in_with_line(aiko, start + quote("/my/line?a=%2F%2Fb", safe=""))
        self.assertEqual(f"{target.path}?{target.query}", "/my/line?a=%2F%2Fb")

    def test_cancelling_a_pending_login_never_leaves_the_site(self):
        page = self.url_open("/web/login")
        csrf = self.csrf_from(page.text)
        for evil in EVIL:
            with self.subTest(redirect=evil):
                response = self.url_open("/line/login/pending/cancel", allow_redirects=False,
                                         data={"csrf_token": csrf, "redirect": evil})
                self.assertIn(response.status_code, (302, 303))
                location = urlsplit(response.headers["Location"])
                self.assertIn(location.netloc, ("", urlsplit(self.base_url()).netloc))
                self.assertEqual(location.path, "/web/login")
        response = self.url_open("/line/login/pending/cancel", allow_redirects=False,
                                 data={"csrf_token": csrf, "redirect": "/web/signup"})
        self.assertEqual(urlsplit(response.headers["Location"]).path, "/web/signup")

    def test_password_login_never_leaves_the_site(self):
        """Odoo's own /web/login (and /web/signup) `redirect`: the same rule (werkzeug 2.2 keeps
        "/\\evil.example" as is in Location, which browsers read as //evil.example)."""
        for evil in EVIL:
            with self.subTest(redirect=evil):
                self.authenticate(None, None)
                page = self.url_open("/web/login?redirect=" + quote(evil, safe=""))
                response = self.url_open("/web/login", allow_redirects=False, data={
                    "login": "line_portal_a", "password": "line_portal_a", "redirect": evil,
                    "csrf_token": self.csrf_from(page.text)})
                self.assertIn(response.status_code, (302, 303))
                location = urlsplit(response.headers["Location"])
                self.assertIn(location.netloc, ("", urlsplit(self.base_url()).netloc))
                self.assertTrue(is_same_site(location.path), response.headers["Location"])
                # already logged in: a GET with the target redirects at once
                again = self.url_open("/web/login?redirect=" + quote(evil, safe=""),
                                      allow_redirects=False)
                if again.status_code in (301, 302, 303):
                    location = urlsplit(again.headers["Location"])
                    self.assertIn(location.netloc, ("", urlsplit(self.base_url()).netloc))
                    self.assertTrue(is_same_site(location.path), again.headers["Location"])
