from . import line_channel, line_identity, line_link_nonce, line_link_token, line_webhook_event
from . import res_partner, res_users, base_partner_merge
from . import line_rich_menu, line_rich_menu_area, line_rich_menu_rule, line_channel_rich_menu
from . import line_message, line_rate_limit
from . import line_chat_keyword, line_channel_events
from . import portal_mixin
