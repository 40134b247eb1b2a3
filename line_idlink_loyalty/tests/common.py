import base64
import json

from odoo.addons.line_idlink_addon.tests.common import LineCommon

MOCK_SDK = "/line_idlink_loyalty/static/tests/liff_mock_sdk.js"


class LoyaltyLineCommon(LineCommon):
    """Two portal customers (Aiko: linked, Bunta: linked in the chat tests) with loyalty cards of
    a program with tiers and an eWallet; helpers for LIFF ID tokens from the emulator."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._loyalty_setup()

    @classmethod
    def _loyalty_setup(cls):
        cls._line_setup()
        cls.program = cls.env["loyalty.program"].create({
            "name": "Member Points", "program_type": "loyalty", "portal_visible": True,
            "portal_point_name": "pt", "line_tier_ids": [
                (0, 0, {"name": "Regular", "threshold": 0}),
                (0, 0, {"name": "Silver", "threshold": 1000}),
                (0, 0, {"name": "Gold", "threshold": 5000})]})
        cls.ewallet = cls.env["loyalty.program"].create({
            "name": "Shop Wallet", "program_type": "ewallet"})
        cls.partner_a = cls.user_a.partner_id
        cls.partner_b = cls.user_b.partner_id
        cls.card_a = cls.env["loyalty.card"].create({
            "program_id": cls.program.id, "partner_id": cls.partner_a.id, "points": 1250,
            "code": "LINE-A-0001"})
        cls.card_b = cls.env["loyalty.card"].create({
            "program_id": cls.program.id, "partner_id": cls.partner_b.id, "points": 80,
            "code": "LINE-B-0002"})

    @classmethod
    def link(cls, partner, line_user_id, channel=None):
        """An active link, as the account-link protocol leaves it."""
        return cls.env["line.identity"]._line_link_protocol().create({
            "channel_id": (channel or cls.channel).id, "line_user_id": line_user_id,
            "name": partner.name, "partner_id": partner.id, "linked": True,
            "follow_state": "followed", "link_method": "messaging_api",
            "linked_since": "2026-11-01 09:00:00"})

    def start_liff_emulator(self, **options):
        """The emulator on a ticking clock (its ID tokens are valid now for Odoo) and the
        channel's LIFF app on its LINE Login channel."""
        emu = self.start_line_emulator(real_clock=True, **options)
        self.channel.write({"liff_id": emu.config.liff_id})
        return emu

    def start_with_linked_aiko(self):
        """The LIFF emulator (``self.emu``) and its user Aiko (``self.aiko``) linked to the
        customer Aiko."""
        self.emu = self.start_liff_emulator()
        self.aiko = self.emu.add_user("Aiko")
        self.link(self.partner_a, self.aiko.user_id)

    def card_data(self, token, channel=None):
        channel = channel or self.channel
        return self.make_jsonrpc_request(f"/line/liff/card/{channel.id}/data",
                                         {"id_token": token})

    @staticmethod
    def unsigned_token(claims):
        """``alg: none``: a JWT without a signature."""
        def b64(value):
            raw = json.dumps(value, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
