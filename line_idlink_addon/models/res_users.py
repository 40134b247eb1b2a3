import datetime
import secrets

from odoo import api, fields, models
from odoo.exceptions import AccessDenied

from line_idlink.storage import digest

LOGIN_TICKET_TTL = 60  # seconds: the ticket is issued and used within the same callback request
CREDENTIAL_TYPE = "line_login"


class ResUsers(models.Model):
    """"Log in with LINE" as an Odoo 18 credential type (the auth_passkey idiom).

    The LINE Login callback exchanges the code server-side, verifies the ID token and finds the
    user linked to its ``sub``; it then issues a ONE-TIME ticket (only its SHA-256 is stored, on
    the user, for one minute) and calls ``request.session.authenticate`` with
    ``{"type": "line_login", "login": user.login, "line_ticket": ticket}``. A raw LINE userId
    from the browser is never accepted. Only portal users (``share``) or users whose
    ``line_login_allowed`` is set may log in this way.
    """

    _inherit = "res.users"

    line_login_allowed = fields.Boolean(
        "Allow Log in with LINE", groups="base.group_system",
        help="Internal users log in with LINE only when this is set (portal users always may).")
    line_login_ticket_hash = fields.Char(groups="base.group_system", copy=False)
    line_login_ticket_expires = fields.Datetime(groups="base.group_system", copy=False)

    def _line_may_login(self):
        self.ensure_one()
        user = self.sudo()
        return user.active and (user.share or bool(user.line_login_allowed))

    def _line_issue_login_ticket(self):
        """A fresh one-time ticket for this user (replaces any earlier unused one)."""
        self.ensure_one()
        ticket = secrets.token_urlsafe(32)
        expires = fields.Datetime.now() + datetime.timedelta(seconds=LOGIN_TICKET_TTL)
        self.env.cr.execute("""UPDATE res_users SET line_login_ticket_hash = %s,
                                      line_login_ticket_expires = %s WHERE id = %s""",
                            (digest(ticket), expires, self.id))
        self.invalidate_recordset(["line_login_ticket_hash", "line_login_ticket_expires"])
        return ticket

    @api.autovacuum
    def _gc_line_login_tickets(self):
        """Forget expired "Log in with LINE" tickets (unused ones: a used ticket is cleared when
        it is used)."""
        self.env.cr.execute("""UPDATE res_users SET line_login_ticket_hash = NULL,
                                      line_login_ticket_expires = NULL
                                WHERE line_login_ticket_expires < %s""", (fields.Datetime.now(),))
        count = self.env.cr.rowcount
        self.invalidate_model(["line_login_ticket_hash", "line_login_ticket_expires"])
        return count

    def _check_credentials(self, credential, env):
        if credential.get("type") != CREDENTIAL_TYPE:
            return super()._check_credentials(credential, env)
        ticket = credential.get("line_ticket")
        if not isinstance(ticket, str) or not ticket:
            raise AccessDenied()
        # one statement consumes the ticket: it can authenticate at most once. The expiry is
        # compared with the same clock that set it (not SQL now(), the transaction's start)
        self.env.cr.execute("""
            UPDATE res_users SET line_login_ticket_hash = NULL, line_login_ticket_expires = NULL
             WHERE id = %s AND line_login_ticket_hash = %s AND line_login_ticket_expires > %s
         RETURNING id""", (self.env.user.id, digest(ticket), fields.Datetime.now()))
        consumed = self.env.cr.fetchone()
        self.env.user.invalidate_recordset(["line_login_ticket_hash",
                                            "line_login_ticket_expires"])
        if not consumed or not self.env.user._line_may_login():
            raise AccessDenied()
        return {"uid": self.env.user.id, "auth_method": CREDENTIAL_TYPE, "mfa": "default"}
