from . import test_shipping_notice
