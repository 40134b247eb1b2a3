"""``python -m line_emulator``: the ``line-emulator`` command."""

import sys

from .cli import main

sys.exit(main())
