"""The reference app: a small werkzeug + SQLite shop that runs every LINE ID-linking flow.

It is the embedded default that ``scripts/demo`` and the notebooks drive, and the proof that the
framework-free core is complete: it only maps its tables onto the core's protocols.
"""
