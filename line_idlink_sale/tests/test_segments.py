
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from odoo.addons.line_idlink_addon.tests.rich_menu_common import RichMenuCommon

from .common import SaleLineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestPurchaseSegments(SaleLineCommon, RichMenuCommon, HttpCase):
    """Purchase-history fields and segments: kept up to date on confirmation and by the nightly
    cron; a rich-menu rule on the segment shows loyal customers their own menu."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param("line_idlink_sale.segment_loyal_orders", 3)
        params.set_param("line_idlink_sale.segment_dormant_days", 180)

    def test_segments_follow_the_orders(self):
        partner = self.partner_a
        self.assertFalse(partner.line_purchase_segment)
        first = self.order(partner, qty=1)
        self.assertEqual((partner.line_order_count_12m, partner.line_purchase_segment),
                         (1, "new"), "updated as the order is confirmed")
        self.assertEqual(partner.line_order_amount_12m, first.amount_total)
        self.assertEqual(partner.line_last_order_date, first.date_order.date())
        self.order(partner, qty=2)
        self.assertEqual(partner.line_purchase_segment, "light")
        third = self.order(partner, qty=1)
        self.assertEqual((partner.line_order_count_12m, partner.line_purchase_segment),
                         (3, "loyal"))
        quotation = self.order(partner, confirm=False)
        self.assertEqual(partner.line_order_count_12m, 3, "quotations do not count")
        third._action_cancel()
        self.assertEqual((partner.line_order_count_12m, partner.line_purchase_segment),
                         (2, "light"), "a cancelled order no longer counts")
        self.assertTrue(quotation)

        # time passes (data, not the clock): every order is 400 days old
        self.env["sale.order"].search([("partner_id", "=", partner.id)]).write(
            {"date_order": "2020-01-01 10:00:00"})
        self.assertEqual(partner.line_purchase_segment, "light", "not recomputed until the cron")
        self.env.ref("line_idlink_sale.ir_cron_line_purchase_segments").method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual((partner.line_order_count_12m, partner.line_order_amount_12m,
                          partner.line_purchase_segment), (0, 0.0, "dormant"))
        self.assertEqual(str(partner.line_last_order_date), "2020-01-01")
        self.assertFalse(self.partner_b.line_purchase_segment, "no orders: no segment")

    def test_loyal_customers_get_their_own_rich_menu(self):
        members, (aiko, bunta) = self.published_members_menu()
        loyal_menu = self.make_menu("Loyal")
        loyal_menu.action_publish()
        self.rule("segment", loyal_menu, sequence=5, name="Loyal customers",
                  domain="[('line_purchase_segment', '=', 'loyal')]")
        self.run_rich_menu_cron()
        self.emu.advance(0)  # bulk links are applied asynchronously by LINE
        self.assertEqual(self.shown(aiko), (members.line_rich_menu_id, "user"))
        for _i in range(3):
            self.order(self.partner_a)
        self.order(self.partner_b)
        identity = self.env["line.identity"].search([("line_user_id", "=", aiko.user_id)])
        self.assertEqual(identity.rich_menu_state, "pending",
                         "the segment change queues Aiko's menu")
        self.run_rich_menu_cron()
        self.emu.advance(0)  # bulk links are applied asynchronously by LINE
        self.assertEqual(self.shown(aiko), (loyal_menu.line_rich_menu_id, "user"))
        self.assertEqual(self.shown(bunta), (members.line_rich_menu_id, "user"),
                         "Bunta (one order) keeps the members' menu")

    def test_nightly_update_is_one_set_based_statement(self):
        """Correctness of the set-based update on many partners (the speed is a bench line:
        scripts/bench odoo-segments)."""
        partners = self.env["res.partner"].create([{"name": f"Bulk {i}"} for i in range(50)])
        orders = self.env["sale.order"].create([
            {"partner_id": p.id, "order_line": [(0, 0, {"product_id": self.product.id,
                                                        "product_uom_qty": 1})]}
            for p in partners for _n in range(1 + partners.ids.index(p.id) % 4)])
        orders.write({"state": "sale"})  # confirmed without action_confirm: only the cron sees
        self.env.flush_all()
        queries = self.env.cr.sql_log_count
        changed = self.env["res.partner"]._cron_line_purchase_segments()
        self.assertLess(self.env.cr.sql_log_count - queries, 20, "a handful of queries")
        self.assertGreaterEqual(changed, 50)
        counts = {p.line_order_count_12m for p in partners}
        self.assertEqual(counts, {1, 2, 3, 4})
        self.assertEqual(set(partners.mapped("line_purchase_segment")),
                         {"new", "light", "loyal"})
        self.assertEqual(self.env["res.partner"]._cron_line_purchase_segments(), 0,
                         "a second run changes nothing")

    def test_merging_contacts_recomputes_their_purchase_history(self):
        duplicate = self.env["res.partner"].create({"name": "Aiko (duplicate)",
                                                    "email": self.partner_a.email})
        for partner in (self.partner_a, self.partner_a, duplicate):
            self.order(partner)
        self.assertEqual((self.partner_a.line_order_count_12m, duplicate.line_order_count_12m),
                         (2, 1))
        admin = self.env.ref("base.user_admin")  # a user, not the superuser: write checks apply
        wizard = self.env["base.partner.merge.automatic.wizard"].with_user(admin).create({})
        wizard._merge((self.partner_a | duplicate).ids, self.partner_a)
        self.assertFalse(duplicate.exists())
        self.assertEqual((self.partner_a.line_order_count_12m,
                          self.partner_a.line_purchase_segment), (3, "loyal"))

    def test_customers_do_not_see_their_segment(self):
        self.order(self.partner_a)
        with self.assertRaises(AccessError):
            self.partner_a.with_user(self.user_a).read(["line_purchase_segment"])
        self.assertEqual(self.partner_a.with_user(self.env.ref("base.user_admin"))
                         .line_purchase_segment, "new")
