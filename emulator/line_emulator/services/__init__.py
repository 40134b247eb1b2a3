"""The emulated LINE services, one folder each, moto-style: the state the service keeps
(``state.py``), its handlers (``handlers.py``, or modules named after what they serve) and its
route table (``routes.py``). :mod:`line_emulator.routes` joins the route tables; importing a
module never registers anything."""
