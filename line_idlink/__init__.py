"""LINE ID Link: the framework-free core of LINE account linking for Odoo.

Sub-packages: ``emulator`` (a stateful local LINE platform), and the protocol modules
(login, linking, webhook, messaging, richmenu, campaign, messages).
"""

__version__ = "0.1.0"
