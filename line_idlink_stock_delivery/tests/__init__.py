from . import test_tracking_notice
