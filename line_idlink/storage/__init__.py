"""The storage seam of the account-link protocol: the :class:`Storage` protocol and its records
(:mod:`.protocol`), and two implementations: :class:`SQLiteStorage` (the reference app) and
:class:`MemoryStorage` (tests). The Odoo addon implements :class:`Storage` on its own models.
"""

from .memory import MemoryStorage
from .protocol import (LINK_METHODS, METHOD_LINE_LOGIN, METHOD_MESSAGING_API, EventRecord,
                       LinkConflict, LinkRecord, LinkTokenRecord, NonceRecord, Storage, digest)
from .sqlite import SQLiteStorage

__all__ = [
    "Storage", "MemoryStorage", "SQLiteStorage", "NonceRecord", "LinkTokenRecord", "LinkRecord",
    "EventRecord", "LinkConflict", "digest", "METHOD_MESSAGING_API", "METHOD_LINE_LOGIN",
    "LINK_METHODS",
]
