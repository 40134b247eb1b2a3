from . import test_storage, test_security, test_webhook, test_link_flow, test_line_login, test_send_message, test_tours, test_screenshots
