"""Helpers for the messaging tests: SDK clients aimed at the emulator, friends made without a
webhook round trip, and raw HTTP for the requests the SDK refuses to build."""

import pytest
import requests
from linebot.v3 import audience as aud
from linebot.v3 import insight as ins
from linebot.v3 import messaging as msg

from line_emulator.state import BLOCKED, FRIEND


def friend(emu, name="Aiko"):
    """A user who is the bot's friend (set directly: these tests are about sending)."""
    user = emu.add_user(name)
    with emu.locked():
        user.record.friendship = FRIEND
        user.record.ever_followed = True
    return user


def friends(emu, count, prefix="user"):
    return [friend(emu, f"{prefix}{i}") for i in range(count)]


def block(user):
    with user.emu.locked():
        user.record.friendship = BLOCKED


@pytest.fixture
def api(emulator_server):
    with msg.ApiClient(emulator_server.messaging_configuration()) as client:
        yield msg.MessagingApi(client)


def _config(module, server):
    return module.Configuration(host=server.base_url,
                                access_token=server.emulator.config.access_token)


@pytest.fixture
def insight(emulator_server):
    with ins.ApiClient(_config(ins, emulator_server)) as client:
        yield ins.Insight(client)


@pytest.fixture
def audiences(emulator_server):
    with aud.ApiClient(_config(aud, emulator_server)) as client:
        yield aud.ManageAudience(client)


@pytest.fixture
def audience_blob(emulator_server):
    with aud.ApiClient(_config(aud, emulator_server)) as client:
        yield aud.ManageAudienceBlob(client)


def raw(server, method, path, **kwargs):
    """A request with the channel token but without the SDK's client-side validation."""
    headers = {"Authorization": f"Bearer {server.emulator.config.access_token}",
               **kwargs.pop("headers", {})}
    return requests.request(method, server.base_url + path, headers=headers, timeout=10,
                            **kwargs)


def text(value="こんにちは 🍣"):
    return msg.TextMessage(text=value)


def inbox_texts(user):
    return [(item["api"], item["message"].get("text")) for item in user.inbox]
