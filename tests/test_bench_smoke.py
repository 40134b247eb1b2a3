"""Each benchmark runs at a tiny size and its correctness checks hold (no duplicate, nothing
lost, no forged webhook accepted). Speed figures are printed by scripts/bench, never asserted."""

import pytest

from line_idlink_dev.bench import __main__ as bench_main
from line_idlink_dev.bench import (campaign, faults, liff, odoo_carts, odoo_chat, odoo_reminders,
                                   odoo_segments, odoo_webhooks, push, richmenu, table, webhooks)
from line_idlink_dev.bench.common import JsonCampaignStore, SimulatedKill
from line_idlink.campaign import Batch


def checks(rows):
    return {row.metric.strip(): row for row in rows if row.check}


def assert_checks_pass(rows, *required):
    found = checks(rows)
    for metric in required:
        assert metric in found, f"missing check {metric!r}: {sorted(found)}"
    failing = {m: r.measured for m, r in found.items() if r.verdict != table.PASS}
    assert not failing, failing


def test_campaign_sends_everyone_once_in_500s():
    title, rows = campaign.run(1_201)
    assert_checks_pass(rows, "duplicates (emulator deliveries)", "lost (emulator deliveries)",
                       "recipients sent (runner report)")
    assert checks(rows)["multicast requests accepted"].measured == "3"  # 500 + 500 + 201
    assert rows[0].metric == "dispatch rate (send phase)" and rows[0].ratio
    assert "own process" in rows[0].target  # the checked figure: emulator in a child process
    assert checks(rows)["same process: multicast requests accepted"].measured == "3"


def test_push_compares_sender_with_bare_loop():
    _, rows = push.run(60)
    assert_checks_pass(rows, "Sender results ok", "users without exactly 1 bare + 1 ours")
    assert checks(rows)["distinct retry keys sent (warm-up included)"].measured == "80"
    assert "bare SDK loop" in rows[0].target
    assert checks(rows)["same process: distinct retry keys"].measured == "80"


def test_faults_lose_nothing_and_send_nothing_twice():
    _, rows = faults.run(400)
    assert_checks_pass(rows, "duplicates (inboxes)", "lost (inboxes)",
                       "messages in the wrong inbox", "process kills simulated")
    by_metric = {row.metric.strip(): row.measured for row in rows}
    assert int(by_metric["5xx injected"]) > 0
    assert int(by_metric["429 injected (bursts)"]) > 0


def test_webhooks_accept_no_forgery():
    _, rows = webhooks.run(50)
    assert_checks_pass(rows, "forged/tampered bodies accepted", "re-serialized accepted",
                       "truncated accepted", "events stored (SQLite)")
    assert checks(rows)["valid bodies accepted"].measured == "1,000"


def test_liff_accepts_valid_tokens_and_refuses_forgeries():
    _, rows = liff.run(20)
    assert_checks_pass(rows, "valid tokens accepted", "JWKS fetches",
                       "forged tokens refused (HS256, alg none, other audience)")
    assert rows[0].target == "≤ 2.00 ms"


def test_richmenu_says_plainly_that_it_skipped_without_odoo(monkeypatch, capsys):
    monkeypatch.delenv("ODOO_SRC", raising=False)
    title, rows = richmenu.run(10)
    assert title.endswith("SKIPPED")
    assert "ODOO_SRC is not set" in rows[0].measured
    assert "SKIPPED richmenu" in capsys.readouterr().err


def test_store_kill_leaves_the_batch_unsaved():
    store = JsonCampaignStore(kills=[(2, "sent")])
    batch = Batch("00001", "push", [[1, "U" + "0" * 32]], [{"type": "text", "text": "x"}])
    store.save_batches("c", [batch])
    batch.state = "sending"
    store.save_batch("c", batch)
    batch.state = "sent"
    with pytest.raises(SimulatedKill):
        store.save_batch("c", batch)
    assert store.load_batches("c")[0].state == "sending"
    store.save_batch("c", batch)  # one kill per entry: the next save goes through
    assert store.load_batches("c")[0].state == "sent"


def test_exit_status_is_1_only_when_a_check_fails(monkeypatch, capsys):
    def fake_run(n):
        return "fake", [table.at_most("speed", 2.0, 1.0, "s"), table.exactly("duplicates", 1, 0)]

    monkeypatch.setattr(webhooks, "run", fake_run)
    assert bench_main.main(["webhooks", "--n", "5"]) == 1
    out, err = capsys.readouterr()
    assert "speed" in out and "FAIL" in out
    assert "webhooks: duplicates" in err

    monkeypatch.setattr(webhooks, "run", lambda n: ("fake", [table.at_most("speed", 2.0, 1.0)]))
    assert bench_main.main(["webhooks"]) == 0  # a missed speed target is a figure, not an error


def test_table_ratios_read_against_their_targets():
    row = table.ratio_at_least("rate", 95_000.0, 100_000, 0.95, "r/s", "ceiling")
    assert (row.ratio, row.verdict) == ("0.95", table.PASS)
    assert table.ratio_at_least("rate", 90_000.0, 100_000, 0.95).verdict == table.FAIL
    assert table.at_most("calls", 201, 200).verdict == table.FAIL
    text = table.render("t", [row])
    assert "metric" in text.splitlines()[1] and "ceiling" in text


def test_odoo_webhooks_says_plainly_that_it_skipped_without_odoo(monkeypatch, capsys):
    monkeypatch.delenv("ODOO_SRC", raising=False)
    title, rows = odoo_webhooks.run(10, seconds=1, rate=5)
    assert title.endswith("SKIPPED")
    assert "ODOO_SRC is not set" in rows[0].measured
    assert "SKIPPED odoo-webhooks" in capsys.readouterr().err


@pytest.mark.parametrize("module", [odoo_segments, odoo_chat, odoo_reminders, odoo_carts])
def test_sales_benches_say_plainly_that_they_skipped_without_odoo(module, monkeypatch, capsys):
    monkeypatch.delenv("ODOO_SRC", raising=False)
    title, rows = module.run(10)
    assert title.endswith("SKIPPED")
    assert "ODOO_SRC is not set" in rows[0].measured
    assert f"SKIPPED {module.NAME}" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["webhooks", "--seconds", "5"], ["--rate", "10"],
                                  ["odoo-webhooks", "--rate", "0"],
                                  ["odoo-webhooks", "--seconds", "-1"]])
def test_seconds_and_rate_are_for_odoo_webhooks_only(argv, capsys):
    assert bench_main.main(argv) == 2
    assert "--seconds and --rate" in capsys.readouterr().err


def test_odoo_webhooks_sender_sends_each_signed_event_once(webhook_sink):
    """The sender and its emulator child, aimed at a stand-in bot instead of Odoo: every event
    leaves once, signed with the channel secret, in the benchmark's mix."""
    from line_idlink.webhook import compute_signature

    child = odoo_webhooks.EmulatorChild()
    try:
        answers, _delays, _first, _last = odoo_webhooks.send(webhook_sink.url, child, 20, 2)
        report = child.ask("report")
    finally:
        child.stop()
    assert [a[1] for a in answers] == [200] * 40
    secret = child.credentials["channel_secret"]
    for item in webhook_sink.received:
        assert item["headers"]["X-Line-Signature"] == compute_signature(secret, item["raw"])
    ids = [event["webhookEventId"] for event in webhook_sink.events]
    assert len(ids) == len(set(ids)) == 40
    kinds = sorted(event["type"] for event in webhook_sink.events)
    assert (kinds.count("message"), kinds.count("follow"), kinds.count("postback")) == (24, 8, 8)
    assert report["answered_users"] == 16 and report["messages"] == {"0": 16}  # nobody replied


def test_the_sustained_dispatch_rate_is_not_inflated_by_a_first_burst():
    """campaign's dispatch rate: 200 / the mean span of 200 consecutive requests."""
    bursts = [0.0] * 200 + [1.0] * 200 + [2.0] * 200  # a window's worth at once, each second
    assert campaign.sustained_rate(bursts) == 200  # 600 / 2 s would have said 300
    assert campaign.sustained_rate([i / 100 for i in range(600)]) == pytest.approx(100)  # slow
    assert campaign.sustained_rate([0.0] * 150) == 0.0  # under one window: nothing to say
