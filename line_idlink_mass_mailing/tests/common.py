from odoo.tests import new_test_user

from odoo.addons.line_idlink_addon.tests.common import LineCommon


class LineMailingCommon(LineCommon):
    """A LINE channel on the in-process emulator, a marketing user and helpers to make linked
    LINE friends, run Odoo's crons and read what LINE received (mirrors mass_mailing_sms's
    MassSMSCommon: a gateway (here the emulator), asserts on traces, data)."""

    emulator_options = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._line_setup()
        cls.user_marketing = new_test_user(
            cls.env, login="line_marketer", name="Mika Marketer",
            groups="base.group_user,base.group_partner_manager,"
                   "mass_mailing.group_mass_mailing_user,"
                   "mass_mailing.group_mass_mailing_campaign")
        cls.model_partner = cls.env["ir.model"]._get("res.partner")

    def setUp(self):
        super().setUp()
        self.forget_rate_limit_slots()
        self.addCleanup(self.forget_rate_limit_slots)
        self.emu = self.start_line_emulator(**self.emulator_options)

    def forget_rate_limit_slots(self):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM line_rate_limit WHERE channel_key = %s",
                       [str(self.channel.id)])

    # data ---------------------------------------------------------------------------------
    def line_friend(self, name, partner=None, follow=True, linked=True, **partner_values):
        """A LINE user of the emulator who follows the channel, linked to ``partner`` (a new
        contact named ``name`` by default): returns (partner, emulator user)."""
        partner = partner or self.env["res.partner"].create(dict(
            {"name": name, "email": f"{name.lower().replace(' ', '.')}@example.com"},
            **partner_values))
        user = self.emu.add_user(f"{name} LINE")
        user.follow()  # the follow webhook stays queued: the identity is made below
        if not follow:
            user.block()
        self.env["line.identity"]._line_link_protocol().create({
            "channel_id": self.channel.id, "line_user_id": user.user_id,
            "name": f"{name} LINE", "partner_id": partner.id, "linked": linked,
            "follow_state": "followed" if follow else "blocked",
            "linked_since": "2026-11-01 00:00:00"})
        return partner, user

    def line_mailing(self, partners=None, body="Hello from Odoo", **values):
        base = {"subject": "LINE campaign", "mailing_type": "line",
                "mailing_model_id": self.model_partner.id,
                "line_channel_id": self.channel.id, "line_body": body}
        if partners is not None:
            base["mailing_domain"] = repr([("id", "in", partners.ids)])
        return self.env["mailing.mailing"].with_user(self.user_marketing).create(
            dict(base, **values))

    # running ------------------------------------------------------------------------------
    def process_queue(self):
        """The LINE queue cron as configured (claims and sends due rows, one batch)."""
        self.env.ref("line_idlink_addon.ir_cron_line_message_queue").method_direct_trigger()
        self.env.invalidate_all()

    def run_mailing_cron(self):
        """Odoo's own mass mailing cron (mass_mailing.ir_cron_mass_mailing_queue)."""
        self.env.ref("mass_mailing.ir_cron_mass_mailing_queue").method_direct_trigger()
        self.env.invalidate_all()

    # asserts ------------------------------------------------------------------------------
    def texts(self, user):
        return [entry["message"].get("text") for entry in user.inbox]

    def traces(self, mailing):
        return self.env["mailing.trace"].sudo().search(
            [("mass_mailing_id", "=", mailing.id)], order="res_id")

    def assertLineTraces(self, mailing, expected):
        """``expected``: {record: (status, failure_type or None)}; every trace checked."""
        traces = self.traces(mailing)
        self.assertEqual(sorted(traces.mapped("res_id")), sorted(r.id for r in expected),
                         "one trace per targeted record")
        for record, (status, failure) in expected.items():
            trace = traces.filtered(lambda t, r=record: t.res_id == r.id)
            self.assertEqual(trace.trace_type, "line")
            self.assertEqual((trace.trace_status, trace.failure_type or None),
                             (status, failure), f"trace of {record.display_name}")
            if status == "sent":
                self.assertTrue(trace.sent_datetime)
        return traces
