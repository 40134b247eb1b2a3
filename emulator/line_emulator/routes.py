"""The emulator's route table: every service's routes, listed explicitly.

A service is a folder of :mod:`line_emulator.services` with the state it keeps (``state.py``),
its handlers (``handlers.py`` or modules named after what they serve) and its routes
(``routes.py``), as moto has models, responses and urls per AWS service.
"""

from .services.account_link.routes import ROUTES as ACCOUNT_LINK
from .services.audience.routes import ROUTES as AUDIENCE
from .services.control.routes import ROUTES as CONTROL
from .services.insight.routes import ROUTES as INSIGHT
from .services.login.routes import ROUTES as LOGIN
from .services.messaging.routes import ROUTES as MESSAGING
from .services.richmenu.routes import ROUTES as RICHMENU
from .services.webhooks.routes import ROUTES as WEBHOOKS

ROUTES = (MESSAGING + AUDIENCE + INSIGHT + RICHMENU + WEBHOOKS + LOGIN + ACCOUNT_LINK
          + CONTROL)
