"""Narrowcast through the official SDK: 202, phases advanced by the emulator clock, recipients
(audience, redelivery, operators), limit.max, the 50-recipient rule and the quota."""

import uuid

import pytest
from linebot.v3 import audience as aud
from linebot.v3 import messaging as msg
from linebot.v3.messaging.exceptions import ApiException

from messaging_support import api, audiences, friends, raw  # noqa: F401


def _narrowcast(api, **fields):
    request = msg.NarrowcastRequest.from_dict({"messages": [{"type": "text", "text": "秋のセール"}],
                                               **fields})
    response = api.narrowcast_with_http_info(request)
    assert response.status_code == 202
    return response.headers["x-line-request-id"]


def _audience(emu, audiences, users, description="vip"):
    created = audiences.create_audience_group(aud.CreateAudienceGroupRequest(
        description=description, audiences=[aud.Audience(id=u.user_id) for u in users]))
    emu.advance(1)  # the upload job finishes: READY
    return created.audience_group_id


def _received(users):
    return [len(u.inbox) for u in users]


def test_a_narrowcast_goes_waiting_sending_succeeded(emu, api):
    team = friends(emu, 60)
    stranger = emu.add_user("not a friend")
    request_id = _narrowcast(api)

    progress = api.get_narrowcast_progress(request_id)
    assert progress.phase == "waiting" and progress.target_count is None
    assert sum(_received(team)) == 0
    emu.advance(1)
    progress = api.get_narrowcast_progress(request_id)
    assert (progress.phase, progress.success_count, progress.target_count) == ("sending", 60, 60)
    assert _received(team) == [1] * 60 and stranger.inbox == []
    assert team[0].inbox[0]["api"] == "narrowcast"
    assert team[0].inbox[0]["requestId"] == request_id
    emu.advance(1)
    done = api.get_narrowcast_progress(request_id)
    assert done.phase == "succeeded" and done.failure_count == 0
    assert done.completed_time.timestamp() == emu.clock.now()
    assert api.get_message_quota_consumption().total_usage == 60


def test_fewer_than_50_recipients_fails_with_error_code_2(emu, api):
    team = friends(emu, 49)
    request_id = _narrowcast(api)
    emu.advance(60)
    progress = api.get_narrowcast_progress(request_id)
    assert (progress.phase, progress.error_code, progress.target_count) == ("failed", 2, 49)
    assert progress.failed_description
    assert sum(_received(team)) == 0
    assert api.get_message_quota_consumption().total_usage == 0


def test_audience_redelivery_and_operators_select_the_recipients(emu, api, audiences):
    team = friends(emu, 70)
    strangers = [emu.add_user(f"s{i}") for i in range(3)]
    vip = _audience(emu, audiences, team[:60] + strangers, "vip")
    opted_out = _audience(emu, audiences, team[:5], "opted out")

    first = _narrowcast(api, recipient={"type": "audience", "audienceGroupId": vip})
    emu.advance(2)
    assert api.get_narrowcast_progress(first).success_count == 60
    second = _narrowcast(api, recipient={"type": "operator", "and": [
        {"type": "redelivery", "requestId": first},
        {"type": "operator", "not": {"type": "audience", "audienceGroupId": opted_out}}]})
    emu.advance(2)
    assert api.get_narrowcast_progress(second).success_count == 55
    assert _received(team[:5]) == [1] * 5
    assert _received(team[5:60]) == [2] * 55
    assert _received(team[60:] + strangers) == [0] * 13


def test_limit_max_picks_that_many_at_random_but_repeatably(emu, api):
    team = friends(emu, 70)
    request_id = _narrowcast(api, limit={"max": 55})
    emu.advance(2)
    assert api.get_narrowcast_progress(request_id).target_count == 55
    assert sum(_received(team)) == 55
    assert _received(team) != [1] * 55 + [0] * 15  # not simply the first 55


@pytest.mark.parametrize("fields, prop", [
    ({"recipient": {"type": "audience", "audienceGroupId": 12345}}, "recipient.audienceGroupId"),
    ({"recipient": {"type": "redelivery", "requestId": str(uuid.uuid4())}},
     "recipient.requestId"),
    ({"recipient": {"type": "operator", "and": []}}, "recipient.and"),
    ({"recipient": {"type": "operator", "or": [
        {"type": "audience", "audienceGroupId": n} for n in range(11)]}}, "recipient"),
    ({"recipient": {"type": "everyone"}}, "recipient.type"),
    ({"filter": {"demographic": {"type": "gender", "oneOf": ["other"]}}},
     "filter.demographic.oneOf"),
    ({"filter": {"demographic": {"type": "age", "gte": "age_40", "lt": "age_20"}}},
     "filter.demographic.lt"),
    ({"limit": {"forbidPartialDelivery": True}}, "limit.forbidPartialDelivery"),
    ({"limit": {"max": 0}}, "limit.max"),
])
def test_bad_narrowcasts_are_400_and_queue_nothing(emulator_server, emu, fields, prop):
    friends(emu, 50)
    answer = raw(emulator_server, "POST", "/v2/bot/message/narrowcast",
                 json={"messages": [{"type": "text", "text": "x"}], **fields})
    assert answer.status_code == 400, answer.text
    assert prop in [d["property"] for d in answer.json()["details"]]
    assert emu.messaging.narrowcasts == {}


def test_an_audience_still_in_progress_cannot_be_targeted(emulator_server, emu, audiences):
    team = friends(emu, 50)
    created = audiences.create_audience_group(aud.CreateAudienceGroupRequest(
        description="new", audiences=[aud.Audience(id=u.user_id) for u in team]))
    answer = raw(emulator_server, "POST", "/v2/bot/message/narrowcast", json={
        "messages": [{"type": "text", "text": "x"}],
        "recipient": {"type": "audience", "audienceGroupId": created.audience_group_id}})
    assert answer.status_code == 400
    assert "IN_PROGRESS" in answer.json()["details"][0]["message"]


def test_demographic_filters_are_accepted(emu, api):
    friends(emu, 50)
    request_id = _narrowcast(api, filter={"demographic": {"type": "operator", "or": [
        {"type": "gender", "oneOf": ["female"]}, {"type": "age", "gte": "age_20"},
        {"type": "area", "oneOf": ["jp_13"]}, {"type": "appType", "oneOf": ["ios"]},
        {"type": "subscriptionPeriod", "gte": "day_7", "lt": "day_365"}]}})
    emu.advance(2)
    assert api.get_narrowcast_progress(request_id).success_count == 50


def test_the_quota_is_reserved_and_can_cap_a_narrowcast(emu, api):
    team = friends(emu, 60)
    emu.config.quota = 55
    with pytest.raises(ApiException) as caught:
        _narrowcast(api)
    assert caught.value.status == 429
    capped = _narrowcast(api, limit={"upToRemainingQuota": True})
    with pytest.raises(ApiException) as caught:  # the 55 are reserved for the narrowcast
        api.push_message(msg.PushMessageRequest(to=team[0].user_id, messages=[
            msg.TextMessage(text="x")]))
    assert caught.value.status == 429
    emu.advance(2)
    assert api.get_narrowcast_progress(capped).success_count == 55
    emu.config.quota = 110
    cancelled = _narrowcast(api, limit={"upToRemainingQuota": True, "forbidPartialDelivery": True})
    emu.advance(2)
    progress = api.get_narrowcast_progress(cancelled)
    assert (progress.phase, progress.error_code) == ("failed", 5)
    assert sum(_received(team)) == 55


def test_progress_of_an_unknown_or_old_request_is_404(emu, api):
    friends(emu, 50)
    with pytest.raises(ApiException) as caught:
        api.get_narrowcast_progress(str(uuid.uuid4()))
    assert caught.value.status == 404
    request_id = _narrowcast(api)
    emu.advance(14 * 86400 + 1)
    with pytest.raises(ApiException) as caught:
        api.get_narrowcast_progress(request_id)
    assert caught.value.status == 404


def test_a_narrowcast_retry_key_is_409_with_the_first_request_id(emu, api):
    team = friends(emu, 50)
    key = str(uuid.uuid4())
    request = msg.NarrowcastRequest(messages=[msg.TextMessage(text="x")])
    first = api.narrowcast_with_http_info(request, x_line_retry_key=key)
    with pytest.raises(ApiException) as caught:
        api.narrowcast(request, x_line_retry_key=key)
    assert caught.value.status == 409
    assert caught.value.headers["x-line-accepted-request-id"] == \
        first.headers["x-line-request-id"]
    emu.advance(2)
    assert _received(team) == [1] * 50
