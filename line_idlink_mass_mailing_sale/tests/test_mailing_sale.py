import datetime
from xml.etree import ElementTree

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import LineMailingSaleCommon


@tagged("post_install", "-at_install", "line_idlink", "mass_mailing")
class TestLineMailingSale(LineMailingSaleCommon, HttpCase):
    """LINE mailings with Sales installed: purchase segments as recipients (issue 11 item 7),
    A/B winner by revenues (issue 10 item 7) and revenues on the mailing (issue 10 item 6)."""

    def setUp(self):
        super().setUp()
        self.aiko, self.aiko_line = self.line_friend("Aiko")
        self.bunta, self.bunta_line = self.line_friend("Bunta")
        self.chika, self.chika_line = self.line_friend("Chika")
        self.daichi, self.daichi_line = self.line_friend("Daichi")

    def test_light_and_loyal_mailings_each_reach_their_segment(self):
        for partner, orders in ((self.aiko, 5), (self.bunta, 2), (self.chika, 1),
                                (self.daichi, 3)):
            for __ in range(orders):
                self.order(partner)
        # what the nightly cron runs for everyone (confirming already updated each customer)
        self.env["res.partner"]._line_update_purchase_stats()
        self.env.invalidate_all()
        self.assertEqual(
            [p.line_purchase_segment for p in (self.aiko, self.bunta, self.chika, self.daichi)],
            ["loyal", "light", "new", "light"])

        light = self.line_mailing(
            subject="Light", body="Come back: 10% off",
            mailing_domain=repr([("line_purchase_segment", "=", "light")]))
        loyal = self.line_mailing(
            subject="Loyal", body="Thank you: early access",
            mailing_domain=repr([("line_purchase_segment", "=", "loyal")]))
        (light | loyal).action_put_in_queue()
        self.run_mailing_cron()  # Odoo's mailing cron -> the LINE queue
        self.process_queue()     # the queue -> LINE (the emulator)

        self.assertEqual(self.texts(self.aiko_line), ["Thank you: early access"])
        self.assertEqual(self.texts(self.bunta_line), ["Come back: 10% off"])
        self.assertEqual(self.texts(self.daichi_line), ["Come back: 10% off"])
        self.assertEqual(self.texts(self.chika_line), [], "a new customer is in neither segment")
        # every contact of the segment is targeted (Odoo's demo customers too: they have no
        # LINE account), only our LINE friends receive it
        for mailing, segment, receivers in ((light, "light", self.bunta | self.daichi),
                                            (loyal, "loyal", self.aiko)):
            others = self.env["res.partner"].search(
                [("line_purchase_segment", "=", segment), ("id", "not in", receivers.ids)])
            expected = {partner: ("cancel", "line_no_link") for partner in others}
            expected.update({partner: ("sent", None) for partner in receivers})
            self.assertLineTraces(mailing, expected)
            self.assertEqual((mailing.state, mailing.sent), ("done", len(receivers)))

    def test_ab_testing_winner_by_revenues_sent_by_odoo_cron(self):
        everyone = self.aiko | self.bunta | self.chika | self.daichi
        for name in ("Emi", "Fumi", "Goro", "Hana", "Isamu", "Jun"):
            everyone |= self.line_friend(name)[0]
        common = {"ab_testing_enabled": True, "ab_testing_pc": 20,
                  "ab_testing_line_winner_selection": "sale_invoiced_amount",
                  "ab_testing_schedule_datetime":
                      fields.Datetime.now() + datetime.timedelta(days=1)}
        version_a = self.line_mailing(everyone, subject="Autumn A",
                                      body=f"A: new tea {self.shop_url('/web/login')}", **common)
        campaign = version_a.campaign_id
        self.assertEqual(campaign.ab_testing_line_winner_selection, "sale_invoiced_amount")
        version_b = self.line_mailing(everyone, subject="Autumn B",
                                      body=f"B: new tea, -10% {self.shop_url('/web/login')}",
                                      campaign_id=campaign.id, **common)
        self.assertEqual(version_b.ab_testing_line_winner_selection, "sale_invoiced_amount")
        self.assertNotEqual(version_a.source_id, version_b.source_id)
        (version_a | version_b).action_send_mail()
        self.process_queue()
        self.assertEqual(len(self.traces(version_a)), 2, "20% of 10")
        self.assertEqual(len(self.traces(version_b)), 2)

        # A's two receivers order without paying yet, one of B's orders and is invoiced:
        # A has more quotations, B the revenues
        line_user = {partner: self.emu.users[partner.line_identity_ids.line_user_id]
                     for partner in everyone}
        for trace in self.traces(version_a):
            self.click_and_order(line_user[self.env["res.partner"].browse(trace.res_id)])
        self.click_and_order(line_user[self.env["res.partner"].browse(
            self.traces(version_b)[0].res_id)], qty=2, invoice=True)
        self.env.invalidate_all()
        self.assertEqual((version_a.sale_quotation_count, version_a.sale_invoiced_amount), (2, 0))
        self.assertEqual((version_b.sale_quotation_count, version_b.sale_invoiced_amount),
                         (1, 2400))
        self.assertEqual(version_b._get_ab_testing_winner_selection()["description"], "Revenues")

        campaign.ab_testing_schedule_datetime = \
            fields.Datetime.now() - datetime.timedelta(minutes=1)
        self.env.ref("mass_mailing.ir_cron_mass_mailing_ab_testing").method_direct_trigger()
        self.env.invalidate_all()
        winner = campaign.ab_testing_winner_mailing_id
        self.assertTrue(winner, "Odoo's A/B cron chose a winner")
        self.assertTrue(campaign.ab_testing_completed)
        self.assertEqual((winner.mailing_type, winner.line_body), ("line", version_b.line_body))
        self.run_mailing_cron()
        self.process_queue()
        tested = set(self.traces(version_a).mapped("res_id")) | \
            set(self.traces(version_b).mapped("res_id"))
        rest = everyone.filtered(lambda p: p.id not in tested)
        self.assertLineTraces(winner, {partner: ("sent", None) for partner in rest})
        for partner in everyone:
            version = next((mailing for mailing in (version_a, version_b)
                            if partner.id in self.traces(mailing).mapped("res_id")), version_b)
            self.assertEqual([text[:3] for text in self.texts(line_user[partner])],
                             [version.line_body[:3]], f"{partner.name}: one message, its version")

    def test_quotations_and_revenues_on_the_line_mailing(self):
        mailing = self.line_mailing(self.aiko | self.bunta | self.chika, subject="Gift box",
                                    body=f"Gift boxes: {self.shop_url('/web/login')}")
        mailing.action_send_mail()
        self.process_queue()
        self.click_and_order(self.aiko_line, invoice=True)
        self.click_and_order(self.bunta_line, qty=3)
        self.order(self.chika)  # not through the mailing: not counted

        self.authenticate("line_marketer_sale", "line_marketer_sale")
        names, values = self.open_form(mailing)
        self.assertEqual(values["mailing_type"], "line")
        self.assertEqual((values["sale_quotation_count"], values["sale_invoiced_amount"]),
                         (2, 1200))
        arch = ElementTree.fromstring(self.rpc("mailing.mailing", "get_views",
                                               [[False, "form"]])["views"]["form"]["arch"])
        for action in ("action_redirect_to_quotations", "action_redirect_to_invoiced"):
            [button] = arch.findall(f".//button[@name='{action}']")
            self.assertEqual(button.get("invisible"), "state == 'draft'",
                             "shown on a sent LINE mailing like on an e-mail one")

        quotations = self.rpc("mailing.mailing", "action_redirect_to_quotations", [mailing.id])
        orders = self.rpc("sale.report", "search_read", quotations["domain"], ["partner_id"])
        self.assertEqual(sorted(row["partner_id"][0] for row in orders),
                         sorted((self.aiko | self.bunta).ids))
        invoiced = self.rpc("mailing.mailing", "action_redirect_to_invoiced", [mailing.id])
        lines = self.rpc("account.invoice.report", "search_read", invoiced["domain"],
                         ["price_subtotal", "partner_id"])
        self.assertEqual([(row["partner_id"][0], row["price_subtotal"]) for row in lines],
                         [(self.aiko.id, 1200.0)])

        # the 24h statistics e-mail of the mailing: the LINE figures and the sales figures
        kpis = mailing.with_user(self.user_marketing_sale)._prepare_statistics_email_values()[
            "kpi_data"]
        self.assertEqual(kpis[0]["kpi_name"], "line")
        self.assertEqual((kpis[1]["kpi_name"], kpis[1]["kpi_col2"]["value"]), ("sale", 2))
