"""The JSON control API under /__emulator__/ (for notebooks, demos and other languages).
OWNER NOTE: stub, to be completed by the users/webhooks work."""

from .routing import route


@route("GET", "/__emulator__/info", "emulatorInfo", auth="control")
def info(call):
    return 200, call.emu.config.public()
