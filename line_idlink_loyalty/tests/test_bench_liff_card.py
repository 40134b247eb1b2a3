"""Not a test: the measurement behind ``scripts/bench liff-card`` (tag ``line_idlink_bench``,
outside the standard tests). It times the LIFF member card through the real HTTP server: the
page (GET) and the verified card data (POST of an emulator-issued ID token, warm JWKS), and
logs one line ``BENCH_RESULT {json}`` that the bench reads. No timing is asserted here."""

import json
import logging
import statistics
import time

from odoo.tests import HttpCase, tagged

from .common import LoyaltyLineCommon

_logger = logging.getLogger(__name__)
N = 60
WARM_UP = 5


@tagged("-standard", "-at_install", "post_install", "line_idlink_bench")
class BenchLiffCard(LoyaltyLineCommon, HttpCase):

    def _time(self, call):
        for _i in range(WARM_UP):
            call()
        durations = []
        for _i in range(N):
            started = time.perf_counter()
            call()
            durations.append((time.perf_counter() - started) * 1e3)
        durations.sort()
        return {"median": statistics.median(durations),
                "p95": durations[int(0.95 * (len(durations) - 1))]}

    def test_bench_liff_card(self):
        self.start_with_linked_aiko()
        emu = self.emu
        token = emu.login.liff_id_token(self.aiko)
        page_url = f"/line/liff/card/{self.channel.id}"

        def page():
            response = self.url_open(page_url)
            assert response.status_code == 200, response.status_code

        def data():
            assert self.card_data(token)["status"] == "card"

        def verify():
            self.channel._line_liff_verify(token)

        verify_times = self._time(verify)
        result = {"n": N, "page": self._time(page), "data": self._time(data),
                  "verify_in_odoo": verify_times,
                  "jwks_fetches": len(emu.requests_for("loginJwks"))}
        _logger.info("BENCH_RESULT %s", json.dumps(result))
