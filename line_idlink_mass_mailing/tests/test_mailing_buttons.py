import re

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, HttpCase, tagged

from line_idlink.postbacks import parse_postback, postback_data

from .common import LineMailingCommon


@tagged("post_install", "-at_install", "line_idlink", "mass_mailing")
class TestMailingLineButtons(LineMailingCommon, HttpCase):
    """Issue 10 item 1: up to 4 buttons per LINE mailing, URL (tracked) or reply (postback);
    a recipient's tap on a reply button marks their trace Replied and the chat answers."""

    def setUp(self):
        super().setUp()
        self.aiko, self.aiko_line = self.line_friend("Aiko")
        self.bunta, self.bunta_line = self.line_friend("Bunta")
        self.deliver()  # the follow events

    def buttons_mailing(self, partners, **values):
        return self.line_mailing(partners, body="Summer sale starts today", **dict({
            "line_button_prompt": "Interested?",
            "line_button_ids": [
                (0, 0, {"kind": "url", "label": "See the sale",
                        "url": "https://shop.example.com/sale"}),
                (0, 0, {"kind": "postback", "label": "Call me", "display_text": "Please call me",
                        "answer": "Thank you! We will call you tomorrow."}),
            ]}, **values))

    def rows(self, mailing):
        return self.env["line.message"].sudo().search([("res_model", "=", "mailing.mailing"),
                                                        ("res_id", "=", mailing.id)])

    def test_url_and_reply_buttons_sent_tap_marks_trace_replied(self):
        mailing = self.buttons_mailing(self.aiko | self.bunta, line_link_tracking="recipient")
        self.assertEqual(mailing.line_preview_buttons, "See the sale\nCall me",
                         "the preview bubble shows the buttons")
        mailing.action_send_mail()
        self.process_queue()
        template = self.aiko_line.inbox[-1]["message"]
        self.assertEqual(template["type"], "template")
        self.assertEqual(template["template"]["type"], "buttons")
        self.assertEqual(template["template"]["text"], "Interested?")
        url, reply = template["template"]["actions"]
        self.assertEqual(url["type"], "uri")
        path = re.search(r"(/r/\w+/l/(\d+))$", url["uri"])
        self.assertTrue(path, f"tracked per recipient: {url['uri']}")
        self.assertEqual(reply, {"type": "postback", "label": "Call me",
                                 "displayText": "Please call me",
                                 "data": postback_data("mailing_reply", m=mailing.id, b=1)})
        self.assertLineTraces(mailing, {self.aiko: ("sent", None), self.bunta: ("sent", None)})

        self.aiko_line.postback(reply["data"])
        self.deliver()
        self.env.invalidate_all()
        trace = self.traces(mailing).filtered(lambda t: t.res_id == self.aiko.id)
        self.assertEqual(trace.trace_status, "reply")
        self.assertTrue(trace.reply_datetime)
        self.assertEqual(trace.line_reply_button_id.label, "Call me")
        self.assertEqual(self.aiko_line.inbox[-1]["message"]["text"],
                         "Thank you! We will call you tomorrow.")
        self.assertEqual(mailing.replied, 1, "the mailing's Replied counter")
        other = self.traces(mailing).filtered(lambda t: t.res_id == self.bunta.id)
        self.assertEqual(other.trace_status, "sent")
        # the URL button's click still lands on the trace (Odoo's tracked link)
        self.url_open(path.group(1), allow_redirects=False)
        self.env.invalidate_all()
        self.assertEqual(mailing.clicked, 1)

    def test_campaign_tracked_url_button_keeps_one_multicast(self):
        mailing = self.buttons_mailing(self.aiko | self.bunta)
        mailing.action_send_mail()
        self.process_queue()
        self.assertEqual(len(self.rows(mailing)), 1, "one multicast")
        uri = self.bunta_line.inbox[-1]["message"]["template"]["actions"][0]["uri"]
        self.assertRegex(uri, r"/r/\w+$", "shortened once for the campaign")
        self.assertTrue(self.env["link.tracker"].search(
            [("url", "=", "https://shop.example.com/sale"),
             ("mass_mailing_id", "=", mailing.id)]))

    def test_reply_without_answer_says_nothing(self):
        mailing = self.buttons_mailing(self.aiko, line_button_ids=[
            (0, 0, {"kind": "postback", "label": "Yes"})])
        mailing.action_send_mail()
        self.process_queue()
        data = self.aiko_line.inbox[-1]["message"]["template"]["actions"][0]["data"]
        self.aiko_line.inbox.clear()
        self.aiko_line.postback(data)
        self.deliver()
        self.env.invalidate_all()
        self.assertEqual(self.traces(mailing).trace_status, "reply")
        self.assertEqual(self.aiko_line.inbox, [], "no answer configured: no message")

    def test_forged_postback_changes_nothing(self):
        mailing_a = self.buttons_mailing(self.aiko)
        mailing_b = self.buttons_mailing(self.bunta)
        (mailing_a | mailing_b).action_send_mail()
        self.process_queue()
        forged = [
            postback_data("mailing_reply", m=mailing_a.id, b=1),  # Bunta never got mailing A
            postback_data("mailing_reply", m=mailing_b.id, b=0),  # a URL button, not a reply
            postback_data("mailing_reply", m=mailing_b.id, b=7),  # no such button
            postback_data("mailing_reply", m=999999, b=1),  # no such mailing
            postback_data("mailing_reply", m="x", b=1),
        ]
        for data in forged:
            self.bunta_line.postback(data)
            self.deliver()
        self.env.invalidate_all()
        self.assertEqual(self.traces(mailing_a).trace_status, "sent")
        self.assertEqual(self.traces(mailing_b).trace_status, "sent")
        self.assertFalse(self.traces(mailing_a).line_reply_button_id)
        self.assertEqual((mailing_a.replied, mailing_b.replied), (0, 0))
        self.assertNotIn("Thank you! We will call you tomorrow.",
                         [entry["message"].get("text") for entry in self.bunta_line.inbox])
        # the real one still works
        self.assertEqual(parse_postback(postback_data("mailing_reply", m=mailing_b.id, b=1)),
                         {"action": "mailing_reply", "m": str(mailing_b.id), "b": "1"})
        self.bunta_line.postback(postback_data("mailing_reply", m=mailing_b.id, b=1))
        self.deliver()
        self.env.invalidate_all()
        self.assertEqual(self.traces(mailing_b).trace_status, "reply")

    def test_limits_checked_while_typing_nothing_sent(self):
        mailing = self.line_mailing(self.aiko)
        with Form(mailing.with_user(self.user_marketing)) as form:
            with form.line_button_ids.new() as button:
                button.kind = "postback"
                button.label = "x" * 21
            self.assertIn("A button label is 1 to 20 characters", form.line_content_error)
            with form.line_button_ids.edit(0) as button:
                button.label = "OK"
            self.assertFalse(form.line_content_error)
            self.assertEqual(form.line_preview_buttons, "OK")
            for label in ("B", "C", "D", "E"):
                with form.line_button_ids.new() as button:
                    button.kind = "postback"
                    button.label = label
            self.assertIn("at most 4 buttons (5 here)", form.line_content_error)
            form.line_button_ids.remove(4)
            self.assertFalse(form.line_content_error)
        self.assertEqual(len(mailing.line_button_ids), 4)

        bad = [
            ({"kind": "url", "label": "Go", "url": "http://shop.example.com/"}, "https URL"),
            ({"kind": "url", "label": "Go", "url": "https://shop.example.com/a b"}, "https URL"),
            ({"kind": "postback", "label": "Go", "display_text": "x" * 301}, "display text"),
            ({"kind": "postback", "label": "   "}, "button label"),
        ]
        for values, message in bad:
            with self.assertRaises(ValidationError) as refused:
                self.line_mailing(self.aiko, line_button_ids=[(0, 0, values)])
            self.assertIn(message, str(refused.exception))
        with self.assertRaises(ValidationError) as refused:
            self.line_mailing(self.aiko, line_button_label="Site",
                              line_button_url="https://shop.example.com/",
                              line_button_ids=[(0, 0, {"kind": "postback", "label": str(i)})
                                               for i in range(4)])
        self.assertIn("at most 4 buttons", str(refused.exception))
        with self.assertRaises(ValidationError) as refused:
            self.env["line.mailing.button"].with_user(self.user_marketing).create(
                {"mailing_id": mailing.id, "kind": "postback", "label": "Fifth"})
        self.assertIn("at most 4 buttons", str(refused.exception))
        with self.assertRaises(UserError):
            mailing.with_user(self.user_marketing).write({"line_button_ids": [
                (1, mailing.line_button_ids[0].id, {"label": "y" * 21})]})
        self.env.invalidate_all()
        self.assertEqual(len(mailing.line_button_ids), 4, "nothing changed")
        mailing.action_send_mail()  # the 4 valid buttons
        self.process_queue()
        self.assertEqual(len(self.aiko_line.inbox[-1]["message"]["template"]["actions"]), 4)
        self.assertEqual(len(self.traces(mailing)), 1)
