"""Fixtures for the outbox worker: a merchant with an SMS account,
and channels that are real components (an in-process recorder, a local HTTP gateway)."""

from __future__ import annotations

import pytest

from langganan.campaigns.channels import base
from langganan.campaigns.models import ChannelAccount
from tests.factories import MerchantFactory

from .support import RecordingChannel, sms_gateway_start


@pytest.fixture
def channel(monkeypatch) -> RecordingChannel:
    """Every channel's adapter replaced by one in-process recorder."""
    box = RecordingChannel()
    for name in ("email", "whatsapp", "sms"):
        monkeypatch.setitem(base.ADAPTERS, name, box)
    return box


@pytest.fixture
def shop(db):
    """A merchant with an active SMS account."""
    merchant = MerchantFactory()
    ChannelAccount.objects.create(
        merchant=merchant, channel="sms", settings={"url": "http://sms.invalid/", "api_key": "k"}
    )
    return merchant


@pytest.fixture
def sms_gateway():
    gateway, server = sms_gateway_start()
    yield gateway
    server.shutdown()
    server.server_close()
