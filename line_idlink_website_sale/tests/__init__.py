from . import test_abandoned_cart
from . import test_back_in_stock
from . import test_checkout_line
from . import test_screens
