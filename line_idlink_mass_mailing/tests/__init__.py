from . import test_mailing_line
