"""Issue 8 point 14 (part): "Log in with LINE" uses the LINE Login channel of the request's
company (the website's company with the website module, else the user's company)."""

import html
import re
from urllib.parse import parse_qs, urlsplit

from odoo.tests import HttpCase, new_test_user, tagged

from .test_line_login import LineLoginMixin


@tagged("post_install", "-at_install", "line_idlink")
class TestWebCompanyChannel(LineLoginMixin, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Shop B"})
        cls.channel_b = cls.env["line.channel"].create({
            "name": "Shop B OA", "line_channel_id": "1650000099", "channel_secret": "b" * 32,
            "access_token": "token-b", "login_channel_id": "1650000098",
            "login_channel_secret": "c" * 32, "company_id": cls.company_b.id,
            "api_base": "http://127.0.0.1:9", "auth_base": "http://127.0.0.1:9/shop-b"})
        cls.user_shop_b = new_test_user(
            cls.env, login="line_portal_shop_b", groups="base.group_portal", name="Chika B",
            company_id=cls.company_b.id, company_ids=[(6, 0, [cls.company_b.id])])

    def buttons(self, page, css):
        hrefs = [html.unescape(re.search(r'href="([^"]*)"', tag).group(1))
                 for tag in re.findall(r'<a\b[^>]*\b%s\b[^>]*>' % css, page.text)]
        return [parse_qs(urlsplit(href).query)["channel"][0] for href in hrefs]

    def test_login_page_offers_the_channel_of_the_visitors_company_only(self):
        self.authenticate(None, None)
        self.assertEqual(self.buttons(self.url_open("/web/login"), "o_line_login"),
                         [str(self.channel.id)])
        # the other company's channel cannot be used here
        response = self.url_open(f"/line/login/start?channel={self.channel_b.id}&mode=login",
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 404)
        self.assertNotIn("shop-b", response.headers.get("Location", ""))
        # without a channel, the company's one
        response = self.url_open("/line/login/start?mode=login", allow_redirects=False)
        self.assertTrue(response.headers["Location"].startswith(
            self.channel.auth_base + "/oauth2/v2.1/authorize?"))

    def test_portal_link_button_uses_the_customers_company_channel(self):
        # with the website module (installed by a bridge) the website's company decides: the
        # website then belongs to the customer's company
        website = "website" in self.env and self.env["website"].get_current_website()
        if website:
            website.company_id = self.company_b
        self.authenticate("line_portal_shop_b", "line_portal_shop_b")
        self.assertEqual(self.buttons(self.url_open("/my/line"), "o_line_login_link"),
                         [str(self.channel_b.id)])
        response = self.url_open(f"/line/login/start?channel={self.channel_b.id}&mode=link",
                                 allow_redirects=False)
        self.assertTrue(response.headers["Location"].startswith(
            "http://127.0.0.1:9/shop-b/oauth2/v2.1/authorize?"), response.headers["Location"])
        self.assertEqual(self.url_open(f"/line/login/start?channel={self.channel.id}&mode=link",
                                       allow_redirects=False).status_code, 404)
        # and a customer of the first company still gets the first company's channel
        if website:
            website.company_id = self.channel.company_id
        self.authenticate("line_portal_a", "line_portal_a")
        self.assertEqual(self.buttons(self.url_open("/my/line"), "o_line_login_link"),
                         [str(self.channel.id)])
