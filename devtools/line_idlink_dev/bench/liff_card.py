"""``liff-card``: the LIFF member card's server time in Odoo (the loyalty bridge).

Needs an Odoo 18.0 installation (``ODOO_SRC``/``ODOO_PY``, as ``richmenu``). Runs the addon's
measurement ``line_idlink_loyalty/tests/test_bench_liff_card.py`` through ``scripts/odoo-test``
(test tag ``line_idlink_bench``, which the standard tests never select): Odoo's real HTTP
server and the emulator in process; the card page (GET) and its verified data (POST of an
emulator-issued LIFF ID token, warm JWKS) are timed over localhost, so the figures include the
client's round trip (they are an upper bound of the server time). Target: ≤ 150 ms each.
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile

from ..odoo_server import PYTHONPATH, REPO
from . import table

NAME = "liff-card"
DEFAULT_N = 60  # fixed in the measurement (its N)
FULL_N = 60
TARGET_MS = 150.0
VERIFY_TARGET_MS = 2.0


class Skipped(Exception):
    pass


def measure():
    if not os.environ.get("ODOO_SRC") or not os.environ.get("ODOO_PY"):
        raise Skipped("ODOO_SRC and ODOO_PY are not set (an Odoo 18.0 tree and its Python)")
    with tempfile.TemporaryDirectory(prefix="bench-liff-card-") as logs:
        env = dict(os.environ, ODOO_TEST_TAGS="line_idlink_bench", ODOO_TEST_LOG_DIR=logs,
                   SKIP_PIP_INSTALL=os.environ.get("SKIP_PIP_INSTALL", "1"))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [*PYTHONPATH, env.get("PYTHONPATH")]))
        run = subprocess.run([str(REPO / "scripts" / "odoo-test"), "line_idlink_addon",
                              "line_idlink_loyalty"], env=env, capture_output=True, text=True,
                             timeout=3600)
        for log in sorted(pathlib.Path(logs).glob("odoo_test_2*.log")):
            for line in log.read_text(errors="replace").splitlines():
                if "BENCH_RESULT " in line:
                    return json.loads(line.split("BENCH_RESULT ", 1)[1])
    raise RuntimeError(f"the measurement logged no result:\n{run.stdout[-2000:]}"
                       f"\n{run.stderr[-3000:]}")


def run(n=DEFAULT_N):
    title = "liff-card: LIFF member card in Odoo (real HTTP server, emulator's JWKS)"
    try:
        result = measure()
    except Skipped as why:
        print(f"bench: SKIPPED liff-card: {why}", file=sys.stderr)
        return f"{title}: SKIPPED", [table.info("skipped", str(why))]
    page, data, verify = result["page"], result["data"], result["verify_in_odoo"]
    return f"{title}, {result['n']} requests each", [
        table.at_most("card page GET, median", page["median"], TARGET_MS, "ms"),
        table.at_most("card page GET, 95th percentile", page["p95"], TARGET_MS, "ms"),
        table.at_most("card data POST (verify + cards), median", data["median"], TARGET_MS, "ms"),
        table.at_most("card data POST, 95th percentile", data["p95"], TARGET_MS, "ms"),
        table.at_most("ID-token verification in Odoo, warm, median", verify["median"],
                      VERIFY_TARGET_MS, "ms"),
        table.exactly("JWKS fetches", result["jwks_fetches"], 1),
    ]
