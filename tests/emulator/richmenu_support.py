"""Helpers shared by the emulator's rich-menu tests: friends and LINE error bodies (the ``line``
fixture, the SDK clients, is in this folder's conftest.py)."""

import json

import pytest
from linebot.v3.messaging import ApiException


def friend(emu, name="Aiko"):
    """A simulated user already a friend of the bot (its record)."""
    user = emu.add_user(name)
    user.record.friendship = "friend"
    return user.record


def friends(emu, count, prefix="User"):
    return [friend(emu, f"{prefix} {i}") for i in range(count)]


def error_of(call, *args, **kwargs):
    """``(status, LINE's JSON error body)`` of an SDK call that must fail."""
    with pytest.raises(ApiException) as info:
        call(*args, **kwargs)
    return info.value.status, json.loads(info.value.body)
