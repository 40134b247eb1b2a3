from . import test_notices
from . import test_segments
