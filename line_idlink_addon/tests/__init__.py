from . import test_storage, test_security, test_webhook, test_link_flow, test_line_login, test_send_message, test_tours, test_screenshots, test_rich_menu_tour, test_rich_menus, test_rich_menu_switching
from . import test_web_login_callback, test_web_pending_login
from . import test_web_webhook_limit, test_web_redirects, test_web_link_url, test_web_company_channel
