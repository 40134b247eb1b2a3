"""Benchmarks against the emulator, printed as tables of measured figures beside PRODUCT.md's
targets (metric | measured | target | ratio | verdict). Run them with ``scripts/bench`` or
``line-idlink bench``; they are never timed assertions in tests.

Each benchmark module has ``NAME``, ``DEFAULT_N`` (sized for a few minutes on a 2-core machine),
``FULL_N`` (PRODUCT.md's size, ``--full``) and ``run(n) -> (title, rows)``.
"""

import importlib

CORE = ("campaign", "push", "faults", "webhooks", "liff")
ODOO = ("richmenu", "odoo-webhooks", "liff-card", "odoo-segments", "odoo-chat",
        "odoo-reminders", "odoo-campaign", "odoo-carts")  # need ODOO_SRC / ODOO_PY
ALL = CORE + ODOO


def load(name):
    if name not in ALL:
        raise ValueError(f"unknown benchmark {name!r}; choose from {', '.join(ALL)}")
    return importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
