from urllib.parse import quote

from odoo.tests import HttpCase, tagged

from odoo.addons.line_idlink_addon.tests import test_screenshots as screens

from .common import MOCK_SDK, LoyaltyLineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestLiffCardTour(LoyaltyLineCommon, HttpCase):
    """The card page in Chromium: the LIFF SDK is the configured mock, the ID token a real one
    from the emulator, verified by the server against the emulator's JWKS."""

    def setUp(self):
        super().setUp()
        self.start_with_linked_aiko()
        self.channel.liff_sdk_url = MOCK_SDK

    def card_url(self, line_user):
        token = self.emu.login.liff_id_token(line_user)
        return f"/line/liff/card/{self.channel.id}?liff_mock_id_token={quote(token, safe='')}"

    def test_card_tour(self):
        """Also the README's screenshot (saved when LINE_IDLINK_SCREENSHOTS names a folder)."""
        self.browser_size = "412x915"  # a phone: LINE's in-app browser
        screens.TestScreens.capture(self, None, self.card_url(self.aiko),
                                    "line_idlink_loyalty_liff_card", "odoo-liff-member-card.png")
        self.partner_a.invalidate_recordset()
        self.assertTrue(self.partner_a.line_card_opened_at)

    def test_external_browser_tour(self):
        """A desktop browser without a LINE session: liff.login(), back to the card."""
        self.browser_size = "1366x768"
        self.start_tour(f"/line/liff/card/{self.channel.id}?liff_mock_id_token=",
                        "line_idlink_loyalty_liff_external")

    def test_unlinked_tour(self):
        stranger = self.emu.add_user("Stranger")
        self.start_tour(self.card_url(stranger), "line_idlink_loyalty_liff_unlinked")
