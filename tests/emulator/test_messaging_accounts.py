"""Profiles, follower ids, bot info and link tokens, through the official SDK."""

import pytest
from linebot.v3.messaging.exceptions import ApiException

from messaging_support import api, block, friend, friends, raw  # noqa: F401


def _status(call, *args, **kwargs):
    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    return caught.value.status


def test_a_profile_is_visible_only_for_a_friend(emu, api):
    aiko = emu.add_user("相川 愛子", "ja", picture_url="https://example.com/a.png",
                        status_message="よろしく")
    assert _status(api.get_profile, aiko.user_id) == 404  # not a friend yet
    with emu.locked():
        aiko.record.friendship = "friend"
    profile = api.get_profile(aiko.user_id)
    assert (profile.display_name, profile.user_id, profile.language) == \
        ("相川 愛子", aiko.user_id, "ja")
    assert profile.picture_url == "https://example.com/a.png"
    assert profile.status_message == "よろしく"
    block(aiko)
    assert _status(api.get_profile, aiko.user_id) == 404
    assert _status(api.get_profile, "U" + "0" * 32) == 404


def test_follower_ids_page_in_a_stable_order_with_a_cursor(emu, api):
    team = friends(emu, 7)
    emu.add_user("never followed")
    block(team[3])
    expected = [u.user_id for i, u in enumerate(team) if i != 3]

    first = api.get_followers(limit=4)
    assert first.user_ids == expected[:4] and first.next
    block(team[5])  # between pages: nobody else is skipped or repeated
    second = api.get_followers(start=first.next, limit=4)
    assert second.user_ids == [team[6].user_id] and second.next is None
    assert api.get_followers().user_ids == [u for u in expected if u != team[5].user_id]


def test_follower_limits_and_cursors_are_checked(emulator_server, emu):
    friends(emu, 2)
    for query in ("limit=0", "limit=1001", "limit=abc", "start=bogus"):
        answer = raw(emulator_server, "GET", f"/v2/bot/followers/ids?{query}")
        assert answer.status_code == 400, query
    assert len(raw(emulator_server, "GET", "/v2/bot/followers/ids?limit=1000").json()
               ["userIds"]) == 2


def test_bot_info_names_the_bot(emu, api):
    info = api.get_bot_info()
    assert info.user_id == emu.config.bot_user_id
    assert info.basic_id.startswith("@") and len(info.basic_id) == 9
    assert (info.chat_mode, info.mark_as_read_mode) == ("bot", "auto")
    assert info.display_name == emu.messaging.bot_display_name


def test_a_link_token_is_single_use_and_bound_to_its_user(emu, api):
    aiko, ben = friends(emu, 2)
    token = api.issue_link_token(aiko.user_id).link_token
    assert token != api.issue_link_token(aiko.user_id).link_token
    assert emu.messaging.use_link_token(token, ben.user_id) == "failed"  # not consumed ...
    assert emu.messaging.use_link_token(token, aiko.user_id) == "ok"  # ... so Aiko can link
    assert emu.messaging.use_link_token(token, aiko.user_id) is None  # used
    assert emu.messaging.use_link_token("unknown", aiko.user_id) is None


def test_a_link_token_lasts_10_minutes(emu, api):
    aiko = friend(emu)
    early = api.issue_link_token(aiko.user_id).link_token
    emu.advance(5 * 60)
    late = api.issue_link_token(aiko.user_id).link_token
    emu.advance(5 * 60 + 1)
    assert emu.messaging.use_link_token(early, aiko.user_id) is None
    assert emu.messaging.use_link_token(late, aiko.user_id) == "ok"


def test_link_tokens_only_for_friends(emulator_server, emu, api):
    stranger = emu.add_user("stranger")
    blocked = friend(emu, "blocked")
    block(blocked)
    assert _status(api.issue_link_token, stranger.user_id) == 400
    assert _status(api.issue_link_token, blocked.user_id) == 400
    assert _status(api.issue_link_token, "U" + "0" * 32) == 404
    assert raw(emulator_server, "POST", "/v2/bot/user/aiko/linkToken").status_code == 400
    assert emu.messaging.link_tokens == {}
