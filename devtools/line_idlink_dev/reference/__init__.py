"""The reference app: a small werkzeug + SQLite shop that runs every LINE ID-linking flow.

It is the embedded default that ``scripts/demo`` and the notebooks drive, and the proof that the
framework-free core is complete: it only maps its tables onto the core's protocols.

    from line_idlink_dev.reference import LineSettings, serve_reference, send_segmented_campaign
    server = serve_reference("shop.db", LineSettings.from_emulator(emulator_server),
                             clock=emulator_server.emulator.clock.now)

Modules: ``app`` (settings, wiring, link/unlink side effects, the server), ``portal`` (/my/line,
/line/link, LINE Login), ``bot`` (webhook and chat), ``menus`` (rich menus), ``campaigns``,
``accounts`` (password login), ``db`` (the shop's tables), ``web`` (sessions, CSRF, pages),
``browser`` (a scripted browser), ``journey`` (the demo), ``__main__`` (the server command).
"""

_EXPORTS = {"LineSettings": "app", "ReferenceApp": "app", "ReferenceServer": "app",
            "serve_reference": "app", "SQLiteCampaignStore": "campaigns",
            "send_segmented_campaign": "campaigns", "tap_point": "menus"}


def __getattr__(name):
    """Exports are imported on first use: the command line imports this package to build its
    parser, and the SDK behind ``app`` takes a second to import."""
    if name in _EXPORTS:
        from importlib import import_module

        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
