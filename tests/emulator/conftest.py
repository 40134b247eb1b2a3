"""Fixtures of the emulator tests (the emulator itself comes from tests/conftest.py)."""

import pytest
from linebot.v3.messaging import ApiClient, MessagingApi, MessagingApiBlob


@pytest.fixture
def line(emulator_server):
    """``(MessagingApi, MessagingApiBlob)`` of the official SDK, aimed at the emulator."""
    with ApiClient(emulator_server.messaging_configuration()) as client:
        yield MessagingApi(client), MessagingApiBlob(client)
