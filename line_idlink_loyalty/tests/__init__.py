from . import test_liff_card
from . import test_points_notice
from . import test_send_member_card
from . import test_liff_tour
from . import test_chat_points
from . import test_bench_liff_card
from . import test_security_loyalty
