"""Each channel account gets its adapter, built from the account's settings."""

from __future__ import annotations

import pytest

from langganan.campaigns.channels import adapter_for
from langganan.campaigns.channels.email import EmailAdapter
from langganan.campaigns.channels.sms import SmsGatewayAdapter
from langganan.campaigns.channels.whatsapp import WhatsAppCloudAdapter
from langganan.campaigns.models import ChannelAccount


@pytest.mark.parametrize(
    ("channel", "adapter_class"),
    [("email", EmailAdapter), ("whatsapp", WhatsAppCloudAdapter), ("sms", SmsGatewayAdapter)],
)
def test_account_gets_the_adapter_of_its_channel(channel, adapter_class):
    account = ChannelAccount(channel=channel, settings={"sender": "WARUNGBU"})

    adapter = adapter_for(account)

    assert isinstance(adapter, adapter_class)
    assert adapter.channel == channel
    assert adapter.settings == {"sender": "WARUNGBU"}
