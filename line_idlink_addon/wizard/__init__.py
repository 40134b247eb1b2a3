from . import line_send_message
