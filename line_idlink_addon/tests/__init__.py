from . import test_storage, test_security, test_webhook, test_link_flow, test_line_login, test_send_message, test_tours, test_screenshots, test_rich_menu_tour, test_rich_menus, test_rich_menu_switching
from . import test_rich_menu_limits, test_channel_actions
from . import test_security_identity, test_security_channel, test_security_company, test_security_portal
from . import test_message_queue, test_message_queue_workers
from . import test_webhook_concurrency
from . import test_webhook_processing, test_chat_dispatch, test_security_chat
from . import test_webhook_retention
from . import test_security_events
from . import test_web_login_callback, test_web_pending_login
from . import test_web_webhook_limit, test_web_redirects, test_web_link_url, test_web_company_channel
