from . import line_channel
from . import line_loyalty_tier
from . import line_rich_menu_area
from . import loyalty_card
from . import loyalty_program
from . import res_partner
