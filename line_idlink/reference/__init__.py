"""The reference app: a small werkzeug + SQLite shop that runs every LINE ID-linking flow.

It is the embedded default that ``scripts/demo`` and the notebooks drive, and the proof that the
framework-free core is complete: it only maps its tables onto the core's protocols.

    from line_idlink.reference import LineSettings, serve_reference, send_segmented_campaign
    server = serve_reference("shop.db", LineSettings.from_emulator(emulator_server),
                             clock=emulator_server.emulator.clock.now)

Modules: ``app`` (settings, wiring, link/unlink side effects, the server), ``portal`` (/my/line,
/line/link, LINE Login), ``bot`` (webhook and chat), ``menus`` (rich menus), ``campaigns``,
``accounts`` (password login), ``db`` (the shop's tables), ``web`` (sessions, CSRF, pages).
"""

from .app import LineSettings, ReferenceApp, ReferenceServer, serve_reference
from .campaigns import SQLiteCampaignStore, send_segmented_campaign
from .menus import tap_point

__all__ = ["LineSettings", "ReferenceApp", "ReferenceServer", "serve_reference",
           "SQLiteCampaignStore", "send_segmented_campaign", "tap_point"]
