"""A stateful local stand-in for the LINE platform (Messaging API, LINE Login, webhooks).

Quick use::

    from line_emulator import start_emulator
    server = start_emulator(seed=1, webhook_url="http://127.0.0.1:8000/line/webhook")
    aiko = server.emulator.add_user("Aiko")
    aiko.follow()            # signed `follow` webhook to the bot
    server.stop()
"""

from .clock import Clock
from .core import Emulator
from .errors import LineError
from .server import EmulatorServer, start_emulator

__all__ = ["Clock", "Emulator", "EmulatorServer", "LineError", "start_emulator"]
