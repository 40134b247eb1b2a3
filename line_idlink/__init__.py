"""LINE ID Link: the framework-free core of LINE account linking for Odoo (what runs in production).

Modules: ``login`` (LINE Login client), ``linking`` (account-link protocol), ``webhook`` (signature,
parsing, receive/process), ``sender`` and ``retry`` (sending without loss or duplicates),
``campaign``/``campaign_plan`` (dispatch plans), ``richmenu_spec``/``richmenu_publisher`` (rich menus),
``message_builders``/``flex_builders``/``postbacks``/``texts`` (chat messages), ``storage``.
The LINE platform emulator is the separate distribution ``line-emulator`` (``line_emulator``).
"""

__version__ = "0.1.0"
