from . import mailing_line_test
