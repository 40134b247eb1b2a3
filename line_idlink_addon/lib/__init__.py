"""Plain-Python helpers (no ORM models): the LINE API wrapper and the core Storage adapter."""
from . import line_api, odoo_storage  # noqa: F401
