from . import line_stock_notification
from . import mail_template
from . import product_product
from . import product_template
from . import res_config_settings
from . import res_partner
from . import sale_order
from . import website
