import pytest

from tests.web.helpers import log_in_member


@pytest.fixture
def member(client, merchant):
    """An owner of ``merchant``, logged in on ``client``."""
    return log_in_member(client, merchant)
