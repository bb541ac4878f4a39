"""Shared simulations for the demo tests (pure numpy, built once per session)."""

import numpy as np
import pytest

from langganan.demo.btyd import PurchaseParams, simulate_purchases

SEED = 11


@pytest.fixture(scope="session")
def histories():
    return simulate_purchases(
        20_000, PurchaseParams(), horizon_days=548, rng=np.random.default_rng(SEED)
    )
