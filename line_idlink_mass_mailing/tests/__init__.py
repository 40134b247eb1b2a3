from . import test_mailing_features
from . import test_mailing_line
from . import test_mailing_tour
