from . import test_notices
from . import test_segments
from . import test_chat_answers
from . import test_chat_tours
