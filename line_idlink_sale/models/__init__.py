from . import line_notice_template
from . import res_company
from . import res_config_settings
from . import res_partner
from . import sale_order
from . import account_move
from . import line_channel
from . import line_rich_menu_area
