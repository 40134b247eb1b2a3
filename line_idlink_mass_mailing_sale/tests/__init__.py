from . import test_mailing_sale
