from . import line_channel
from . import line_identity
from . import line_message
from . import mailing_mailing
from . import mailing_trace
from . import res_partner
from . import utm_campaign
from . import utm_medium
