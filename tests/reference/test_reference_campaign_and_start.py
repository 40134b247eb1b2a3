"""Segmented campaigns (who gets what, blocked users left out, resumable without duplicates), the
rich menus published once, and the demo journey."""

import pytest

from line_idlink import message_builders
from line_idlink_dev.demo import main as demo_main
from line_idlink.sender import RetriesExhausted
from line_idlink_dev.reference import (LineSettings, ReferenceApp, SQLiteCampaignStore,
                                       send_segmented_campaign)

LIGHT, LOYAL = "クーポンをどうぞ", "先行セールのご招待"
CAMPAIGN = {"light": [message_builders.text(LIGHT)], "loyal": [message_builders.text(LOYAL)]}


def _count(user, text):
    return sum(1 for item in user.inbox if item["message"].get("text") == text)


def test_campaign_goes_by_segment_to_linked_following_customers_only(shop):
    aiko, kenji, yui = shop.user("Aiko"), shop.user("Kenji"), shop.user("Yui")
    shop.link_via_chat(aiko, "aiko@example.com")
    shop.link_via_chat(kenji, "kenji@example.com")
    kenji.block()  # blocked: excluded, though still linked
    report = send_segmented_campaign(shop.app, CAMPAIGN)
    by_customer = {o.recipient_id: o for o in report.outcomes}
    assert by_customer[shop.customer_id("aiko@example.com")].status == "sent"
    assert by_customer[shop.customer_id("kenji@example.com")].reason == "blocked"
    assert by_customer[shop.customer_id("yui@example.com")].reason == "not linked"
    assert (_count(aiko, LIGHT), _count(aiko, LOYAL)) == (1, 0)  # Aiko: 1 order, light
    assert _count(kenji, LOYAL) == 0 and _count(yui, LIGHT) == 0
    assert [e["body"]["to"] for e in shop.requests("pushMessage")] == [aiko.user_id]

    kenji.follow()  # reachable again: the next campaign reaches him, as a loyal buyer
    second = send_segmented_campaign(shop.app, CAMPAIGN)
    assert second.campaign_id == "segmented-2" and second.counts == {"sent": 2, "skipped": 1}
    assert (_count(kenji, LOYAL), _count(kenji, LIGHT), _count(aiko, LIGHT)) == (1, 0, 2)


def test_a_campaign_stopped_by_lines_errors_resumes_with_its_retry_key(shop):
    aiko = shop.user("Aiko")
    shop.link_via_chat(aiko, "aiko@example.com")
    # Every push is applied, then its answer is lost: the sender gives up, the batch stays
    # "sending" with its retry key stored in SQLite.
    shop.emu.faults.add({"endpoint": "pushMessage", "action": "drop", "when": "after"})
    with pytest.raises(RetriesExhausted):
        send_segmented_campaign(shop.app, CAMPAIGN, campaign_id="autumn")
    [batch] = [b for b in SQLiteCampaignStore(shop.app.db).load_batches("autumn")
               if b.kind != "skip"]
    assert batch.state == "sending" and batch.retry_key
    assert _count(aiko, LIGHT) == 1  # LINE did deliver the first attempt

    shop.emu.faults.clear()
    report = send_segmented_campaign(shop.app, {"light": [message_builders.text("別の内容")]},
                                     campaign_id="autumn")  # resumes the stored plan
    assert report.counts == {"sent": 1, "skipped": 2}
    assert _count(aiko, LIGHT) == 1 and _count(aiko, "別の内容") == 0
    keys = {e["retryKey"] for e in shop.requests("pushMessage")}
    assert keys == {batch.retry_key} and shop.requests("pushMessage")[-1]["status"] == 409


def test_campaign_refuses_unknown_segments(shop):
    with pytest.raises(ValueError, match="unknown segment"):
        send_segmented_campaign(shop.app, {"vip": [message_builders.text("x")]})
    assert shop.count("campaign_batch") == 0


def test_rich_menus_are_published_once_and_again_when_line_lost_them(shop, tmp_path):
    assert shop.app.menu_ids["unlinked"] == shop.emu.richmenus.default_id
    assert len(shop.requests("createRichMenu")) == 2
    settings = LineSettings.from_emulator(shop.line)
    db = str(tmp_path / "shop.db")
    restarted = ReferenceApp(db, settings, shop.url, clock=shop.emu.clock.now).start()
    assert restarted.menu_ids == shop.app.menu_ids
    assert len(shop.requests("createRichMenu")) == 2
    restarted.close()

    aiko = shop.user("Aiko")
    shop.link_via_chat(aiko, "aiko@example.com")
    shop.app.richmenus.delete(shop.app.menu_ids["linked"])  # deleted in LINE's console
    again = ReferenceApp(db, settings, shop.url, clock=shop.emu.clock.now).start()
    assert again.menu_ids["linked"] != shop.app.menu_ids["linked"]
    assert again.db.setting("richmenu.linked") == again.menu_ids["linked"]
    shop.emu.advance(1)  # bulk links are applied asynchronously
    assert aiko.rich_menu["richMenuId"] == again.menu_ids["linked"]
    again.close()


def test_the_demo_journey_runs_and_ends_with_its_summary(capsys):
    assert demo_main([]) == 0
    out = capsys.readouterr().out
    assert "DEMO OK" in out and "DEMO FAILED" not in out
    summary = out[out.index("== Summary"):].splitlines()
    rows = {line.split()[0]: line.split() for line in summary[2:5]}
    assert rows["Aiko"][-4:] == ["8", "7", "1", "1"] and "not linked" in summary[2]
    assert rows["Kenji"][-4:] == ["5", "3", "2", "1"] and "linked (LINE Login)" in summary[3]
    assert rows["Yui"][-4:] == ["3", "3", "0", "0"]
    assert "pushMessage to Kenji retry key B: 409 (already accepted: not sent again)" in out
    assert "webhooks: 10 sent by LINE, 10 answered 200" in out


def test_the_demo_reports_a_failed_expectation_with_exit_status_1(monkeypatch, capsys):
    from line_idlink_dev.reference import journey

    # A campaign without the loyal segment's message: Kenji gets nothing, the step notices.
    monkeypatch.setattr(journey, "CAMPAIGN", {"light": journey.CAMPAIGN["light"]})
    assert demo_main([]) == 1
    out = capsys.readouterr().out
    assert "DEMO FAILED: 2 customers sent, 1 skipped" in out and "DEMO OK" not in out
