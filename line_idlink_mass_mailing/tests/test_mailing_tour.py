from odoo.tests import HttpCase, tagged

from odoo.addons.line_idlink_addon.tests import test_screenshots

from .common import LineMailingCommon


@tagged("post_install", "-at_install", "line_idlink", "mass_mailing")
class TestMailingLineTour(LineMailingCommon, HttpCase):
    """The marketer's journey in Chromium: a LINE mailing on a segment, preview, cost, test,
    send (Odoo's mailing cron and the LINE queue run between the two tours), statistics."""

    def test_marketer_tour(self):
        self.emu.config.quota = 100
        aiko, aiko_line = self.line_friend("Aiko")
        bunta, bunta_line = self.line_friend("Bunta")
        __, mika_line = self.line_friend("Mika", partner=self.user_marketing.partner_id)
        contacts = self.env["mailing.contact"].create([
            {"name": "Aiko", "email": aiko.email}, {"name": "Bunta", "email": bunta.email},
            {"name": "Chika (no LINE)", "email": "chika@example.com"}])
        self.env["mailing.list"].create({"name": "LINE fans", "contact_ids": contacts.ids})
        self.start_tour("/odoo/action-line_idlink_mass_mailing.mailing_mailing_action_line/new",
                        "line_idlink_mass_mailing_campaign", login="line_marketer")
        mailing = self.env["mailing.mailing"].search([("subject", "=", "Summer on LINE")])
        self.assertEqual((mailing.mailing_type, mailing.state), ("line", "in_queue"))
        self.process_queue()
        self.assertEqual(self.texts(mika_line), ["Summer sale starts today!"], "the test")
        self.run_mailing_cron()
        self.process_queue()
        self.assertEqual(self.texts(aiko_line), ["Summer sale starts today!"])
        self.assertEqual(self.texts(bunta_line), ["Summer sale starts today!"])
        self.assertEqual(mailing.state, "done")
        self.start_tour(f"/odoo/action-line_idlink_mass_mailing.mailing_mailing_action_line/"
                        f"{mailing.id}", "line_idlink_mass_mailing_statistics",
                        login="line_marketer")
        # the README screenshot (saved when LINE_IDLINK_SCREENSHOTS names a folder)
        test_screenshots.TestScreens.capture(
            self, "line_marketer", f"/odoo/action-line_idlink_mass_mailing."
            f"mailing_mailing_action_line/{mailing.id}", "line_idlink_mass_mailing_screen",
            "odoo-line-mailing.png")
