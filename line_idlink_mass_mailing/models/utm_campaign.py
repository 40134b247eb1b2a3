from collections import defaultdict

from odoo import api, fields, models


class UtmCampaign(models.Model):
    _inherit = "utm.campaign"

    mailing_line_ids = fields.One2many(
        "mailing.mailing", "campaign_id", domain=[("mailing_type", "=", "line")],
        string="LINE Mailings", groups="mass_mailing.group_mass_mailing_user")
    mailing_line_count = fields.Integer(
        "Number of LINE Mailings", compute="_compute_mailing_line_count",
        groups="mass_mailing.group_mass_mailing_user")
    ab_testing_mailings_line_count = fields.Integer(
        "A/B Test LINE Mailings #", compute="_compute_mailing_line_count")
    ab_testing_line_winner_selection = fields.Selection(
        [("manual", "Manual"), ("clicks_ratio", "Highest Click Rate")],
        string="LINE Winner Selection", default="clicks_ratio")

    @api.depends("mailing_line_ids")
    def _compute_mailing_line_count(self):
        groups = self.env["mailing.mailing"]._read_group(
            [("campaign_id", "in", self.ids), ("mailing_type", "=", "line")],
            ["campaign_id", "ab_testing_enabled"], ["__count"])
        ab_counts = defaultdict(int)
        counts = defaultdict(int)
        for campaign, ab_testing_enabled, count in groups:
            if ab_testing_enabled:
                ab_counts[campaign.id] += count
            counts[campaign.id] += count
        for campaign in self:
            campaign.mailing_line_count = counts[campaign.id]
            campaign.ab_testing_mailings_line_count = ab_counts[campaign.id]

    def action_create_mass_line(self):
        action = self.env["ir.actions.actions"]._for_xml_id(
            "mass_mailing.action_create_mass_mailings_from_campaign")
        action["context"] = {
            "default_campaign_id": self.id, "default_mailing_type": "line",
            "search_default_assigned_to_me": 1, "search_default_campaign_id": self.id,
            "default_user_id": self.env.user.id}
        return action

    def action_redirect_to_mailing_line(self):
        action = self.env["ir.actions.actions"]._for_xml_id(
            "line_idlink_mass_mailing.mailing_mailing_action_line")
        action["context"] = {
            "default_campaign_id": self.id, "default_mailing_type": "line",
            "search_default_assigned_to_me": 1, "search_default_campaign_id": self.id,
            "default_user_id": self.env.user.id}
        action["domain"] = [("mailing_type", "=", "line")]
        return action

    @api.model
    def _cron_process_mass_mailing_ab_testing(self):
        """Odoo's A/B cron picks campaigns by the e-mail winner selection; LINE campaigns are
        picked by their own (``ab_testing_line_winner_selection``) and their winner sent."""
        campaigns = super()._cron_process_mass_mailing_ab_testing()
        line_campaigns = self.search([
            ("ab_testing_schedule_datetime", "<=", fields.Datetime.now()),
            ("ab_testing_line_winner_selection", "!=", "manual"),
            ("ab_testing_completed", "=", False),
        ])
        for campaign in line_campaigns:
            mailings = campaign.mailing_line_ids.filtered("ab_testing_enabled")
            if not mailings.filtered(lambda m: m.state == "done"):
                continue
            mailings.action_send_winner_mailing()
        return campaigns | line_campaigns
