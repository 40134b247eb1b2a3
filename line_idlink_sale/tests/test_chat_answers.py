"""注文履歴 / 請求書 / 残高 in the chat: LINE users of the emulator write to the official account
(webhooks signed by the emulator and posted to Odoo's webhook route), the event cron answers
through the base addon's extension API, and each customer sees their own records only, exactly
those the portal shows them."""

import json

from odoo.tests import HttpCase, tagged

from .common import SaleLineCommon


@tagged("post_install", "-at_install", "line_idlink")
class TestChatAnswers(SaleLineCommon, HttpCase):

    def setUp(self):
        super().setUp()
        self.aiko, self.bunta, self.chika = (self.emu.add_user(n) for n in ("Aiko", "Bunta",
                                                                            "Chika"))
        for user in (self.aiko, self.bunta, self.chika):
            user.follow()
        self.deliver()
        for user, partner in ((self.aiko, self.partner_a), (self.bunta, self.partner_b)):
            self.identity(user)._line_link_protocol().write({
                "partner_id": partner.id, "linked": True, "link_method": "messaging_api"})
        for user in (self.aiko, self.bunta, self.chika):
            user.inbox.clear()  # the invitations of the follow
        self.env.flush_all()

    # ---- helpers ---------------------------------------------------------------------------------
    def identity(self, user):
        return self.env["line.identity"].sudo().search([("line_user_id", "=", user.user_id)])

    def ask(self, user, text=None, postback=None):
        """``user`` writes ``text`` (or taps a postback); returns the one answer."""
        if text is not None:
            user.say(text)
        else:
            user.postback(postback)
        self.deliver()
        answers = [entry["message"] for entry in user.inbox]
        user.inbox.clear()
        self.assertEqual(len(answers), 1, answers)
        return answers[0]

    @staticmethod
    def bubbles(message):
        contents = message["contents"]
        return contents["contents"] if contents["type"] == "carousel" else [contents]

    def titles(self, message):
        return [b["header"]["contents"][0]["text"] for b in self.bubbles(message)]

    def portal_path(self, uri):
        return uri[uri.index("/my/"):]

    # ---- 注文履歴 ------------------------------------------------------------------------------
    def test_order_history_shows_each_customer_only_their_orders(self):
        a_old = self.order(self.partner_a, qty=1, days_ago=20)
        a_new = self.order(self.partner_a, qty=3)
        self.order(self.partner_a, confirm=False)  # a quotation: not in "My Orders"
        b_order = self.order(self.partner_b, qty=2)

        answer_a = self.ask(self.aiko, "注文履歴")
        self.assertEqual(answer_a["type"], "flex")
        self.assertEqual(self.titles(answer_a), [a_new.name, a_old.name], "newest first")
        first = self.bubbles(answer_a)[0]
        texts = self.flex_texts(first)
        self.assertIn("Sales Order", texts, "the state")
        self.assertTrue(any("3,600" in t for t in texts), texts)  # 3 x 1,200
        [uri] = self.uris(first)
        self.assertIn(f"/my/orders/{a_new.id}?access_token={a_new.access_token}", uri)
        page = self.url_open(self.portal_path(uri))  # opens without logging in
        self.assertEqual(page.status_code, 200)
        self.assertIn(a_new.name, page.text)

        # Bunta taps the rich-menu button, and tries to ask for Aiko's data in the postback
        answer_b = self.ask(self.bunta, postback=f"action=orders&partner_id={self.partner_a.id}")
        self.assertEqual(self.titles(answer_b), [b_order.name])
        self.assertNotIn(a_new.name, json.dumps(answer_b))

    def test_answers_use_the_portal_domains(self):
        """The records of each answer are those the portal's record rules show the portal user
        (sale.sale_order_rule_portal, account.account_invoice_rule_portal)."""
        for partner in (self.partner_a, self.partner_b):
            self.order(partner)
            self.invoice(partner, amount=700, due_in=5)
        # Aiko's company contact places an order for the company: Aiko sees it (child_of)
        company = self.env["res.partner"].create({"name": "Aiko Tea Ltd", "is_company": True})
        self.partner_a.parent_id = company
        company_order = self.order(company)
        for user, portal in ((self.aiko, self.user_a), (self.bunta, self.user_b)):
            shown = set(self.titles(self.ask(user, "注文履歴")))
            portal_orders = self.env["sale.order"].with_user(portal).search(
                [("state", "=", "sale")])
            self.assertEqual(shown, set(portal_orders.mapped("name")), portal.name)
            shown_invoices = set(self.titles(self.ask(user, "請求書")))
            portal_invoices = self.env["account.move"].with_user(portal).search(
                [("move_type", "=", "out_invoice"), ("payment_state", "in",
                                                     ("not_paid", "partial"))])
            self.assertEqual(shown_invoices, set(portal_invoices.mapped("name")), portal.name)
        self.assertIn(company_order.name, self.titles(self.ask(self.aiko, "注文履歴")))
        self.assertNotIn(company_order.name, self.titles(self.ask(self.bunta, "注文履歴")))

    # ---- 請求書 / 残高 ---------------------------------------------------------------------------
    def test_open_invoices_with_overdue_marked_and_pay_link(self):
        late = self.invoice(self.partner_a, amount=3000, due_in=-4)
        soon = self.invoice(self.partner_a, amount=2000, due_in=10)
        paid = self.invoice(self.partner_a, amount=1000, due_in=3)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=paid.ids).create({})._create_payments()
        self.invoice(self.partner_b, amount=9000, due_in=-4)
        draft = self.invoice(self.partner_a, amount=500, post=False)
        self.assertTrue(draft)

        answer = self.ask(self.aiko, "請求書")
        self.assertEqual(self.titles(answer), [late.name, soon.name], "oldest due first")
        late_bubble, soon_bubble = self.bubbles(answer)
        self.assertIn("Overdue", self.flex_texts(late_bubble))
        self.assertNotIn("Overdue", self.flex_texts(soon_bubble))
        self.assertTrue(any("3,000" in t for t in self.flex_texts(late_bubble)))
        [uri] = self.uris(late_bubble)
        self.assertIn(f"/my/invoices/{late.id}?access_token={late.access_token}", uri)
        page = self.url_open(self.portal_path(uri))
        self.assertEqual(page.status_code, 200)
        self.assertIn(late.name, page.text)

        balance = self.ask(self.aiko, postback="action=balance")
        texts = self.flex_texts(balance)
        self.assertIn("5,000", texts[1], "the total owed: 3,000 + 2,000")
        overdue_row = dict(zip(texts, texts[1:]))["Overdue"]
        self.assertIn("3,000", overdue_row)
        self.assertIn("Your balance", balance["altText"])
        self.assertNotIn("9,000", json.dumps(balance), "not Bunta's invoice")

    def test_nothing_to_show(self):
        self.assertEqual(self.ask(self.aiko, "注文履歴")["type"], "text")
        self.assertEqual(self.ask(self.aiko, "請求書")["type"], "text")

    # ---- not linked ---------------------------------------------------------------------------
    def test_a_customer_who_is_not_linked_is_invited_to_link(self):
        self.order(self.partner_a)
        for asked in ({"text": "注文履歴"}, {"text": "請求書"}, {"postback": "action=balance"}):
            answer = self.ask(self.chika, **asked)
            self.assertEqual(answer["type"], "template", asked)
            self.assertEqual(answer["template"]["actions"][0]["data"], "action=link")
        # unlinked since: the same
        self.identity(self.aiko)._line_link_protocol().write({"linked": False})
        self.env.flush_all()
        self.assertEqual(self.ask(self.aiko, "注文履歴")["type"], "template")

    # ---- configuration ------------------------------------------------------------------------
    def test_presets_keywords_and_linked_menu_buttons(self):
        area = self.env["line.rich.menu.area"]
        presets = dict(area._fields["postback_preset"]._description_selection(self.env))
        self.assertLessEqual({"orders", "invoices", "balance"}, set(presets))
        buttons = {b.get("preset"): b for b in self.channel._line_linked_menu_buttons()}
        for preset in ("orders", "invoices", "balance"):
            self.assertTrue(buttons[preset]["tile"].startswith("line_idlink_sale/static/img/"))
        # a channel's own keyword for the order history
        self.env["line.chat.keyword"].create({"channel_id": self.channel.id, "action": "orders",
                                              "keywords": "履歴、orders"})
        order = self.order(self.partner_a)
        self.assertEqual(self.titles(self.ask(self.aiko, "orders")), [order.name])
        self.assertEqual(self.ask(self.aiko, "注文履歴")["type"], "text",
                         "the default keyword is replaced: the default answer")

    def test_answers_in_japanese(self):
        self.env["res.lang"]._activate_lang("ja_JP")
        self.env["ir.module.module"]._load_module_terms(
            ["line_idlink_addon", "line_idlink_sale", "sale", "account"], ["ja_JP"],
            overwrite=True)
        self.partner_a.lang = "ja_JP"
        self.invoice(self.partner_a, amount=3000, due_in=-4)
        answer = self.ask(self.aiko, "請求書")
        texts = self.flex_texts(answer)
        self.assertIn("期日超過", texts)
        self.assertIn("支払期日", texts)
        self.assertEqual(answer["altText"], "未払いの請求書")

    def test_raw_signed_postback_with_an_expired_reply_token_is_pushed_scoped(self):
        """A webhook POST signed like LINE (not from the emulator's chat): the reply token is
        unknown to LINE, so the answer is queued as a push, still with the asker's orders only,
        whatever the postback data says."""
        a_order = self.order(self.partner_a)
        b_order = self.order(self.partner_b)
        body = {"destination": "U" + "0" * 32, "events": [{
            "type": "postback", "mode": "active", "timestamp": 1767225600000,
            "webhookEventId": "01HRAWPOSTBACK0000000000001",
            "deliveryContext": {"isRedelivery": False},
            "source": {"type": "user", "userId": self.bunta.user_id},
            "replyToken": "0f3779fba3b349968c5d07db31eab56f",
            "postback": {"data": f"action=orders&partner_id={self.partner_a.id}"}}]}
        response = self.signed_post(body, secret=self.emu.config.channel_secret)
        self.assertEqual(response.status_code, 200)
        self.process_events()
        push = self.env["line.message"].sudo().search([("line_user_id", "=",
                                                        self.bunta.user_id)])
        self.assertEqual(len(push), 1, "the failed reply became one queued push")
        stored = json.loads(push.messages)[0]
        self.assertEqual(self.titles(stored), [b_order.name])
        self.assertNotIn(a_order.name, push.messages)
        self.send_queue()
        self.assertEqual(self.titles(self.bunta.inbox[-1]["message"]), [b_order.name])

    def test_create_default_menus_puts_the_sales_buttons_on_the_linked_menu(self):
        self.channel.action_create_default_rich_menus()
        linked = self.channel.rich_menu_rule_ids.filtered(lambda r: r.role == "linked")
        areas = linked.rich_menu_id.area_ids
        self.assertLessEqual({"action=orders", "action=invoices", "action=balance"},
                             set(areas.mapped("postback_data")))
        self.assertEqual(linked.rich_menu_id.state, "published", "published on the emulator")
        order = self.order(self.partner_a)
        self.assertEqual(self.titles(self.ask(self.aiko, postback="action=orders")), [order.name])
