from . import line_channel, line_identity, line_link_nonce, line_link_token, line_webhook_event
from . import res_partner, res_users, base_partner_merge
