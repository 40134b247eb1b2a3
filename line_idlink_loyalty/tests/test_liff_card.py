import json
from urllib.parse import urlsplit

from odoo.tests import HttpCase, tagged

from odoo.addons.line_idlink_addon.tests import test_line_login as login_tests

from line_emulator import start_emulator
from line_emulator.clock import Clock

from .common import LoyaltyLineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestLiffCard(LoyaltyLineCommon, HttpCase):
    """The LIFF member card's server side, through the real server: the ID token comes from the
    emulator (ES256, its JWKS served at /oauth2/v2.1/certs) and is posted as the page posts it."""

    def setUp(self):
        super().setUp()
        self.start_with_linked_aiko()

    def assertNothingShown(self, answer):
        self.assertEqual(answer["status"], "refused")
        text = json.dumps(answer, ensure_ascii=False)
        for secret in (self.partner_a.name, self.card_a.code, "1250", "Silver"):
            self.assertNotIn(secret, text)
        self.partner_a.invalidate_recordset()
        self.assertFalse(self.partner_a.line_card_opened_at)

    def test_valid_token_shows_the_linked_customers_card(self):
        answer = self.card_data(self.emu.login.liff_id_token(self.aiko))
        self.assertEqual(answer["status"], "card")
        self.assertEqual(answer["name"], "Aiko Customer")
        self.assertEqual([c["code"] for c in answer["cards"]], ["LINE-A-0001"],
                         "only Aiko's own card (not Bunta's)")
        card = answer["cards"][0]
        self.assertEqual(card["points_display"], "1250 pt")
        self.assertEqual(card["tier"], "Silver")
        self.assertEqual(card["program"], "Member Points")
        self.assertIn("barcode_type=Code128", card["barcode_url"])
        self.assertIn("value=LINE-A-0001", card["qr_url"])
        barcode = self.url_open(card["barcode_url"])
        self.assertEqual(barcode.headers["Content-Type"], "image/png")
        self.partner_a.invalidate_recordset()
        self.assertTrue(self.partner_a.line_card_opened_at, "the partner form shows the opening")

    def test_unlinked_line_user_gets_the_link_button(self):
        bunta = self.emu.add_user("Bunta")
        answer = self.card_data(self.emu.login.liff_id_token(bunta))
        self.assertEqual(answer, {"status": "not_linked",
                                  "link_url": f"/line/liff/card/{self.channel.id}/link"})

    def test_link_button_goes_through_line_login_and_back(self):
        response = self.url_open(f"/line/liff/card/{self.channel.id}/link",
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertIn("/line/login/start?channel=", response.headers["Location"])
        self.assertIn("redirect=%2Fline%2Fliff%2Fcard%2F", response.headers["Location"])

    def test_expired_token_is_refused(self):
        signer = self.emu.login.signer
        now = self.emu.clock.now()
        claims = signer.claims(self.aiko.record, now - 7200, ("openid", "profile"))
        self.assertLess(claims["exp"], now)
        self.assertNothingShown(self.card_data(signer.sign(claims, "liff")))

    def test_wrong_audience_is_refused(self):
        signer = self.emu.login.signer
        claims = signer.claims(self.aiko.record, self.emu.clock.now(), ("openid",))
        claims["aud"] = "1999999999"
        self.assertNothingShown(self.card_data(signer.sign(claims, "liff")))

    def test_hs256_token_is_refused(self):
        """A web-login ID token (HS256 with the channel secret) is not a LIFF token."""
        signer = self.emu.login.signer
        claims = signer.claims(self.aiko.record, self.emu.clock.now(), ("openid",))
        self.assertNothingShown(self.card_data(signer.sign(claims, "web")))

    def test_alg_none_is_refused(self):
        claims = self.emu.login.signer.claims(self.aiko.record, self.emu.clock.now(), ("openid",))
        self.assertNothingShown(self.card_data(self.unsigned_token(claims)))

    def test_garbage_and_missing_tokens_are_refused(self):
        self.assertNothingShown(self.card_data("not-a-jwt"))
        self.assertNothingShown(self.card_data(None))

    def test_token_of_another_login_channel_is_refused(self):
        """Another provider's LINE Login channel (its own key and channel id) signs a valid
        token for the same person: refused."""
        other = start_emulator(seed=8, clock=Clock(start=self.emu.clock.now(), frozen=False))
        self.addCleanup(other.stop)
        stranger = other.emulator.add_user("Aiko")
        token = other.emulator.login.liff_id_token(stranger)
        self.assertNothingShown(self.card_data(token))

    def test_token_posted_to_another_channels_card_is_refused(self):
        """A valid token of channel A's LIFF app, posted to channel B's card: wrong audience."""
        channel_b = self.env["line.channel"].create({
            "name": "Other OA", "line_channel_id": "1650000999", "channel_secret": "x" * 32,
            "access_token": "t", "login_channel_id": "1999999999",
            "login_channel_secret": "y" * 32, "liff_id": "1999999999-OtherApp",
            "api_base": self.channel.api_base, "auth_base": self.channel.auth_base})
        self.link(self.partner_a, self.aiko.user_id, channel=channel_b)
        token = self.emu.login.liff_id_token(self.aiko)
        self.assertNothingShown(self.card_data(token, channel=channel_b))
        self.assertEqual(self.card_data(token)["status"], "card", "still valid on its own card")

    def test_card_page_loads_the_configured_sdk(self):
        page = self.url_open(f"/line/liff/card/{self.channel.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn('src="https://static.line-scdn.net/liff/edge/2/sdk.js"', page.text)
        self.assertIn(f'data-liff-id="{self.emu.config.liff_id}"', page.text)
        self.assertNotIn("Aiko", page.text, "the page itself knows nobody")
        self.channel.liff_id = False
        self.assertEqual(self.url_open(f"/line/liff/card/{self.channel.id}").status_code, 404)


@tagged("post_install", "-at_install", "line_idlink")
class TestLiffCardLink(LoyaltyLineCommon, HttpCase):
    """Not linked → "Link with LINE" (the base's LINE Login) → back to the card, linked."""

    def setUp(self):
        super().setUp()
        self.emu = self.start_liff_emulator()
        self.chika = self.emu.add_user("Chika")
        self.card = f"/line/liff/card/{self.channel.id}"

    def follow_to_line(self):
        """The card's link button, as the browser follows it, up to LINE's consent screen."""
        response = self.url_open(f"{self.card}/link", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        start = urlsplit(response.headers["Location"])
        response = self.url_open(f"{start.path}?{start.query}", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        return response.headers["Location"]

    callback = login_tests.LineLoginMixin.callback

    def test_logged_in_customer_links_and_comes_back_to_the_card(self):
        self.authenticate("line_portal_b", "line_portal_b")
        token = self.emu.login.liff_id_token(self.chika)
        self.assertEqual(self.card_data(token)["status"], "not_linked")
        response = self.callback(self.emu.login.authorize(self.chika, self.follow_to_line()))
        self.assertEqual(response.status_code, 303, response.text[:300])
        self.assertEqual(urlsplit(response.headers["Location"]).path, self.card,
                         "back to the card, not to /my/line")
        answer = self.card_data(token)
        self.assertEqual(answer["status"], "card")
        self.assertEqual(answer["name"], "Bunta Customer")
        self.assertEqual([c["code"] for c in answer["cards"]], ["LINE-B-0002"])

    def test_visitor_logs_in_confirms_and_comes_back_to_the_card(self):
        self.authenticate(None, None)
        response = self.callback(self.emu.login.authorize(self.chika, self.follow_to_line()))
        self.assertEqual(response.status_code, 200)
        self.assertIn("not linked to an account here yet", response.text)
        login_page = self.url_open("/web/login?redirect=/line/login/pending")
        response = self.url_open("/web/login", data={
            "login": "line_portal_b", "password": "line_portal_b",
            "redirect": "/line/login/pending", "csrf_token": self.csrf_from(login_page.text)},
            allow_redirects=False)
        login_tests.LineLoginMixin.adopt_session(self, response)
        page = self.url_open("/line/login/pending")
        response = self.url_open("/line/login/pending/confirm",
                                 data={"csrf_token": self.csrf_from(page.text)})
        self.assertTrue(response.url.endswith(self.card), response.url)
        answer = self.card_data(self.emu.login.liff_id_token(self.chika))
        self.assertEqual(answer["name"], "Bunta Customer")


@tagged("post_install", "-at_install", "line_idlink")
class TestLiffCardLanguage(LoyaltyLineCommon, HttpCase):
    """The card speaks the phone's language (Accept-Language) when Odoo has it installed."""

    def test_japanese_phone_gets_a_japanese_card(self):
        self.start_with_linked_aiko()
        japanese = self.env["res.lang"]._activate_lang("ja_JP")
        if "website" in self.env:  # a website serves only its own languages: this one has ja
            self.env["website"].search([]).write({"language_ids": [(4, japanese.id)]})
        self.env["ir.module.module"]._load_module_terms(["line_idlink_loyalty"], ["ja_JP"],
                                                        overwrite=True)
        self.env.flush_all()
        page = self.url_open(f"/line/liff/card/{self.channel.id}",
                             headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"})
        self.assertIn("会員番号", page.text)
        self.assertIn("LINEで連携する", page.text)
        english = self.url_open(f"/line/liff/card/{self.channel.id}",
                                headers={"Accept-Language": "en-US,en;q=0.9"})
        self.assertIn("Member number", english.text)
        refused = self.make_jsonrpc_request(
            f"/line/liff/card/{self.channel.id}/data", {"id_token": "x"},
            headers={"Accept-Language": "ja"})
        self.assertIn("LINEアカウントを確認できませんでした", refused["message"])
