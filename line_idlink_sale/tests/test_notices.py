import json

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .common import SaleLineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestSaleNotices(SaleLineCommon, HttpCase):
    """Order and invoice notices: per-company switch, template, outgoing queue with the record
    as origin, chatter note, once per record and stage, only to reachable linked customers."""

    def setUp(self):
        super().setUp()
        self.aiko, self.ident_a = self.friend_linked_to("Aiko", self.partner_a)
        self.bunta = self.emu.add_user("Bunta")
        self.bunta.follow()  # a friend, never linked

    def last_message(self, sim_user):
        self.assertTrue(sim_user.inbox, f"{sim_user.display_name} received a message")
        return sim_user.inbox[-1]["message"]

    def test_order_confirmed_notice_reaches_the_customer_once(self):
        self.switch_on("order_confirmed")
        order = self.order(self.partner_a, qty=2)
        row = self.queued_for(order)
        self.assertEqual(len(row), 1, "one LINE message about the order, queued")
        self.assertEqual((row.line_user_id, row.partner_id, row.state),
                         (self.aiko.user_id, self.partner_a, "outgoing"))
        self.assertTrue(row.retry_key)
        self.assertIn("Sent on LINE to Aiko", order.message_ids[0].body)
        self.assertFalse(self.aiko.inbox, "nothing reaches LINE before the queue runs")

        self.send_queue()
        message = self.last_message(self.aiko)
        text = " ".join(self.flex_texts(message))
        self.assertIn(order.name, text)
        self.assertIn("It is confirmed", text)
        [url] = self.uris(message)
        self.assertIn(f"/my/orders/{order.id}?access_token={order.access_token}", url)
        self.assertEqual([p["retryKey"] for p in self.emu.requests_for("pushMessage")],
                         [row.retry_key])
        # the portal link opens the order for the customer (no login: the access token)
        page = self.url_open(url[url.index("/my/orders/"):])
        self.assertEqual(page.status_code, 200)
        self.assertIn(order.name, page.text)

        # cancelled and confirmed again: no second notice
        order._action_cancel()
        order.action_draft()
        order.action_confirm()
        self.assertEqual(len(self.queued_for(order)), 1)

    def test_no_notice_when_switched_off_unlinked_blocked_or_other_company(self):
        order = self.order(self.partner_a)
        self.assertFalse(self.queued_for(order), "switch off (the default): nothing")
        self.switch_on("order_confirmed")
        self.assertFalse(self.queued_for(self.order(self.partner_b)), "Bunta is not linked")
        self.ident_a.follow_state = "blocked"
        self.assertFalse(self.queued_for(self.order(self.partner_a)), "Aiko blocked the OA")
        self.ident_a.follow_state = "followed"
        other = self.env["res.company"].create({"name": "Other Co", "currency_id":
                                                self.company.currency_id.id})
        self.channel.company_id = other
        self.assertFalse(self.queued_for(self.order(self.partner_a)),
                         "the only link is on another company's channel")
        self.channel.company_id = self.company
        self.assertTrue(self.queued_for(self.order(self.partner_a)))
        self.assertFalse(self.emu.requests_for("pushMessage"))

    def test_marketing_opt_out_does_not_stop_transactional_notices(self):
        self.switch_on("order_confirmed")
        self.env["mail.blacklist"].sudo()._add(self.partner_a.email)
        self.assertTrue(self.queued_for(self.order(self.partner_a)))

    def test_invoice_posted_with_pay_link(self):
        self.switch_on("invoice_posted")
        move = self.invoice(self.partner_a, amount=5000)
        row = self.queued_for(move)
        self.assertEqual(len(row), 1)
        self.send_queue()
        message = self.last_message(self.aiko)
        self.assertIn(move.name, " ".join(self.flex_texts(message)))
        [url] = self.uris(message)
        self.assertIn(f"/my/invoices/{move.id}?access_token={move.access_token}", url)
        self.assertIn("Sent on LINE", move.message_ids[0].body)
        # reset to draft and posted again: not twice
        move.button_draft()
        move.action_post()
        self.assertEqual(len(self.queued_for(move)), 1)

    def test_due_and_overdue_reminders_once_per_stage(self):
        self.switch_on("invoice_due", "invoice_overdue")
        self.company.line_notice_due_days = 3
        soon = self.invoice(self.partner_a, amount=1000, due_in=2)
        later = self.invoice(self.partner_a, amount=2000, due_in=20)
        late = self.invoice(self.partner_a, amount=3000, due_in=-4)
        paid_late = self.invoice(self.partner_a, amount=4000, due_in=-4)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=paid_late.ids).create({})._create_payments()
        bunta_late = self.invoice(self.partner_b, amount=5000, due_in=-4)
        self.assertFalse(self.queued_for(soon), "posting notice switched off")

        cron = self.env.ref("line_idlink_sale.ir_cron_line_invoice_reminders")
        cron.method_direct_trigger()
        self.assertEqual(len(self.queued_for(soon)), 1, "due in 2 days: reminded")
        self.assertEqual(len(self.queued_for(late)), 1, "overdue: told")
        self.assertFalse(self.queued_for(later), "due in 20 days: not yet")
        self.assertFalse(self.queued_for(paid_late), "paid: nothing")
        self.assertFalse(self.queued_for(bunta_late), "Bunta is not linked")
        self.assertTrue(soon.line_due_notice_sent and late.line_overdue_notice_sent)

        cron.method_direct_trigger()  # the next day's run
        self.assertEqual(len(self.queued_for(soon)) + len(self.queued_for(late)), 2,
                         "at most once per invoice per stage")
        self.send_queue()
        texts = [" ".join(self.flex_texts(e["message"])) for e in self.aiko.inbox]
        self.assertEqual(len(texts), 2)
        self.assertTrue(any("is due on" in t and soon.name in t for t in texts))
        self.assertTrue(any("still unpaid" in t and late.name in t for t in texts))

    def test_japanese_customer_gets_the_japanese_template(self):
        self.env["res.lang"]._activate_lang("ja_JP")
        self.env["ir.module.module"]._load_module_terms(["line_idlink_sale"], ["ja_JP"],
                                                        overwrite=True)
        self.partner_a.lang = "ja_JP"
        self.switch_on("order_confirmed")
        order = self.order(self.partner_a)
        self.send_queue()
        message = self.last_message(self.aiko)
        text = " ".join(self.flex_texts(message))
        self.assertIn("ご注文", text)
        self.assertIn(order.name, text)
        self.assertIn("注文を見る", json.dumps(message, ensure_ascii=False))

    def test_templates_and_flags_are_not_writable_by_customers_or_salesmen(self):
        template = self.env.ref("line_idlink_sale.notice_order_confirmed")
        salesman = self.env["res.users"].create({
            "name": "Sam Sales", "login": "sam_sales",
            "groups_id": [(6, 0, [self.env.ref("sales_team.group_sale_salesman").id])]})
        with self.assertRaises(AccessError):
            template.with_user(salesman).write({"body": "{{ object.partner_id.email }}"})
        with self.assertRaises(AccessError):
            self.partner_a.with_user(salesman).write({"line_purchase_segment": "loyal"})

    def test_salesmen_cannot_reset_the_notice_flags_over_json_rpc(self):
        """A reset flag would make a notice go twice: only the code writes the flags (sudo);
        a salesman confirms and invoices, opens the forms, and cannot write them."""
        self.switch_on("order_confirmed", "invoice_posted")
        sam = self.staff_user("sam_sales", "sales_team.group_sale_salesman",
                              "account.group_account_invoice")
        self.authenticate("sam_sales", "sam_sales_pw1")
        order = self.order(self.partner_a, confirm=False)
        order.user_id = sam  # a salesman sees his own orders
        self.rpc("sale.order", "action_confirm", [order.id])
        self.assertEqual(len(self.queued_for(order)), 1)
        self.assertTrue(order.line_confirmed_notice_sent)
        names, values = self.open_form(order)
        self.assertEqual((values["name"], values["state"]), (order.name, "sale"))
        self.assertNotIn("line_confirmed_notice_sent", names)
        self.assert_rpc_refused("sale.order", "write", [order.id],
                                {"line_confirmed_notice_sent": False})
        self.assert_rpc_refused("sale.order", "read", [order.id], ["line_confirmed_notice_sent"])
        order._action_cancel()
        order.action_draft()
        self.rpc("sale.order", "action_confirm", [order.id])
        self.assertEqual(len(self.queued_for(order)), 1, "a re-confirmed order says nothing")

        invoice = self.invoice(self.partner_a, post=False)
        self.rpc("account.move", "action_post", [invoice.id])
        self.assertEqual(len(self.queued_for(invoice)), 1)
        names, values = self.open_form(invoice)
        self.assertEqual(values["state"], "posted")
        flags = ["line_posted_notice_sent", "line_due_notice_sent", "line_overdue_notice_sent"]
        self.assertFalse(set(flags) & set(names))
        for flag in flags:
            self.assert_rpc_refused("account.move", "write", [invoice.id], {flag: False})
        self.assertTrue(invoice.line_posted_notice_sent)
        self.assertFalse(invoice.copy().line_posted_notice_sent, "copy=False")
        self.assertFalse(order.copy().line_confirmed_notice_sent, "copy=False")

    def test_a_company_template_edited_in_the_back_office_is_used(self):
        self.switch_on("order_confirmed")
        shared = self.env.ref("line_idlink_sale.notice_order_confirmed")
        shared.copy({"company_id": self.company.id, "button_label": "Open",
                     "body": "{{ object.partner_id.name }}, we are preparing {{ object.name }}."})
        order = self.order(self.partner_a)
        self.send_queue()
        message = self.last_message(self.aiko)
        self.assertEqual(self.flex_texts(message),
                         [f"{self.partner_a.name}, we are preparing {order.name}."])
        self.assertEqual(message["contents"]["footer"]["contents"][0]["action"]["label"], "Open")

    def test_a_broken_template_never_blocks_the_order(self):
        self.switch_on("order_confirmed")
        self.env.ref("line_idlink_sale.notice_order_confirmed").body = \
            "{{ object.no_such_field }}"
        with self.assertLogs("odoo.addons.line_idlink_sale.models.line_notice_template",
                             "WARNING"):
            order = self.order(self.partner_a)
        self.assertEqual(order.state, "sale", "the order is confirmed all the same")
        self.assertFalse(self.queued_for(order))
        self.assertFalse(order.line_confirmed_notice_sent)
        self.assertIn("LINE notice not sent", order.message_ids[0].body)
