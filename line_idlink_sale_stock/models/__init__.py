from . import line_notice_template
from . import res_company
from . import res_config_settings
from . import stock_picking
from . import line_channel
