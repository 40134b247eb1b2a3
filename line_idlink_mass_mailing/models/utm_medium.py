from odoo import _, api, models
from odoo.exceptions import UserError


class UtmMedium(models.Model):
    _inherit = "utm.medium"

    @api.ondelete(at_uninstall=False)
    def _unlink_except_utm_medium_line(self):
        medium = self.env.ref("line_idlink_mass_mailing.utm_medium_line",
                              raise_if_not_found=False)
        if medium and medium in self:
            raise UserError(_("The UTM medium '%s' cannot be deleted as it is used by LINE "
                              "Marketing.", medium.name))

    @property
    def SELF_REQUIRED_UTM_MEDIUMS_REF(self):
        return super().SELF_REQUIRED_UTM_MEDIUMS_REF | {
            "line_idlink_mass_mailing.utm_medium_line": "LINE"}
