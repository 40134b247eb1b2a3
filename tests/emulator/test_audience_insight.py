"""Audiences (Manage Audience API) and the numbers about sent messages (sent counts, aggregation
units, Insight statistics), through the official SDK clients."""

import json

import pytest
from linebot.v3 import audience as aud
from linebot.v3 import messaging as msg
from linebot.v3.audience.exceptions import ApiException as AudienceApiException
from linebot.v3.insight.exceptions import ApiException as InsightApiException
from linebot.v3.messaging.exceptions import ApiException

from line_emulator.users import UserActionError
from messaging_support import (api, audience_blob, audiences, friend, friends,  # noqa: F401
                               insight, raw, text)

TODAY = "20261102"  # the frozen clock starts 2026-11-02T00:00Z, 09:00 in UTC+9


def _ids(users):
    return [aud.Audience(id=u.user_id) for u in users]


# Audiences -----------------------------------------------------------------------------------
def test_an_uploaded_audience_becomes_ready_when_its_job_finishes(emu, audiences):
    team = friends(emu, 3)
    stranger = emu.add_user("not a friend")
    created = audiences.create_audience_group_with_http_info(aud.CreateAudienceGroupRequest(
        description="VIP 会員", audiences=_ids(team + [stranger, team[0]]),
        upload_description="first"))
    assert created.status_code == 202
    group = created.data
    assert (group.type, group.create_route, group.permission) == \
        ("UPLOAD", "MESSAGING_API", "READ_WRITE")
    assert group.created == int(emu.clock.now())
    assert group.expire_timestamp == group.created + 180 * 86400

    data = audiences.get_audience_data(group.audience_group_id)
    assert (data.audience_group.status, data.audience_group.audience_count) == ("IN_PROGRESS", 0)
    assert data.jobs[0].job_status == "QUEUED" and data.jobs[0].description == "first"
    emu.advance(1)
    data = audiences.get_audience_data(group.audience_group_id)
    assert (data.audience_group.status, data.audience_group.audience_count) == ("READY", 4)
    assert (data.jobs[0].job_status, data.jobs[0].audience_count) == ("FINISHED", 4)

    more = friend(emu, "Dan")
    audiences.add_audience_to_audience_group(aud.AddAudienceToAudienceGroupRequest(
        audience_group_id=group.audience_group_id, audiences=_ids([more, team[1]]),
        upload_description="second"))
    emu.advance(1)
    data = audiences.get_audience_data(group.audience_group_id)
    assert data.audience_group.audience_count == 5
    assert [(j.description, j.audience_count) for j in data.jobs] == [("second", 1), ("first", 4)]
    assert set(emu.messaging.audiences.members(group.audience_group_id)) == \
        {u.user_id for u in team + [stranger, more]}


def test_an_empty_audience_stays_in_progress(emu, audiences):
    group = audiences.create_audience_group(aud.CreateAudienceGroupRequest(description="empty"))
    emu.advance(60)
    assert audiences.get_audience_data(group.audience_group_id).audience_group.status == \
        "IN_PROGRESS"


def test_one_malformed_id_fails_the_whole_upload(emulator_server, emu, audiences):
    aiko = friend(emu)
    answer = raw(emulator_server, "POST", "/v2/bot/audienceGroup/upload", json={
        "description": "vip", "audiences": [{"id": aiko.user_id}, {"id": "aiko@example.com"}]})
    assert answer.status_code == 400
    assert answer.json()["details"] == [{
        "message": "UPLOAD_AUDIENCE_GROUP_INVALID_AUDIENCE_ID_FORMAT",
        "property": "audiences[1].id"}]
    too_many = raw(emulator_server, "POST", "/v2/bot/audienceGroup/upload", json={
        "description": "vip", "audiences": [{"id": aiko.user_id}] * 10_001})
    assert too_many.status_code == 400
    assert audiences.get_audience_groups(page=1).total_count == 0


def test_audiences_by_file(emu, audiences, audience_blob, tmp_path):
    team = friends(emu, 3)
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text(f"{team[0].user_id}\n{team[1].user_id}\n\n")
    second.write_text(team[2].user_id)
    created = audience_blob.create_audience_for_uploading_user_ids(
        file=str(first), description="from a file", upload_description="first.txt")
    audience_blob.add_user_ids_to_audience(file=str(second),
                                           audience_group_id=created.audience_group_id)
    emu.advance(1)
    data = audiences.get_audience_data(created.audience_group_id)
    assert (data.audience_group.status, data.audience_group.audience_count) == ("READY", 3)
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{team[0].user_id}\nnot-an-id\n")
    with pytest.raises(AudienceApiException) as caught:
        audience_blob.create_audience_for_uploading_user_ids(file=str(bad), description="bad")
    assert caught.value.status == 400 and "file line 2" in caught.value.body


def test_list_filter_rename_and_delete(emulator_server, emu, audiences):
    aiko = friend(emu)
    ids = []
    for name in ("Autumn VIP", "spring", "autumn new"):
        ids.append(audiences.create_audience_group(aud.CreateAudienceGroupRequest(
            description=name, audiences=_ids([aiko]))).audience_group_id)
    emu.advance(1)
    page = audiences.get_audience_groups(page=1, description="AUTUMN")
    assert [g.description for g in page.audience_groups] == ["autumn new", "Autumn VIP"]
    assert (page.total_count, page.has_next_page, page.size) == (2, False, 20)
    page = audiences.get_audience_groups(page=2, size=1)
    assert [g.audience_group_id for g in page.audience_groups] == [ids[1]]
    assert page.has_next_page is True
    assert raw(emulator_server, "GET", "/v2/bot/audienceGroup/list").status_code == 400
    assert raw(emulator_server, "GET",
               "/v2/bot/audienceGroup/list?page=1&size=41").status_code == 400

    audiences.update_audience_group_description(ids[1], aud.UpdateAudienceGroupDescriptionRequest(
        description="spring 2027"))
    assert audiences.get_audience_data(ids[1]).audience_group.description == "spring 2027"
    audiences.delete_audience_group(ids[1])
    with pytest.raises(AudienceApiException) as caught:
        audiences.get_audience_data(ids[1])
    assert caught.value.status == 400
    assert json.loads(caught.value.body) == {"message": "audience group not found", "details": [
        {"message": "AUDIENCE_GROUP_NOT_FOUND"}]}
    assert audiences.get_audience_groups(page=1).total_count == 2


def test_adding_to_an_unknown_or_busy_audience_is_refused(emu, audiences):
    aiko = friend(emu)
    with pytest.raises(AudienceApiException) as caught:
        audiences.add_audience_to_audience_group(aud.AddAudienceToAudienceGroupRequest(
            audience_group_id=42, audiences=_ids([aiko])))
    assert caught.value.status == 400
    group = audiences.create_audience_group(aud.CreateAudienceGroupRequest(
        description="busy", audiences=_ids([aiko]))).audience_group_id
    for _ in range(9):
        audiences.add_audience_to_audience_group(aud.AddAudienceToAudienceGroupRequest(
            audience_group_id=group, audiences=_ids([aiko])))
    with pytest.raises(AudienceApiException) as caught:  # 10 jobs still queued
        audiences.add_audience_to_audience_group(aud.AddAudienceToAudienceGroupRequest(
            audience_group_id=group, audiences=_ids([aiko])))
    assert caught.value.status == 429


# Statistics ----------------------------------------------------------------------------------
def test_statistics_per_unit_count_the_tagged_deliveries(emu, api, insight):
    team = friends(emu, 26)
    api.multicast(msg.MulticastRequest(to=[u.user_id for u in team[:25]],
                                       messages=[text("a"), text("b")],
                                       custom_aggregation_units=["autumn_sale"]))
    api.push_message(msg.PushMessageRequest(to=team[25].user_id, messages=[text("c")],
                                            custom_aggregation_units=["autumn_sale"]))
    api.multicast(msg.MulticastRequest(to=[u.user_id for u in team], messages=[text("untagged")]))
    api.multicast(msg.MulticastRequest(to=[u.user_id for u in team[:5]], messages=[text("x")],
                                       custom_aggregation_units=["small"]))

    stats = insight.get_statistics_per_unit("autumn_sale", TODAY, TODAY)
    assert stats.overview.unique_impression == 26
    assert stats.overview.unique_click is None
    assert [(m.seq, m.impression, m.unique_impression) for m in stats.messages] == \
        [(1, 26, 26), (2, 25, 25)]
    assert stats.clicks == []
    small = insight.get_statistics_per_unit("small", TODAY, TODAY)
    assert small.overview.unique_impression is None  # under 20: hidden
    assert small.messages[0].impression is None
    assert insight.get_statistics_per_unit("autumn_sale", "20261103", "20261130").messages == []
    for bad in (("autumn-sale", TODAY, TODAY), ("autumn_sale", "20261001", "20261102"),
                ("autumn_sale", TODAY, "20261101")):
        with pytest.raises(InsightApiException) as caught:
            insight.get_statistics_per_unit(*bad)
        assert caught.value.status == 400


def test_links_users_open_are_clicks_of_their_unit(emu, api, insight, emulator_server):
    """A user opening a link of a tagged message (SimUser.open_url, or the control API) is a
    click in the unit's statistics, and sends no webhook; under 20 the figures are hidden."""
    team = friends(emu, 30)
    sale, shop = "https://shop.example/r/Ab3", "https://shop.example/"
    button = msg.TemplateMessage(alt_text="sale", template=msg.ButtonsTemplate(
        text="秋のセール", actions=[msg.URIAction(label="見る", uri=shop)]))
    api.multicast(msg.MulticastRequest(to=[u.user_id for u in team[:25]],
                                       messages=[text(f"セール中 {sale} ぜひ"), button],
                                       custom_aggregation_units=["autumn_sale"]))
    api.push_message(msg.PushMessageRequest(to=team[25].user_id, messages=[text(f"{sale} !")],
                                            custom_aggregation_units=["autumn_sale"]))
    api.push_message(msg.PushMessageRequest(to=team[26].user_id, messages=[text(sale)],
                                            custom_aggregation_units=["other"]))
    sent_before = len(emu.webhooks.deliveries)
    for user in team[:22]:
        assert user.open_url(sale).uri == sale
    team[0].open_url(sale)  # twice: one more click, still one user
    team[1].open_url(shop)
    team[26].open_url(sale)  # another unit's message
    opened = raw(emulator_server, "POST", f"/__emulator__/users/{team[25].user_id}/open-url",
                 json={"url": sale})
    assert opened.status_code == 200 and opened.json() == {"events": [], "deliveries": [],
                                                           "uri": sale}
    assert len(emu.webhooks.deliveries) == sent_before  # LINE tells the bot nothing

    stats = insight.get_statistics_per_unit("autumn_sale", TODAY, TODAY)
    assert stats.overview.unique_click == 23
    assert [(c.seq, c.url, c.click, c.unique_click, c.unique_click_of_request)
            for c in stats.clicks] == [(1, sale, 24, 23, 23), (2, shop, None, None, None)]
    assert insight.get_statistics_per_unit("other", TODAY, TODAY).overview.unique_click is None

    with pytest.raises(UserActionError) as caught:
        team[29].open_url(sale)  # nothing in that chat
    assert caught.value.status == 400
    missing = raw(emulator_server, "POST", f"/__emulator__/users/{team[2].user_id}/open-url",
                  json={"url": "https://elsewhere.example/"})
    assert missing.status_code == 400
    assert len(emu.messaging.clicks) == 26  # nothing recorded by the refused ones


def test_a_link_opened_in_a_given_message_counts_for_that_message(emu, api, emulator_server):
    """open_url(url, message_id): the click is on that message (its seq within its request),
    not on the newest one holding the URL; a message without that link is a 400."""
    team = friends(emu, 3)
    url = "https://shop.example/r/Xy9"
    api.multicast(msg.MulticastRequest(to=[u.user_id for u in team],
                                       messages=[text("秋のセール"), text(f"見る {url}")],
                                       custom_aggregation_units=["first"]))
    api.push_message(msg.PushMessageRequest(to=team[1].user_id, messages=[text(url)],
                                            custom_aggregation_units=["second"]))
    greeting, in_multicast, in_push = team[1].inbox
    team[1].open_url(url, message_id=in_multicast["messageId"])
    team[1].open_url(url)  # the newest message holding it: the push
    opened = raw(emulator_server, "POST", f"/__emulator__/users/{team[1].user_id}/open-url",
                 json={"url": url, "messageId": in_multicast["messageId"]})
    assert opened.status_code == 200
    assert [(c["requestId"], c["userId"], c["seq"]) for c in emu.messaging.clicks] == [
        (in_multicast["requestId"], team[1].user_id, 2),
        (in_push["requestId"], team[1].user_id, 1),
        (in_multicast["requestId"], team[1].user_id, 2)]

    with pytest.raises(UserActionError) as caught:
        team[1].open_url(url, message_id=greeting["messageId"])  # no link in that one
    assert caught.value.status == 400
    with pytest.raises(UserActionError):
        team[1].open_url(url, message_id=team[2].inbox[1]["messageId"])  # someone else's
    assert len(emu.messaging.clicks) == 3


def test_aggregation_units_used_this_month(emu, api):
    aiko = friend(emu)
    for unit in ("a_1", "b_2", "a_1", "c_3"):
        api.push_message(msg.PushMessageRequest(to=aiko.user_id, messages=[text()],
                                                custom_aggregation_units=[unit]))
    assert api.get_aggregation_unit_usage().num_of_custom_aggregation_units == 3
    first = api.get_aggregation_unit_name_list(limit="2")
    assert first.custom_aggregation_units == ["a_1", "b_2"] and first.next
    rest = api.get_aggregation_unit_name_list(limit="2", start=first.next)
    assert rest.custom_aggregation_units == ["c_3"] and rest.next is None
    emu.advance(30 * 86400)  # December in UTC+9
    assert api.get_aggregation_unit_usage().num_of_custom_aggregation_units == 0


def test_the_1001st_unit_name_of_a_month_is_silently_dropped(emu, api):
    aiko = friend(emu)
    emu.messaging.units["202611"] = [f"unit_{n}" for n in range(1000)]
    api.push_message(msg.PushMessageRequest(to=aiko.user_id, messages=[text()],
                                            custom_aggregation_units=["one_too_many"]))
    assert len(aiko.inbox) == 1  # sent anyway, untagged
    assert api.get_aggregation_unit_usage().num_of_custom_aggregation_units == 1000
    assert emu.messaging.deliveries[-1]["unit"] is None


def test_daily_sent_counts_follow_lines_status_rules(emu, api):
    team = friends(emu, 20)
    api.multicast(msg.MulticastRequest(to=[u.user_id for u in team], messages=[text()]))
    api.push_message(msg.PushMessageRequest(to=team[0].user_id, messages=[text()]))
    assert api.get_number_of_sent_multicast_messages(TODAY).status == "unready"
    emu.advance(15 * 3600)  # midnight in UTC+9: the day is over
    counted = api.get_number_of_sent_multicast_messages(TODAY)
    assert (counted.status, counted.success) == ("ready", 20)
    assert api.get_number_of_sent_push_messages(TODAY).status == "unavailable_for_privacy"
    assert api.get_number_of_sent_reply_messages(TODAY).status == "unavailable_for_privacy"
    assert api.get_number_of_sent_broadcast_messages("20180330").status == "out_of_service"
    with pytest.raises(ApiException) as caught:
        api.get_number_of_sent_push_messages("2026-11-02")
    assert caught.value.status == 400


def test_insight_deliveries_and_message_events(emu, api, insight):
    team = friends(emu, 21)
    sent = api.broadcast_with_http_info(msg.BroadcastRequest(messages=[text(), text("2")]))
    api.push_message(msg.PushMessageRequest(to=team[0].user_id, messages=[text()]))
    event = insight.get_message_event(sent.headers["x-line-request-id"])
    assert (event.overview.delivered, event.overview.unique_impression) == (21, 21)
    assert [(m.seq, m.impression) for m in event.messages] == [(1, 21), (2, 21)]
    with pytest.raises(InsightApiException) as caught:
        insight.get_message_event("no-such-request")
    assert caught.value.status == 404
    assert insight.get_number_of_message_deliveries(TODAY).status == "unready"
    emu.advance(86400)
    day = insight.get_number_of_message_deliveries(TODAY)
    assert (day.status, day.api_broadcast, day.api_push, day.api_multicast) == ("ready", 21, 1, 0)


def test_number_of_followers(emu, insight):
    team = friends(emu, 4)
    with emu.locked():
        team[3].record.friendship = "blocked"
    emu.add_user("never followed")
    assert insight.get_number_of_followers(var_date=TODAY).status == "unready"
    day = insight.get_number_of_followers(var_date="20261101")
    assert (day.status, day.followers, day.targeted_reaches, day.blocks) == ("ready", 4, 3, 1)
    assert insight.get_number_of_followers().followers == 4  # no date: yesterday
    assert insight.get_number_of_followers(var_date="20161031").status == "out_of_service"
